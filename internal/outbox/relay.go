package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/telemetry"
)

// RelayConfig tunes a Relay.
type RelayConfig struct {
	// Batch is the most rows published per transaction.
	Batch int
	// Poll is how often the relay looks for rows when nobody woke it.
	Poll time.Duration
	// AckTimeout bounds the wait for JetStream's acknowledgements.
	AckTimeout time.Duration
}

// Relay publishes outbox rows to JetStream. Each batch locks its rows with
// FOR UPDATE SKIP LOCKED, publishes them with the event id as Nats-Msg-Id,
// waits for the acks and only then marks them published, so several relays
// may run at once and a crash between publish and mark only republishes
// rows JetStream deduplicates. It selects every unpublished row rather than
// rows after a high-water mark, so a transaction that commits late is never
// skipped.
type Relay struct {
	pool  *pgxpool.Pool
	js    jetstream.JetStream
	clock clock.Clock
	log   *slog.Logger
	cfg   RelayConfig
	wake  chan struct{}

	published  atomic.Int64
	duplicates atomic.Int64
}

// Stats returns how many events this relay had acknowledged by JetStream,
// and how many of those JetStream reported as duplicates of an earlier
// publish (a crash between publish and mark, or two relays racing).
func (r *Relay) Stats() (published, duplicates int64) {
	return r.published.Load(), r.duplicates.Load()
}

// NewRelay returns a relay; call Run to start it.
func NewRelay(pool *pgxpool.Pool, js jetstream.JetStream, clk clock.Clock, log *slog.Logger, cfg RelayConfig) *Relay {
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 5 * time.Second
	}
	return &Relay{pool: pool, js: js, clock: clk, log: log, cfg: cfg, wake: make(chan struct{}, 1)}
}

// Wake tells the relay that rows were committed; it never blocks.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends, retrying failures forever with backoff.
func (r *Relay) Run(ctx context.Context) error {
	poll := time.NewTicker(r.cfg.Poll)
	defer poll.Stop()
	backoff := 100 * time.Millisecond
	for {
		n, err := r.PublishBatch(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			r.log.Warn("outbox relay: publish failed; retrying", "err", err, "published", n, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if n == r.cfg.Batch {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-poll.C:
		}
	}
}

type row struct {
	id      int64
	eventID string
	subject string
	payload []byte
	trace   string
}

// PublishBatch publishes one batch of unpublished rows and returns how many
// it marked published.
func (r *Relay) PublishBatch(ctx context.Context) (int, error) {
	published := 0
	err := db.InTx(ctx, r.pool, func(tx pgx.Tx) error {
		// Marking rows published need not wait for its WAL flush: if
		// PostgreSQL loses the mark in a crash, the rows are published
		// again within seconds and JetStream drops them as duplicates (by
		// event id, within its duplicate window; consumers drop redelivered
		// event ids in any case). One fsync less per batch.
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return fmt.Errorf("relay transaction: %w", err)
		}
		rows, err := tx.Query(ctx, `
			SELECT id, event_id::text, subject, payload, trace_parent FROM outbox
			WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, r.cfg.Batch)
		if err != nil {
			return fmt.Errorf("select outbox: %w", err)
		}
		batch, err := pgx.CollectRows(rows, func(rw pgx.CollectableRow) (row, error) {
			var x row
			return x, rw.Scan(&x.id, &x.eventID, &x.subject, &x.payload, &x.trace)
		})
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		acked, pubErr := r.publish(ctx, batch)
		if len(acked) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE outbox SET published_at = $1 WHERE id = ANY($2)`, r.clock.Now(), acked); err != nil {
				return fmt.Errorf("mark published: %w", err)
			}
		}
		published = len(acked)
		if pubErr != nil && len(acked) == 0 {
			return pubErr
		}
		if pubErr != nil {
			// Commit what was acked; the caller retries the rest.
			r.log.Warn("outbox relay: part of a batch was not acknowledged", "err", pubErr, "acked", len(acked), "batch", len(batch))
		}
		return nil
	})
	return published, err
}

var tracer = telemetry.Tracer("outbox")

// publish sends every row asynchronously, then waits for the acks, and
// returns the ids JetStream acknowledged.
func (r *Relay) publish(ctx context.Context, batch []row) ([]int64, error) {
	futures := make([]jetstream.PubAckFuture, 0, len(batch))
	var firstErr error
	// A traced command's event is published in a span of its trace, whose
	// context travels on in the message headers to every consumer.
	spans := make([]trace.Span, 0, len(batch))
	defer func() {
		for _, sp := range spans {
			sp.End()
		}
	}()
	for _, x := range batch {
		msg := &nats.Msg{Subject: x.subject, Data: x.payload, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, x.eventID)
		if x.trace != "" {
			sctx, sp := tracer.Start(telemetry.WithTraceParent(ctx, x.trace), "publish "+x.subject,
				trace.WithSpanKind(trace.SpanKindProducer),
				trace.WithAttributes(attribute.String("messaging.system", "nats"),
					attribute.String("messaging.destination.name", x.subject),
					attribute.String("messaging.message.id", x.eventID)))
			telemetry.InjectNATS(sctx, msg.Header)
			spans = append(spans, sp)
		}
		f, err := r.js.PublishMsgAsync(msg)
		if err != nil {
			firstErr = fmt.Errorf("publish %s: %w", x.eventID, err)
			break
		}
		futures = append(futures, f)
	}
	timeout := time.NewTimer(r.cfg.AckTimeout)
	defer timeout.Stop()
	acked := make([]int64, 0, len(futures))
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			acked = append(acked, batch[i].id)
			r.published.Add(1)
			if ack != nil && ack.Duplicate {
				r.duplicates.Add(1)
			}
		case err := <-f.Err():
			if firstErr == nil {
				firstErr = fmt.Errorf("publish %s: %w", batch[i].eventID, err)
			}
		case <-timeout.C:
			if firstErr == nil {
				firstErr = errors.New("timed out waiting for JetStream acknowledgements")
			}
			return acked, firstErr
		case <-ctx.Done():
			return acked, ctx.Err()
		}
	}
	return acked, firstErr
}

// Backlog returns how many rows wait to be published.
func Backlog(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var n int64
	err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE published_at IS NULL`).Scan(&n)
	return n, err
}
