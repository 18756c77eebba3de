package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Replay re-publishes every outbox row written since since, published or
// not, with its event id as Nats-Msg-Id, and waits for JetStream's acks.
// Consumers apply each event once, so a replay inside the retention window
// changes nothing already applied; after a stream was lost it restores it.
func (r *Relay) Replay(ctx context.Context, since time.Time) (int, error) {
	total := 0
	var afterID int64
	for {
		rows, err := r.pool.Query(ctx, `
			SELECT id, event_id::text, subject, payload FROM outbox
			WHERE created_at >= $1 AND id > $2 ORDER BY id LIMIT $3`, since, afterID, r.cfg.Batch)
		if err != nil {
			return total, fmt.Errorf("read outbox: %w", err)
		}
		batch, err := pgx.CollectRows(rows, func(rw pgx.CollectableRow) (row, error) {
			var x row
			return x, rw.Scan(&x.id, &x.eventID, &x.subject, &x.payload)
		})
		if err != nil {
			return total, fmt.Errorf("read outbox: %w", err)
		}
		if len(batch) == 0 {
			return total, nil
		}
		acked, err := r.publish(ctx, batch)
		total += len(acked)
		if err != nil {
			return total, err
		}
		afterID = batch[len(batch)-1].id
	}
}

// Oldest returns when the oldest row still in the outbox was written.
func Oldest(ctx context.Context, pool *pgxpool.Pool) (time.Time, error) {
	var t *time.Time
	err := pool.QueryRow(ctx, `SELECT min(created_at) FROM outbox`).Scan(&t)
	if err != nil || t == nil {
		return time.Time{}, err
	}
	return *t, nil
}
