package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/auth"
	"github.com/helpline/helpline/internal/caller"
)

// store is the identity service's SQL.
type store struct {
	pool *pgxpool.Pool
}

// account is a user row as login needs it.
type account struct {
	id       int64
	role     string
	hash     string
	disabled bool
}

func (s *store) account(ctx context.Context, username string) (*account, error) {
	a := &account{}
	var disabledAt *time.Time
	err := s.pool.QueryRow(ctx, `SELECT id, role, password_hash, disabled_at FROM users WHERE username = $1`, username).
		Scan(&a.id, &a.role, &a.hash, &disabledAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	a.disabled = disabledAt != nil
	return a, nil
}

// counter is a login_throttle row.
type counter struct {
	windowStart time.Time
	failures    int
	lastFailure time.Time
	lockedUntil *time.Time
}

// counters are the three rows a login attempt is judged by; nil when absent.
type counters struct {
	pair, address, username *counter
}

// counters reads the rows of the pair (addr, username), of addr and of
// username, in one query.
func (s *store) counters(ctx context.Context, addr, username string) (counters, error) {
	var c counters
	rows, err := s.pool.Query(ctx, `
		SELECT scope, window_start, failures, last_failure, locked_until FROM login_throttle
		WHERE (scope = 'pair' AND address = $1 AND username = $2)
		   OR (scope = 'address' AND address = $1 AND username = '')
		   OR (scope = 'username' AND address = '' AND username = $2)`, addr, username)
	if err != nil {
		return c, fmt.Errorf("read login counters: %w", err)
	}
	var scope string
	var r counter
	_, err = pgx.ForEachRow(rows, []any{&scope, &r.windowStart, &r.failures, &r.lastFailure, &r.lockedUntil}, func() error {
		row := r
		switch scope {
		case "pair":
			c.pair = &row
		case "address":
			c.address = &row
		case "username":
			c.username = &row
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("read login counters: %w", err)
	}
	return c, nil
}

// windowOpen is true when a login_throttle row t's window has not passed at
// $3 (the pair's and the address's last $6, the username's $8).
const windowOpen = `t.window_start > $3::timestamptz - CASE t.scope WHEN 'username' THEN $8::interval ELSE $6::interval END`

// failuresAfter is a row's failure count with the new one.
const failuresAfter = `CASE WHEN ` + windowOpen + ` THEN t.failures + 1 ELSE 1 END`

// recordFailureSQL counts a failure in the rows of the pair ($1, $2), the
// address $1 and the username $2 at $3; a pair reaching $4 failures or an
// address reaching $5 is refused for $7.
const recordFailureSQL = `
INSERT INTO login_throttle AS t (scope, address, username, window_start, failures, last_failure, locked_until)
VALUES ('pair', $1, $2, $3, 1, $3, CASE WHEN $4::int <= 1 THEN $3::timestamptz + $7::interval END),
       ('address', $1, '', $3, 1, $3, CASE WHEN $5::int <= 1 THEN $3::timestamptz + $7::interval END),
       ('username', '', $2, $3, 1, $3, NULL)
ON CONFLICT (scope, address, username) DO UPDATE SET
    window_start = CASE WHEN ` + windowOpen + ` THEN t.window_start ELSE $3::timestamptz END,
    failures = ` + failuresAfter + `,
    last_failure = $3::timestamptz,
    locked_until = CASE
        WHEN t.scope <> 'username' AND ` + failuresAfter + ` >= CASE t.scope WHEN 'pair' THEN $4::int ELSE $5::int END
        THEN $3::timestamptz + $7::interval
        ELSE t.locked_until END
RETURNING scope, failures`

// recordFailure counts a failed login in the pair's, the address's and the
// username's windows (a window that has passed starts again at now), starts
// a cooling-off period for the pair or the address that reaches its limit,
// and returns the username's failures in its window. The three rows are
// written in one statement, in the same order by every caller.
func (s *store) recordFailure(ctx context.Context, addr, username string, now time.Time, cfg Config) (int, error) {
	rows, err := s.pool.Query(ctx, recordFailureSQL,
		addr, username, now, cfg.MaxPairFailures, cfg.MaxAddressFailures, cfg.Window, cfg.Cooloff, cfg.UsernameWindow)
	if err != nil {
		return 0, fmt.Errorf("record failed login: %w", err)
	}
	var scope string
	var n, usernameFailures int
	_, err = pgx.ForEachRow(rows, []any{&scope, &n}, func() error {
		if scope == "username" {
			usernameFailures = n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("record failed login: %w", err)
	}
	return usernameFailures, nil
}

// clearPair forgets the failures of username from addr, after a success.
func (s *store) clearPair(ctx context.Context, addr, username string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM login_throttle WHERE scope = 'pair' AND address = $1 AND username = $2`, addr, username)
	if err != nil {
		return fmt.Errorf("clear failed logins: %w", err)
	}
	return nil
}

// forgetUsername forgets the failures of username over every address (not
// its pairs' and addresses' cooling-off periods), when an administrator
// sets a new password.
func (s *store) forgetUsername(ctx context.Context, username string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM login_throttle WHERE scope = 'username' AND address = '' AND username = $1`, username)
	if err != nil {
		return fmt.Errorf("clear failed logins: %w", err)
	}
	return nil
}

// purgeCounters deletes at most limit rows without a failure since before
// and without a cooling-off running at now.
func (s *store) purgeCounters(ctx context.Context, before, now time.Time, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `
		DELETE FROM login_throttle WHERE ctid = ANY (ARRAY(
		    SELECT ctid FROM login_throttle
		    WHERE last_failure < $1 AND (locked_until IS NULL OR locked_until <= $2)
		    LIMIT $3))`, before, now, limit)
	if err != nil {
		return 0, fmt.Errorf("purge login throttle: %w", err)
	}
	return tag.RowsAffected(), nil
}

// insertToken stores a new token's hash and returns the secret and its id.
func insertToken(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, userID int64, kind string, scope caller.Scope, name string, now, expires time.Time) (string, int64, error) {
	secret, hash := auth.NewToken()
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO tokens (user_id, hash, kind, scope, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		userID, hash, kind, string(scope), name, now, expires).Scan(&id)
	if err != nil {
		return "", 0, fmt.Errorf("store token: %w", err)
	}
	return secret, id, nil
}

const userSQL = `
SELECT u.username, u.display_name, u.role, u.disabled_at IS NOT NULL, u.created_at,
       coalesce(array_agg(p.code ORDER BY p.code) FILTER (WHERE p.id IS NOT NULL), '{}')
FROM users u LEFT JOIN posts p ON p.holder_user_id = u.id `

func scanUser(row pgx.Row) (*helplinev1.User, error) {
	u := &helplinev1.User{}
	var role string
	var created time.Time
	if err := row.Scan(&u.Username, &u.DisplayName, &role, &u.Disabled, &created, &u.Posts); err != nil {
		return nil, err
	}
	u.Role = helplinev1.Role(helplinev1.Role_value["ROLE_"+role])
	u.CreatedAt = timestamppb.New(created)
	return u, nil
}

func (s *store) user(ctx context.Context, username string) (*helplinev1.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, userSQL+`WHERE u.username = $1 GROUP BY u.id`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.NotFound("user %q not found", username)
	}
	return u, err
}

func (s *store) users(ctx context.Context, role caller.Role, after string, limit int) ([]*helplinev1.User, error) {
	rows, err := s.pool.Query(ctx, userSQL+`WHERE ($1 = '' OR u.role = $1) AND u.username > $2 GROUP BY u.id ORDER BY u.username LIMIT $3`,
		string(role), after, limit)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*helplinev1.User, error) { return scanUser(r) })
}
