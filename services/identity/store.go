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
	id          int64
	role        string
	hash        string
	disabled    bool
	lockedUntil *time.Time
}

func (s *store) account(ctx context.Context, username string) (*account, error) {
	a := &account{}
	var disabledAt *time.Time
	err := s.pool.QueryRow(ctx, `SELECT id, role, password_hash, disabled_at, locked_until FROM users WHERE username = $1`, username).
		Scan(&a.id, &a.role, &a.hash, &disabledAt, &a.lockedUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	a.disabled = disabledAt != nil
	return a, nil
}

// recordFailure counts a failed login in the user's one-minute window and
// starts a cooling-off period when the window holds limit failures.
func (s *store) recordFailure(ctx context.Context, userID int64, now time.Time, limit int, window, cooloff time.Duration) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE users SET
		    failed_logins = CASE WHEN failed_window_start IS NULL OR failed_window_start <= $2::timestamptz - $3::interval THEN 1 ELSE failed_logins + 1 END,
		    failed_window_start = CASE WHEN failed_window_start IS NULL OR failed_window_start <= $2::timestamptz - $3::interval THEN $2::timestamptz ELSE failed_window_start END,
		    locked_until = CASE
		        WHEN failed_window_start IS NOT NULL AND failed_window_start > $2::timestamptz - $3::interval AND failed_logins + 1 >= $4 THEN $2::timestamptz + $5::interval
		        ELSE locked_until END
		WHERE id = $1`, userID, now, window, limit, cooloff)
	if err != nil {
		return fmt.Errorf("record failed login: %w", err)
	}
	return nil
}

func (s *store) clearFailures(ctx context.Context, userID int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE users SET failed_logins = 0, failed_window_start = NULL, locked_until = NULL WHERE id = $1`, userID)
	return err
}

// insertToken stores a new token's hash and returns the secret and its id.
func insertToken(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, userID int64, kind, name string, now, expires time.Time) (string, int64, error) {
	secret, hash := auth.NewToken()
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO tokens (user_id, hash, kind, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		userID, hash, kind, name, now, expires).Scan(&id)
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
