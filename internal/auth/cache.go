package auth

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpline/helpline/internal/caller"
)

// Resolved tokens are cached, so that checking a token costs microseconds
// rather than a database round trip on every RPC. A cached caller is
// dropped as soon as anything that could change it commits:
//
//   - in this process, the code that changes it calls Invalidate;
//   - in every process, a trigger notifies channel helpline_auth (see
//     migrations/00009_auth_notify.sql) and a listener calls Invalidate.
//
// While the listener is not connected nothing is cached, and an entry
// lives at most cacheTTL in any case.

// cacheTTL bounds how long a cached caller is used.
const cacheTTL = time.Minute

// maxCached bounds the cache; when full it starts again empty.
const maxCached = 100_000

// generation counts invalidations in this process; an entry is valid only
// in the generation it was read in.
var generation atomic.Uint64

// Invalidate drops every cached caller in this process. Call it after
// committing a change to tokens, users or posts.
func Invalidate() { generation.Add(1) }

type cached struct {
	c        caller.Caller
	expires  time.Time // the token's own expiry
	loadedAt time.Time
	gen      uint64
}

// tokenCache maps token hashes to resolved callers.
type tokenCache struct {
	mu        sync.RWMutex
	m         map[string]cached
	listening atomic.Bool
}

func (t *tokenCache) get(hash []byte) (cached, bool) {
	if !t.listening.Load() {
		return cached{}, false
	}
	t.mu.RLock()
	e, ok := t.m[string(hash)]
	t.mu.RUnlock()
	if !ok || e.gen != generation.Load() || time.Since(e.loadedAt) > cacheTTL {
		return cached{}, false
	}
	return e, true
}

// put stores a caller read in generation gen, unless an invalidation came
// since: a read that raced a revocation is never cached.
func (t *tokenCache) put(hash []byte, e cached) {
	if !t.listening.Load() || e.gen != generation.Load() {
		return
	}
	t.mu.Lock()
	if t.m == nil || len(t.m) >= maxCached {
		t.m = make(map[string]cached)
	}
	t.m[string(hash)] = e
	t.mu.Unlock()
}

// listen keeps a connection listening on helpline_auth until ctx ends,
// invalidating on every notification and whenever the connection is lost.
func (t *tokenCache) listen(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := t.listenOnce(ctx, pool)
		t.listening.Store(false)
		Invalidate()
		if ctx.Err() != nil {
			return
		}
		log.Warn("token cache: lost the helpline_auth listener; tokens are checked in the database until it is back", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (t *tokenCache) listenOnce(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN helpline_auth`); err != nil {
		return err
	}
	// Anything cached before the LISTEN took effect may be stale.
	Invalidate()
	t.listening.Store(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		Invalidate()
	}
}
