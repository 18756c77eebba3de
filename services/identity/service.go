// Package identity is the IdentityService: login with throttling, tokens
// for people and machine clients, and user administration.
package identity

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/auth"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/input"
	"github.com/helpline/helpline/internal/password"
)

// Config tunes logins; throttle.go describes the limits. A zero field
// takes DefaultConfig's value.
type Config struct {
	// SessionTTL is how long a Login token lives.
	SessionTTL time.Duration
	// MaxPairFailures wrong passwords for one username from one address
	// within Window refuse that pair for Cooloff.
	MaxPairFailures int
	// MaxAddressFailures wrong passwords from one address, over every
	// username, within Window refuse that address for Cooloff.
	MaxAddressFailures int
	// Window is the pair's and the address's counting window.
	Window time.Duration
	// Cooloff is how long a pair or an address is refused.
	Cooloff time.Duration
	// MaxUsernameFailures wrong passwords for one username, over every
	// address, within UsernameWindow: beyond them, the addresses that have
	// failed it in that window are refused until it ends.
	MaxUsernameFailures int
	// UsernameWindow is the username's counting window.
	UsernameWindow time.Duration
	// After SlowAfter failures of a username in its window, each
	// wrong-password answer for it waits SlowStep longer, at most SlowMax.
	SlowAfter int
	SlowStep  time.Duration
	SlowMax   time.Duration
}

// DefaultConfig is the production setting.
var DefaultConfig = Config{
	SessionTTL:      12 * time.Hour,
	MaxPairFailures: 10, MaxAddressFailures: 300, Window: time.Minute, Cooloff: 5 * time.Minute,
	MaxUsernameFailures: 100, UsernameWindow: time.Hour,
	SlowAfter: 5, SlowStep: 100 * time.Millisecond, SlowMax: 2 * time.Second,
}

// withDefaults is c with its zero fields taken from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig
	set := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setD(&c.SessionTTL, d.SessionTTL)
	set(&c.MaxPairFailures, d.MaxPairFailures)
	set(&c.MaxAddressFailures, d.MaxAddressFailures)
	setD(&c.Window, d.Window)
	setD(&c.Cooloff, d.Cooloff)
	set(&c.MaxUsernameFailures, d.MaxUsernameFailures)
	setD(&c.UsernameWindow, d.UsernameWindow)
	set(&c.SlowAfter, d.SlowAfter)
	setD(&c.SlowStep, d.SlowStep)
	setD(&c.SlowMax, d.SlowMax)
	return c
}

// Service implements helplinev1.IdentityServiceServer.
type Service struct {
	helplinev1.UnimplementedIdentityServiceServer
	store     *store
	hasher    *password.Hasher
	clock     clock.Clock
	log       *slog.Logger
	cfg       Config
	dummyHash string
	// slowed counts the wrong-password answers slowDown delayed.
	slowed atomic.Int64
}

// SlowedAnswers is how many wrong-password answers this service has
// delayed for a username's failures (the slowing of the login throttle).
func (s *Service) SlowedAnswers() int64 { return s.slowed.Load() }

// New returns the identity service.
func New(pool *pgxpool.Pool, hasher *password.Hasher, clk clock.Clock, log *slog.Logger, cfg Config) *Service {
	dummy, _ := hasher.Hash(context.Background(), "not a real password")
	return &Service{store: &store{pool: pool}, hasher: hasher, clock: clk, log: log, cfg: cfg.withDefaults(), dummyHash: dummy}
}

var errBadCredentials = status.Error(codes.Unauthenticated, "wrong username or password")

func tooMany(until time.Time) error {
	return status.Errorf(codes.ResourceExhausted, "too many failed logins: try again after %s", until.In(clock.IST).Format("15:04:05 MST"))
}

// Login checks a password and issues a session token. Attempts that the
// throttle refuses (throttle.go) get RESOURCE_EXHAUSTED without the hash
// being checked; a wrong password, an unknown username and a disabled user
// get the same UNAUTHENTICATED answer and are counted alike.
func (s *Service) Login(ctx context.Context, req *helplinev1.LoginRequest) (*helplinev1.LoginResponse, error) {
	username, err := input.Text("username", req.GetUsername(), 64, true)
	if err != nil {
		return nil, err
	}
	if req.GetPassword() == "" {
		return nil, apperr.Invalid("password", "required")
	}
	if len(req.GetPassword()) > 1024 {
		return nil, errBadCredentials
	}
	now := s.clock.Now()
	addr := throttleAddress(ctx)
	until, err := s.refusal(ctx, addr, username, now)
	if err != nil {
		return nil, err
	}
	if !until.IsZero() {
		return nil, tooMany(until)
	}
	acct, err := s.store.account(ctx, username)
	ok := false
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		_, _ = s.hasher.Verify(ctx, s.dummyHash, req.GetPassword()) // same time as a real check
	case err != nil:
		return nil, err
	case acct.hash != "":
		if ok, err = s.hasher.Verify(ctx, acct.hash, req.GetPassword()); err != nil && !errors.Is(err, password.ErrMalformed) {
			return nil, err
		}
	}
	if !ok || acct.disabled {
		failures, err := s.store.recordFailure(ctx, addr, username, now, s.cfg)
		if err != nil {
			return nil, err
		}
		s.log.WarnContext(ctx, "login failed", "username", username, "address", addr, "known", acct != nil,
			"disabled", acct != nil && acct.disabled, "username_failures", failures)
		s.slowDown(ctx, failures)
		return nil, errBadCredentials
	}
	if err := s.store.clearPair(ctx, addr, username); err != nil {
		return nil, err
	}
	expires := now.Add(s.cfg.SessionTTL)
	secret, changeRequired, err := s.issueSession(ctx, s.store.pool, acct.id, now, expires)
	if err != nil {
		return nil, err
	}
	u, err := s.store.user(ctx, username)
	if err != nil {
		return nil, err
	}
	return &helplinev1.LoginResponse{Token: secret, ExpiresAt: timestamppb.New(expires), User: u, PasswordChangeRequired: changeRequired}, nil
}

// WhoAmI describes the caller.
func (s *Service) WhoAmI(ctx context.Context, _ *helplinev1.WhoAmIRequest) (*helplinev1.WhoAmIResponse, error) {
	c := caller.From(ctx)
	u, err := s.store.user(ctx, c.Username)
	if err != nil {
		return nil, err
	}
	var expires time.Time
	if err := s.store.pool.QueryRow(ctx, `SELECT expires_at FROM tokens WHERE id = $1`, c.TokenID).Scan(&expires); err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	return &helplinev1.WhoAmIResponse{User: u, TokenExpiresAt: timestamppb.New(expires)}, nil
}

func validUsername(field, v string) (string, error) {
	return input.Username(field, v)
}

func roleFromProto(field string, r helplinev1.Role, required bool) (caller.Role, error) {
	switch r {
	case helplinev1.Role_ROLE_AGENT:
		return caller.Agent, nil
	case helplinev1.Role_ROLE_OFFICER:
		return caller.Officer, nil
	case helplinev1.Role_ROLE_SUPERVISOR:
		return caller.Supervisor, nil
	case helplinev1.Role_ROLE_ADMIN:
		return caller.Admin, nil
	case helplinev1.Role_ROLE_UNSPECIFIED:
		if !required {
			return "", nil
		}
	}
	return "", apperr.Invalid(field, "must be ROLE_AGENT, ROLE_OFFICER, ROLE_SUPERVISOR or ROLE_ADMIN")
}

// CreateUser creates a user with a one-time password (see OperatorChosen).
func (s *Service) CreateUser(ctx context.Context, req *helplinev1.CreateUserRequest) (*helplinev1.CreateUserResponse, error) {
	username, err := validUsername("username", req.GetUsername())
	if err != nil {
		return nil, err
	}
	name, err := input.Text("display_name", req.GetDisplayName(), 200, false)
	if err != nil {
		return nil, err
	}
	role, err := roleFromProto("role", req.GetRole(), true)
	if err != nil {
		return nil, err
	}
	if err := validPassword("password", req.GetPassword(), username); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, req.GetPassword())
	if err != nil {
		return nil, err
	}
	_, err = s.store.pool.Exec(ctx, `INSERT INTO users (username, display_name, role, password_hash, created_at, password_change_required) VALUES ($1, $2, $3, $4, $5, $6)`,
		username, name, string(role), hash, s.clock.Now(), oneTime(ctx))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return nil, fmt.Errorf("user %q exists: %w", username, apperr.ErrAlreadyExists)
	}
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	s.log.InfoContext(ctx, "user created", "username", username, "role", role, "by", caller.From(ctx).Username)
	u, err := s.store.user(ctx, username)
	return &helplinev1.CreateUserResponse{User: u}, err
}

// ListUsers lists users by username, optionally of one role.
func (s *Service) ListUsers(ctx context.Context, req *helplinev1.ListUsersRequest) (*helplinev1.ListUsersResponse, error) {
	role, err := roleFromProto("role", req.GetRole(), false)
	if err != nil {
		return nil, err
	}
	limit := 100
	if ps := req.GetPageSize(); ps < 0 || ps > 1000 {
		return nil, apperr.Invalid("page_size", "must be between 0 and 1000")
	} else if ps > 0 {
		limit = int(ps)
	}
	after := ""
	if tok := req.GetPageToken(); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return nil, apperr.Invalid("page_token", "malformed page token")
		}
		after = string(b)
	}
	list, err := s.store.users(ctx, role, after, limit+1)
	if err != nil {
		return nil, err
	}
	resp := &helplinev1.ListUsersResponse{Users: list}
	if len(list) > limit {
		resp.Users = list[:limit]
		resp.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(list[limit-1].GetUsername()))
	}
	return resp, nil
}

// DisableUser disables a user; their tokens stop working at once.
func (s *Service) DisableUser(ctx context.Context, req *helplinev1.DisableUserRequest) (*helplinev1.DisableUserResponse, error) {
	username, err := validUsername("username", req.GetUsername())
	if err != nil {
		return nil, err
	}
	if username == caller.From(ctx).Username {
		return nil, apperr.Precondition("you cannot disable yourself")
	}
	tag, err := s.store.pool.Exec(ctx, `UPDATE users SET disabled_at = coalesce(disabled_at, $2) WHERE username = $1`, username, s.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("disable user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil, apperr.NotFound("user %q not found", username)
	}
	auth.Invalidate()
	s.log.InfoContext(ctx, "user disabled", "username", username, "by", caller.From(ctx).Username)
	u, err := s.store.user(ctx, username)
	return &helplinev1.DisableUserResponse{User: u}, err
}

// ResetPassword sets a new one-time password (see OperatorChosen), forgets
// the username's failures over every address (not the cooling-off periods
// of pairs and addresses) and ends the user's sessions.
func (s *Service) ResetPassword(ctx context.Context, req *helplinev1.ResetPasswordRequest) (*helplinev1.ResetPasswordResponse, error) {
	username, err := validUsername("username", req.GetUsername())
	if err != nil {
		return nil, err
	}
	if err := validPassword("new_password", req.GetNewPassword(), username); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, req.GetNewPassword())
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var id int64
	err = s.store.pool.QueryRow(ctx, `
		UPDATE users SET password_hash = $2, password_change_required = $3 WHERE username = $1 RETURNING id`, username, hash, oneTime(ctx)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.NotFound("user %q not found", username)
	}
	if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	if _, err := s.store.pool.Exec(ctx, `UPDATE tokens SET revoked_at = $2 WHERE user_id = $1 AND kind = 'SESSION' AND revoked_at IS NULL`, id, now); err != nil {
		return nil, fmt.Errorf("end sessions: %w", err)
	}
	if err := s.store.forgetUsername(ctx, username); err != nil {
		return nil, err
	}
	auth.Invalidate()
	s.log.InfoContext(ctx, "password reset", "username", username, "by", caller.From(ctx).Username)
	return &helplinev1.ResetPasswordResponse{}, nil
}

// IssueToken issues a long-lived API token for a machine client.
func (s *Service) IssueToken(ctx context.Context, req *helplinev1.IssueTokenRequest) (*helplinev1.IssueTokenResponse, error) {
	username, err := validUsername("username", req.GetUsername())
	if err != nil {
		return nil, err
	}
	name, err := input.Text("name", req.GetName(), 100, true)
	if err != nil {
		return nil, err
	}
	ttl := 90 * 24 * time.Hour
	if req.GetTtl() != nil {
		if err := req.GetTtl().CheckValid(); err != nil {
			return nil, apperr.Invalid("ttl", "malformed duration")
		}
		ttl = req.GetTtl().AsDuration()
		if ttl < time.Minute || ttl > 366*24*time.Hour {
			return nil, apperr.Invalid("ttl", "must be between 1 minute and 366 days")
		}
	}
	scope, err := issuedScope(req.GetScope())
	if err != nil {
		return nil, err
	}
	acct, err := s.store.account(ctx, username)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, apperr.NotFound("user %q not found", username)
	}
	if err != nil {
		return nil, err
	}
	if acct.disabled {
		return nil, apperr.Precondition("user %q is disabled", username)
	}
	now := s.clock.Now()
	secret, id, err := insertToken(ctx, s.store.pool, acct.id, "API", scope, name, now, now.Add(ttl))
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "token issued", "username", username, "token_id", id, "name", name, "scope", scope, "by", caller.From(ctx).Username)
	return &helplinev1.IssueTokenResponse{Token: secret, TokenId: strconv.FormatInt(id, 10), ExpiresAt: timestamppb.New(now.Add(ttl))}, nil
}

// issuedScope is the token scope IssueToken stores for a requested one.
func issuedScope(s helplinev1.TokenScope) (caller.Scope, error) {
	switch s {
	case helplinev1.TokenScope_TOKEN_SCOPE_UNSPECIFIED, helplinev1.TokenScope_TOKEN_SCOPE_FULL:
		return caller.FullScope, nil
	case helplinev1.TokenScope_TOKEN_SCOPE_OPEN311:
		return caller.Open311Scope, nil
	}
	return "", apperr.Invalid("scope", "must be TOKEN_SCOPE_FULL or TOKEN_SCOPE_OPEN311")
}

// RevokeToken revokes a token by id or by its secret, or the caller's own.
// Only admins may revoke other users' tokens by id.
func (s *Service) RevokeToken(ctx context.Context, req *helplinev1.RevokeTokenRequest) (*helplinev1.RevokeTokenResponse, error) {
	c := caller.From(ctx)
	now := s.clock.Now()
	var tag pgconn.CommandTag
	var err error
	switch {
	case req.GetTokenId() != "" && req.GetToken() != "":
		return nil, apperr.Invalid("token_id", "give token_id or token, not both")
	case req.GetTokenId() != "":
		id, perr := strconv.ParseInt(req.GetTokenId(), 10, 64)
		if perr != nil || id <= 0 {
			return nil, apperr.Invalid("token_id", "must be a token id")
		}
		tag, err = s.store.pool.Exec(ctx, `UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 AND ($3 OR user_id = $4)`,
			id, now, c.Role == caller.Admin, c.UserID)
	case req.GetToken() != "":
		tag, err = s.store.pool.Exec(ctx, `UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE hash = $1`, auth.HashToken(req.GetToken()), now)
	default:
		tag, err = s.store.pool.Exec(ctx, `UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, c.TokenID, now)
	}
	if err != nil {
		return nil, fmt.Errorf("revoke token: %w", err)
	}
	auth.Invalidate()
	if tag.RowsAffected() == 0 {
		return nil, apperr.NotFound("no such token")
	}
	return &helplinev1.RevokeTokenResponse{}, nil
}
