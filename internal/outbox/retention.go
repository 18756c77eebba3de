package outbox

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpline/helpline/internal/clock"
)

// Purge deletes published outbox rows and consumers' applied-event records
// older than window, in small batches; several replicas may run it at once.
func Purge(ctx context.Context, pool *pgxpool.Pool, clk clock.Clock, window time.Duration) (int64, error) {
	cutoff := clk.Now().Add(-window)
	var total int64
	for _, q := range []string{
		`DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE published_at < $1 LIMIT 5000 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM applied_events WHERE (consumer, event_id) IN (SELECT consumer, event_id FROM applied_events WHERE applied_at < $1 LIMIT 5000 FOR UPDATE SKIP LOCKED)`,
	} {
		for {
			tag, err := pool.Exec(ctx, q, cutoff)
			if err != nil {
				return total, err
			}
			total += tag.RowsAffected()
			if tag.RowsAffected() < 5000 {
				break
			}
		}
	}
	return total, nil
}

// RunPurge purges every interval until ctx ends.
func RunPurge(ctx context.Context, pool *pgxpool.Pool, clk clock.Clock, log *slog.Logger, window, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := Purge(ctx, pool, clk, window); err != nil {
				log.Warn("retention purge failed", "err", err)
			} else if n > 0 {
				log.Info("retention purge", "deleted", n)
			}
		}
	}
}
