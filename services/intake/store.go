package intake

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/page"
)

// store is the intake service's SQL.
type store struct {
	pool *pgxpool.Pool
}

// codes holds the ids a registration's codes resolve to.
type codes struct {
	place      complaint.Place
	categoryID int64
}

// resolveCodes checks that every code exists and hangs together, naming the
// field that does not.
func (s *store) resolveCodes(ctx context.Context, district, block, ward, category, line string) (codes, error) {
	var c codes
	var err error
	if c.place, err = complaint.ResolvePlace(ctx, s.pool, "location.", district, block, ward); err != nil {
		return c, err
	}
	var categoryID *int64
	var lineOK bool
	err = s.pool.QueryRow(ctx, `SELECT (SELECT id FROM categories WHERE code = $1), EXISTS (SELECT 1 FROM helpline_lines WHERE code = $2)`,
		category, line).Scan(&categoryID, &lineOK)
	switch {
	case err != nil:
		return c, fmt.Errorf("resolve codes: %w", err)
	case categoryID == nil:
		return c, apperr.Invalid("category_code", fmt.Sprintf("unknown category %q", category))
	case !lineOK:
		return c, apperr.Invalid("helpline", fmt.Sprintf("unknown helpline line %q", line))
	}
	c.categoryID = *categoryID
	return c, nil
}

// findByKey returns the complaint registered under an idempotency key and
// its content hash, or ErrNotFound.
func (s *store) findByKey(ctx context.Context, scope, key string) (string, []byte, error) {
	var docket string
	var hash []byte
	err := s.pool.QueryRow(ctx, `SELECT docket, idem_hash FROM complaints WHERE idem_scope = $1 AND idem_key = $2`,
		scope, key).Scan(&docket, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, apperr.ErrNotFound
	}
	return docket, hash, err
}

// upsertCitizen finds the citizen by phone, keeping their latest name and
// language, and returns their id.
func upsertCitizen(ctx context.Context, tx pgx.Tx, phone, name, language string, now time.Time) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO citizens (phone, name, language, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (phone) DO UPDATE SET
		    name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE citizens.name END,
		    language = CASE WHEN excluded.language <> '' THEN excluded.language ELSE citizens.language END,
		    updated_at = excluded.updated_at
		RETURNING id`, phone, name, language, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("upsert citizen: %w", err)
	}
	return id, nil
}

// nextDocketSeq draws the next number of the year's docket sequence.
func nextDocketSeq(ctx context.Context, tx pgx.Tx, year int) (int64, error) {
	var seq int64
	if err := tx.QueryRow(ctx, `SELECT next_docket_seq($1)`, year%100).Scan(&seq); err != nil {
		return 0, fmt.Errorf("docket sequence: %w", err)
	}
	return seq, nil
}

// searchFilter is a validated search.
type searchFilter struct {
	phone, docket, text string
	status              complaint.Status
	limit               int
	after               *page.Cursor
}

// likePattern escapes s for a LIKE pattern matching it anywhere.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// search lists complaints matching every given filter, newest first.
func (s *store) search(ctx context.Context, f searchFilter, scope func(context.Context, func(any) string) string) ([]*complaint.Record, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.phone != "" {
		where = append(where, "ci.phone = "+arg(f.phone))
	}
	if f.docket != "" {
		where = append(where, "c.docket = "+arg(f.docket))
	}
	if f.status != "" {
		where = append(where, "c.status = "+arg(string(f.status)))
	}
	if f.text != "" {
		where = append(where, "(c.description || ' ' || c.locality || ' ' || c.address) ILIKE "+arg(likePattern(f.text)))
	}
	if cond := scope(ctx, arg); cond != "" {
		where = append(where, cond)
	}
	if f.after != nil {
		where = append(where, fmt.Sprintf("(c.created_at, c.id) < (%s, %s)", arg(f.after.At), arg(f.after.ID)))
	}
	q := complaint.SelectSQL + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY c.created_at DESC, c.id DESC LIMIT " + arg(f.limit)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("search complaints: %w", err)
	}
	return complaint.CollectRecords(rows)
}
