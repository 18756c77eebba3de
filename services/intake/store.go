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

// searchFilter is a validated search.
type searchFilter struct {
	phone, docket, text string
	status              complaint.Status
	// group is "open" (not CLOSED) or "closed"; empty is both.
	group string
	// category limits to one category code.
	category string
	// specialPending and escalated limit to proposals awaiting a decision
	// and to open complaints escalated at least once.
	specialPending, escalated bool
	// flagged limits to open complaints flagged for the supervisor.
	flagged bool
	// registeredBy limits to one user's registrations.
	registeredBy string
	// from and to bound created_at: [from, to).
	from, to *time.Time
	limit    int
	after    *page.Cursor
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
	switch f.group {
	case "open":
		where = append(where, "c.status <> "+arg(string(complaint.Closed)))
	case "closed":
		where = append(where, "c.status = "+arg(string(complaint.Closed)))
	}
	if f.specialPending {
		// Only complaints a decision can be made on: never RESOLVED or CLOSED.
		where = append(where, "c.special_closure_pending AND c.status NOT IN ('RESOLVED', 'CLOSED')")
	}
	if f.flagged {
		where = append(where, "c.supervisor_flag IS NOT NULL AND c.status NOT IN ('RESOLVED', 'CLOSED')")
	}
	if f.escalated {
		where = append(where, "c.escalation_count > 0 AND c.status <> "+arg(string(complaint.Closed)))
	}
	if f.category != "" {
		where = append(where, "c.category_id = (SELECT id FROM categories WHERE code = "+arg(f.category)+")")
	}
	if f.registeredBy != "" {
		where = append(where, "c.idem_scope = "+arg(f.registeredBy))
	}
	if f.from != nil {
		where = append(where, "c.created_at >= "+arg(*f.from))
	}
	if f.to != nil {
		where = append(where, "c.created_at < "+arg(*f.to))
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
