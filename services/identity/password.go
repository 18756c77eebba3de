package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/auth"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/password"
)

// Passwords. A password set by someone other than its user (an
// administrator's CreateUser or ResetPassword, an officer import) is a
// one-time password: users.password_change_required is set, and a login
// with it gets a token of caller.PasswordChangeScope, which allows only
// ChangePassword. The server-side `helpline user` commands are the
// exception: the operator there chose the password (OperatorChosen).

type operatorChosenKey struct{}

// OperatorChosen marks ctx as a call from the server-side operator
// commands, whose CreateUser and ResetPassword set a password the user
// chose: it is not a one-time password.
func OperatorChosen(ctx context.Context) context.Context {
	return context.WithValue(ctx, operatorChosenKey{}, true)
}

// oneTime reports whether a password that ctx's caller sets for someone is
// a one-time password.
func oneTime(ctx context.Context) bool {
	chosen, _ := ctx.Value(operatorChosenKey{}).(bool)
	return !chosen
}

// validPassword checks a new password: 10 to 128 code points, and neither
// the username nor containing it, in any letter case.
func validPassword(field, v, username string) error {
	switch n := utf8.RuneCountInString(v); {
	case !utf8.ValidString(v):
		return apperr.Invalid(field, "must be valid UTF-8")
	case n < 10:
		return apperr.Invalid(field, "must be at least 10 characters")
	case n > 128:
		return apperr.Invalid(field, "must be at most 128 characters")
	case username != "" && strings.Contains(strings.ToLower(v), strings.ToLower(username)):
		return apperr.Invalid(field, "must not contain the username")
	}
	return nil
}

// issueSession stores a new session token for a user who just proved
// their password: limited to ChangePassword when that password is a
// one-time password. It reports whether it is.
func (s *Service) issueSession(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, userID int64, now, expires time.Time) (secret string, changeRequired bool, err error) {
	secret, hash := auth.NewToken()
	var scope string
	err = q.QueryRow(ctx, `
		INSERT INTO tokens (user_id, hash, kind, scope, name, created_at, expires_at)
		SELECT id, $2, 'SESSION', CASE WHEN password_change_required THEN 'PASSWORD_CHANGE' ELSE 'FULL' END, 'login', $3, $4
		FROM users WHERE id = $1
		RETURNING scope`, userID, hash, now, expires).Scan(&scope)
	if err != nil {
		return "", false, fmt.Errorf("store token: %w", err)
	}
	return secret, caller.Scope(scope) == caller.PasswordChangeScope, nil
}

// errWrongOldPassword answers a ChangePassword whose old password is wrong.
var errWrongOldPassword = apperr.WrongSecret("old_password", "wrong password")

// ChangePassword changes the caller's own password. A wrong old password
// counts as a failed login. On success the one-time mark is cleared, every
// session of the user (the calling one too) is ended, API tokens are kept,
// and a fresh session token with the user's full access is returned.
func (s *Service) ChangePassword(ctx context.Context, req *helplinev1.ChangePasswordRequest) (*helplinev1.ChangePasswordResponse, error) {
	c := caller.From(ctx)
	if req.GetOldPassword() == "" {
		return nil, apperr.Invalid("old_password", "required")
	}
	if len(req.GetOldPassword()) > 1024 {
		return nil, apperr.Invalid("old_password", "must be at most 1024 bytes")
	}
	if err := validPassword("new_password", req.GetNewPassword(), c.Username); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	acct, err := s.store.account(ctx, c.Username)
	if err != nil {
		return nil, err
	}
	addr := throttleAddress(ctx)
	until, err := s.refusal(ctx, addr, c.Username, now)
	if err != nil {
		return nil, err
	}
	if !until.IsZero() {
		return nil, tooMany(until)
	}
	ok := false
	if acct.hash != "" {
		if ok, err = s.hasher.Verify(ctx, acct.hash, req.GetOldPassword()); err != nil && !errors.Is(err, password.ErrMalformed) {
			return nil, err
		}
	}
	if !ok {
		// A wrong old password is a failed login, in the same counters.
		failures, err := s.store.recordFailure(ctx, addr, c.Username, now, s.cfg)
		if err != nil {
			return nil, err
		}
		s.log.WarnContext(ctx, "password change refused: wrong old password", "username", c.Username, "address", addr)
		s.slowDown(ctx, failures)
		return nil, errWrongOldPassword
	}
	if req.GetNewPassword() == req.GetOldPassword() {
		return nil, apperr.Invalid("new_password", "must differ from the current password")
	}
	hash, err := s.hasher.Hash(ctx, req.GetNewPassword())
	if err != nil {
		return nil, err
	}
	expires := now.Add(s.cfg.SessionTTL)
	var secret string
	err = pgx.BeginFunc(ctx, s.store.pool, func(tx pgx.Tx) error {
		// Only over the password just checked: a reset in between wins.
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $3, password_change_required = false WHERE id = $1 AND password_hash = $2`,
			acct.id, acct.hash, hash)
		if err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return apperr.Precondition("the password was changed meanwhile: log in again")
		}
		if _, err := tx.Exec(ctx, `UPDATE tokens SET revoked_at = $2 WHERE user_id = $1 AND kind = 'SESSION' AND revoked_at IS NULL`, acct.id, now); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		secret, _, err = s.issueSession(ctx, tx, acct.id, now, expires)
		return err
	})
	auth.Invalidate()
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "password changed", "username", c.Username)
	u, err := s.store.user(ctx, c.Username)
	if err != nil {
		return nil, err
	}
	return &helplinev1.ChangePasswordResponse{Token: secret, ExpiresAt: timestamppb.New(expires), User: u}, nil
}
