package routing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/complaint"
)

// dbtx is the pool, or the transaction of an import.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// store is the routing service's SQL: master data and routing decisions.
type store struct {
	pool *pgxpool.Pool
}

// upsertLocation creates or renames a location node. It refuses a code
// already used by a node of another kind or under another parent.
func upsertLocation(ctx context.Context, tx pgx.Tx, field, kind, code string, parentID *int64, name, nameHi string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO locations (kind, code, parent_id, name, name_hi) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_hi = excluded.name_hi
		WHERE locations.kind = excluded.kind AND locations.parent_id IS NOT DISTINCT FROM excluded.parent_id
		RETURNING id`, kind, code, parentID, name, nameHi).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, apperr.Invalid(field, fmt.Sprintf("code %q is already used elsewhere in the location tree", code))
	}
	if err != nil {
		return 0, fmt.Errorf("upsert location: %w", err)
	}
	return id, nil
}

// listDistricts returns the whole location tree.
func (s *store) listDistricts(ctx context.Context, only string) ([]*helplinev1.District, error) {
	rows, err := s.pool.Query(ctx, `
		WITH RECURSIVE tree AS (
		    SELECT id, kind, code, parent_id, name, name_hi FROM locations WHERE kind = 'DISTRICT' AND ($1 = '' OR code = $1)
		    UNION ALL
		    SELECT l.id, l.kind, l.code, l.parent_id, l.name, l.name_hi FROM locations l JOIN tree t ON l.parent_id = t.id
		)
		SELECT id, kind, code, coalesce(parent_id, 0), name, name_hi FROM tree ORDER BY kind = 'DISTRICT' DESC, kind = 'BLOCK' DESC, code`, only)
	if err != nil {
		return nil, fmt.Errorf("list locations: %w", err)
	}
	defer rows.Close()
	var districts []*helplinev1.District
	byDistrict := map[int64]*helplinev1.District{}
	byBlock := map[int64]*helplinev1.Block{}
	for rows.Next() {
		var id, parent int64
		var kind, code, name, nameHi string
		if err := rows.Scan(&id, &kind, &code, &parent, &name, &nameHi); err != nil {
			return nil, fmt.Errorf("list locations: %w", err)
		}
		switch kind {
		case "DISTRICT":
			d := &helplinev1.District{Code: code, Name: name, NameHi: nameHi}
			byDistrict[id] = d
			districts = append(districts, d)
		case "BLOCK":
			b := &helplinev1.Block{Code: code, Name: name, NameHi: nameHi}
			byBlock[id] = b
			if d := byDistrict[parent]; d != nil {
				d.Blocks = append(d.Blocks, b)
			}
		case "WARD":
			if b := byBlock[parent]; b != nil {
				b.Wards = append(b.Wards, &helplinev1.Ward{Code: code, Name: name, NameHi: nameHi})
			}
		}
	}
	return districts, rows.Err()
}

// idOf returns the id of a master data row by code, or an INVALID_ARGUMENT naming field.
func idOf(ctx context.Context, q complaint.Querier, table, field, code string) (int64, error) {
	var id int64
	// table is always a constant of this package.
	err := q.QueryRow(ctx, `SELECT id FROM `+table+` WHERE code = $1`, code).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, apperr.Invalid(field, fmt.Sprintf("unknown %s %q", table[:len(table)-1], code))
	}
	if err != nil {
		return 0, fmt.Errorf("look up %s: %w", table, err)
	}
	return id, nil
}

// listUnrouted pages the unrouted queue oldest first.
func (s *store) listUnrouted(ctx context.Context, districtID *int64, afterCreated *time.Time, afterID int64, limit int) ([]*complaint.Record, error) {
	rows, err := s.pool.Query(ctx, complaint.SelectSQL+`
		WHERE c.status = 'UNROUTED' AND ($1::bigint IS NULL OR c.district_id = $1)
		  AND ($2::timestamptz IS NULL OR (c.created_at, c.id) > ($2, $3))
		ORDER BY c.created_at, c.id LIMIT $4`, districtID, afterCreated, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list unrouted: %w", err)
	}
	return complaint.CollectRecords(rows)
}
