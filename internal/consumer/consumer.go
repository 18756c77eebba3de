// Package consumer runs durable JetStream consumers of complaint events that
// apply each event exactly once: the effect and the event id are written in
// the same transaction, and an event older than the newest version the
// consumer applied for that complaint is ignored.
package consumer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/natsbus"
)

// Handler applies one event inside tx. An error wrapping ErrPermanent is
// logged and the event dropped; any other error is retried.
type Handler func(ctx context.Context, tx pgx.Tx, ev *helplinev1.ComplaintEvent) error

// ErrPermanent marks an event that can never be applied.
var ErrPermanent = errors.New("permanent failure")

// Config names a consumer and what it consumes.
type Config struct {
	// Name is the durable consumer name and the key of its applied-event records.
	Name string
	// Events are the event types consumed, e.g. "registered"; none means all.
	Events []string
	// Handler applies an event.
	Handler Handler
	// Batch is the most messages fetched at once.
	Batch int
	// AfterCommit, when set, runs after every committed batch (e.g. to wake the relay).
	AfterCommit func()
	// Batched applies a whole fetch with Handler in one transaction (far
	// fewer commits); when that transaction fails, the fetch is applied
	// event by event, so one bad event never holds back its neighbours.
	Batched bool
	// EveryEvent applies every event once whatever its order, for consumers
	// whose effect is per event (a notification) rather than the latest
	// state of the complaint; others ignore an event older than the newest
	// version they applied.
	EveryEvent bool
	// BatchHandler, when set instead of Handler, applies every event of a
	// fetch in one transaction: the events it gets are already deduplicated
	// and version-checked, ordered by complaint and version, so that
	// concurrent batches take their locks in the same order.
	BatchHandler func(ctx context.Context, tx pgx.Tx, evs []*helplinev1.ComplaintEvent) error
}

// Consumer is a running durable consumer.
type Consumer struct {
	cfg   Config
	pool  *pgxpool.Pool
	js    jetstream.JetStream
	clock clock.Clock
	log   *slog.Logger
}

// New returns a consumer; call Run to start it.
func New(cfg Config, pool *pgxpool.Pool, js jetstream.JetStream, clk clock.Clock, log *slog.Logger) *Consumer {
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	return &Consumer{cfg: cfg, pool: pool, js: js, clock: clk, log: log.With("consumer", cfg.Name)}
}

func (c *Consumer) ensure(ctx context.Context) (jetstream.Consumer, error) {
	subjects := []string{natsbus.SubjectPrefix + ">"}
	if len(c.cfg.Events) > 0 {
		subjects = subjects[:0]
		for _, e := range c.cfg.Events {
			subjects = append(subjects, natsbus.Subject(e))
		}
	}
	return c.js.CreateOrUpdateConsumer(ctx, natsbus.StreamName, jetstream.ConsumerConfig{
		Durable:        c.cfg.Name,
		FilterSubjects: subjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        30 * time.Second,
		MaxAckPending:  10000,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
}

// Run fetches and applies events until ctx ends, retrying failures forever.
func (c *Consumer) Run(ctx context.Context) error {
	var cons jetstream.Consumer
	for cons == nil {
		var err error
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cons, err = c.ensure(callCtx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			c.log.Warn("create consumer failed; retrying", "err", err)
			sleep(ctx, time.Second)
		}
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(c.cfg.Batch, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			c.log.Warn("fetch failed; retrying", "err", err)
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		applied := 0
		if c.cfg.BatchHandler != nil || c.cfg.Batched {
			var msgs []jetstream.Msg
			for msg := range batch.Messages() {
				msgs = append(msgs, msg)
			}
			applied = c.handleBatch(ctx, msgs)
		} else {
			for msg := range batch.Messages() {
				if c.handle(ctx, msg) {
					applied++
				}
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil {
			c.log.Debug("fetch ended", "err", err)
		}
		if applied > 0 && c.cfg.AfterCommit != nil {
			c.cfg.AfterCommit()
		}
	}
	return nil
}

// handle applies one message and acks it; it reports whether a transaction committed.
func (c *Consumer) handle(ctx context.Context, msg jetstream.Msg) bool {
	ev := &helplinev1.ComplaintEvent{}
	if err := proto.Unmarshal(msg.Data(), ev); err != nil || ev.GetId() == "" {
		c.log.Error("undecodable event dropped", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return false
	}
	err := c.Apply(ctx, ev)
	switch {
	case err == nil:
		if err := msg.Ack(); err != nil {
			c.log.Warn("ack failed; the event will be redelivered and ignored", "event", ev.GetId(), "err", err)
		}
		return true
	case errors.Is(err, ErrPermanent):
		c.log.Error("event dropped", "event", ev.GetId(), "type", ev.GetType(), "docket", ev.GetDocket(), "err", err)
		_ = msg.Term()
		return false
	default:
		if ctx.Err() == nil {
			c.log.Warn("apply failed; will retry", "event", ev.GetId(), "type", ev.GetType(), "err", err)
		}
		_ = msg.NakWithDelay(time.Second)
		return false
	}
}

// Apply applies ev once: a redelivered event or one older than the newest
// version applied for its complaint changes nothing.
func (c *Consumer) Apply(ctx context.Context, ev *helplinev1.ComplaintEvent) error {
	if c.cfg.BatchHandler != nil {
		return c.ApplyBatch(ctx, []*helplinev1.ComplaintEvent{ev})
	}
	return db.InTx(ctx, c.pool, func(tx pgx.Tx) error {
		fresh, err := c.claim(ctx, tx, ev)
		if err != nil || !fresh {
			return err
		}
		return c.cfg.Handler(ctx, tx, ev)
	})
}

// ApplyBatch applies events with the BatchHandler in one transaction, each
// once, ignoring those older than what was applied for their complaint.
func (c *Consumer) ApplyBatch(ctx context.Context, evs []*helplinev1.ComplaintEvent) error {
	sorted := slices.Clone(evs)
	slices.SortStableFunc(sorted, func(a, b *helplinev1.ComplaintEvent) int {
		return cmp.Or(cmp.Compare(a.GetComplaintId(), b.GetComplaintId()), cmp.Compare(a.GetVersion(), b.GetVersion()))
	})
	return db.InTx(ctx, c.pool, func(tx pgx.Tx) error {
		fresh := make([]*helplinev1.ComplaintEvent, 0, len(sorted))
		for _, ev := range sorted {
			ok, err := c.claim(ctx, tx, ev)
			if err != nil {
				return err
			}
			if ok {
				fresh = append(fresh, ev)
			}
		}
		if len(fresh) == 0 {
			return nil
		}
		if c.cfg.BatchHandler != nil {
			return c.cfg.BatchHandler(ctx, tx, fresh)
		}
		for _, ev := range fresh {
			if err := c.cfg.Handler(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// claim records ev as applied by this consumer and reports whether it is
// new and newer than the complaint's last applied version.
func (c *Consumer) claim(ctx context.Context, tx pgx.Tx, ev *helplinev1.ComplaintEvent) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO applied_events (consumer, event_id, applied_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		c.cfg.Name, ev.GetId(), c.clock.Now())
	if err != nil {
		return false, fmt.Errorf("record applied event: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil // applied before
	}
	if c.cfg.EveryEvent {
		return true, nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO consumer_versions (consumer, complaint_id, version) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`,
		c.cfg.Name, ev.GetComplaintId()); err != nil {
		return false, fmt.Errorf("consumer version: %w", err)
	}
	var applied int64
	if err := tx.QueryRow(ctx, `SELECT version FROM consumer_versions WHERE consumer = $1 AND complaint_id = $2 FOR UPDATE`,
		c.cfg.Name, ev.GetComplaintId()).Scan(&applied); err != nil {
		return false, fmt.Errorf("consumer version: %w", err)
	}
	if ev.GetVersion() <= applied {
		return false, nil // older than what this consumer already applied
	}
	_, err = tx.Exec(ctx, `UPDATE consumer_versions SET version = $3 WHERE consumer = $1 AND complaint_id = $2`,
		c.cfg.Name, ev.GetComplaintId(), ev.GetVersion())
	return err == nil, err
}

// handleBatch applies a fetch's messages in one transaction and acks them;
// it reports how many it applied.
func (c *Consumer) handleBatch(ctx context.Context, msgs []jetstream.Msg) int {
	evs := make([]*helplinev1.ComplaintEvent, 0, len(msgs))
	var ok []jetstream.Msg
	for _, msg := range msgs {
		ev := &helplinev1.ComplaintEvent{}
		if err := proto.Unmarshal(msg.Data(), ev); err != nil || ev.GetId() == "" {
			c.log.Error("undecodable event dropped", "subject", msg.Subject(), "err", err)
			_ = msg.Term()
			continue
		}
		evs, ok = append(evs, ev), append(ok, msg)
	}
	if len(evs) == 0 {
		return 0
	}
	if err := c.ApplyBatch(ctx, evs); err != nil {
		if c.cfg.BatchHandler == nil && ctx.Err() == nil {
			// One event may be at fault: apply them one by one.
			applied := 0
			for _, m := range ok {
				if c.handle(ctx, m) {
					applied++
				}
			}
			return applied
		}
		if ctx.Err() == nil {
			c.log.Warn("apply batch failed; will retry", "events", len(evs), "err", err)
		}
		for _, m := range ok {
			_ = m.NakWithDelay(time.Second)
		}
		return 0
	}
	for _, m := range ok {
		if err := m.Ack(); err != nil {
			c.log.Warn("ack failed; the event will be redelivered and ignored", "err", err)
		}
	}
	return len(evs)
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
