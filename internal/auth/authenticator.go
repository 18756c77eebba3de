package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clientaddr"
	"github.com/helpline/helpline/internal/clock"
)

// Authenticator resolves the caller of every RPC from its bearer token.
// Resolved tokens are cached (see tokenCache): revocation and disabling
// take effect at once in the process that made them and within
// milliseconds in every other, through a PostgreSQL notification.
type Authenticator struct {
	pool  *pgxpool.Pool
	clock clock.Clock
	log   *slog.Logger
	cache tokenCache
}

// Run keeps the cache's invalidation listener connected until ctx ends;
// without it running, every call reads the token from the database.
func (a *Authenticator) Run(ctx context.Context) { a.cache.listen(ctx, a.pool, a.log) }

// Caching reports whether the invalidation listener is connected, so that
// resolved tokens are cached.
func (a *Authenticator) Caching() bool { return a.cache.listening.Load() }

// NewAuthenticator returns an authenticator reading tokens from pool.
func NewAuthenticator(pool *pgxpool.Pool, clk clock.Clock, log *slog.Logger) *Authenticator {
	return &Authenticator{pool: pool, clock: clk, log: log}
}

var errNoToken = status.Error(codes.Unauthenticated, "missing bearer token: send metadata 'authorization: Bearer <token>' (get one with IdentityService/Login)")
var errBadToken = status.Error(codes.Unauthenticated, "invalid, expired or revoked token")

// Resolve authenticates a call to fullMethod and applies the token's scope
// (Scopes) and the policy table.
func (a *Authenticator) Resolve(ctx context.Context, fullMethod string) (caller.Caller, error) {
	if Public[fullMethod] {
		return caller.From(ctx), nil
	}
	secret, ok := bearer(ctx)
	if !ok {
		return caller.Caller{}, errNoToken
	}
	c, err := a.lookupCached(ctx, secret)
	if err != nil {
		return caller.Caller{}, err
	}
	if rule, limited := Scopes[c.Scope]; limited && (!slices.Contains(rule.Methods, fullMethod) || rule.Via != "" && clientaddr.Via(ctx) != rule.Via) {
		return caller.Caller{}, status.Error(codes.PermissionDenied, rule.Refusal)
	}
	roles, ok := Policy[fullMethod]
	if !ok {
		a.log.Error("rpc has no policy entry: refused", "method", fullMethod)
		return caller.Caller{}, status.Error(codes.PermissionDenied, "this RPC has no access policy")
	}
	if !slices.Contains(roles, c.Role) {
		return caller.Caller{}, status.Errorf(codes.PermissionDenied, "role %s may not call %s", c.Role, fullMethod[strings.LastIndex(fullMethod, "/")+1:])
	}
	return c, nil
}

func bearer(ctx context.Context) (string, bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		scheme, tok, found := strings.Cut(strings.TrimSpace(v), " ")
		if found && strings.EqualFold(scheme, "bearer") && strings.TrimSpace(tok) != "" {
			return strings.TrimSpace(tok), true
		}
	}
	return "", false
}

// lookupCached is Lookup through the cache.
func (a *Authenticator) lookupCached(ctx context.Context, secret string) (caller.Caller, error) {
	hash := HashToken(secret)
	if e, ok := a.cache.get(hash); ok {
		if !a.clock.Now().Before(e.expires) {
			return caller.Caller{}, errBadToken
		}
		return e.c, nil
	}
	gen := generation.Load()
	loadedAt := time.Now()
	c, expires, err := a.lookup(ctx, hash)
	if err != nil {
		return c, err
	}
	a.cache.put(hash, cached{c: c, expires: expires, loadedAt: loadedAt, gen: gen})
	return c, nil
}

// Lookup finds the live token's user and the posts they hold, in the database.
func (a *Authenticator) Lookup(ctx context.Context, secret string) (caller.Caller, error) {
	c, _, err := a.lookup(ctx, HashToken(secret))
	return c, err
}

func (a *Authenticator) lookup(ctx context.Context, hash []byte) (caller.Caller, time.Time, error) {
	var c caller.Caller
	var role, scope string
	var expires time.Time
	var ids, depts, districts []int64
	var codes []string
	err := a.pool.QueryRow(ctx, `
		SELECT t.id, u.id, u.username, u.role, t.scope, t.expires_at,
		       coalesce(array_agg(p.id ORDER BY p.id) FILTER (WHERE p.id IS NOT NULL), '{}'),
		       coalesce(array_agg(p.code ORDER BY p.id) FILTER (WHERE p.id IS NOT NULL), '{}'),
		       coalesce(array_agg(p.department_id ORDER BY p.id) FILTER (WHERE p.id IS NOT NULL), '{}'),
		       coalesce(array_agg(coalesce(p.district_id, 0) ORDER BY p.id) FILTER (WHERE p.id IS NOT NULL), '{}')
		FROM tokens t JOIN users u ON u.id = t.user_id LEFT JOIN posts p ON p.holder_user_id = u.id
		WHERE t.hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL
		GROUP BY t.id, u.id`, hash).Scan(&c.TokenID, &c.UserID, &c.Username, &role, &scope, &expires, &ids, &codes, &depts, &districts)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, expires, errBadToken
	}
	if err != nil {
		return c, expires, fmt.Errorf("look up token: %w", err)
	}
	if !a.clock.Now().Before(expires) {
		return c, expires, errBadToken
	}
	c.Role = caller.Role(role)
	c.Scope = caller.Scope(scope)
	for i := range ids {
		c.Posts = append(c.Posts, caller.Post{ID: ids[i], Code: codes[i], DepartmentID: depts[i], DistrictID: districts[i]})
	}
	return c, expires, nil
}
