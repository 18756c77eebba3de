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
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
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
	// Batch is the most messages applied at once.
	Batch int
	// Workers is how many batches may be applied at once (default 1).
	Workers int
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
// Each worker takes whatever is available at once, up to Batch; when
// nothing is, it waits for the first message and then takes what else came
// with it. A lone event is applied at once, a flood in large batches, and
// every fetch is a fresh pull request, so a consumer leader lost in a NATS
// cluster costs one failed fetch.
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
	var wg sync.WaitGroup
	for range max(1, c.cfg.Workers) {
		wg.Go(func() { c.work(ctx, cons) })
	}
	wg.Wait()
	return nil
}

// work applies batches until ctx ends.
func (c *Consumer) work(ctx context.Context, cons jetstream.Consumer) {
	for ctx.Err() == nil {
		msgs, err := fetch(cons.FetchNoWait(c.cfg.Batch))
		if err == nil && len(msgs) == 0 {
			msgs, err = fetch(cons.Fetch(1, jetstream.FetchMaxWait(time.Second)))
			if err == nil && len(msgs) == 1 && c.cfg.Batch > 1 {
				more, _ := fetch(cons.FetchNoWait(c.cfg.Batch - 1))
				msgs = append(msgs, more...)
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("fetch failed; retrying", "err", err)
				sleep(ctx, 500*time.Millisecond)
			}
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		applied := 0
		if c.cfg.BatchHandler != nil || c.cfg.Batched {
			applied = c.handleBatch(ctx, msgs)
		} else {
			for _, msg := range msgs {
				if c.handle(ctx, msg) {
					applied++
				}
			}
		}
		if applied > 0 && c.cfg.AfterCommit != nil {
			c.cfg.AfterCommit()
		}
	}
}

// fetch collects a fetch's messages.
func fetch(batch jetstream.MessageBatch, err error) ([]jetstream.Msg, error) {
	if err != nil {
		return nil, err
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil && len(msgs) == 0 && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
		return nil, err
	}
	return msgs, nil // what arrived before an error is applied; the rest comes with the next fetch
}

// handle applies one message and acks it; it reports whether a transaction committed.
func (c *Consumer) handle(ctx context.Context, msg jetstream.Msg) bool {
	ctx, end := c.batchSpans(ctx, []jetstream.Msg{msg})
	var err error
	defer func() { end(err) }()
	ev := &helplinev1.ComplaintEvent{}
	if err = proto.Unmarshal(msg.Data(), ev); err != nil || ev.GetId() == "" {
		c.log.ErrorContext(ctx, "undecodable event dropped", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return false
	}
	err = c.Apply(ctx, ev)
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
		fresh, err := c.claimAll(ctx, tx, sorted)
		if err != nil {
			return err
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
	fresh, err := c.claimAll(ctx, tx, []*helplinev1.ComplaintEvent{ev})
	return len(fresh) == 1, err
}

// claimAll records events (ordered by complaint and version) as applied by
// this consumer, in four statements whatever their number, and returns
// those that are new and newer than what was applied for their complaint,
// in the same order. The complaints' version rows are locked in complaint
// order, so concurrent batches cannot deadlock on them.
func (c *Consumer) claimAll(ctx context.Context, tx pgx.Tx, evs []*helplinev1.ComplaintEvent) ([]*helplinev1.ComplaintEvent, error) {
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.GetId()
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO applied_events (consumer, event_id, applied_at) SELECT $1, e, $3 FROM unnest($2::uuid[]) AS e
		ON CONFLICT DO NOTHING RETURNING event_id::text`, c.cfg.Name, ids, c.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("record applied events: %w", err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("record applied events: %w", err)
	}
	isNew := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	candidates := make([]*helplinev1.ComplaintEvent, 0, len(inserted))
	for _, ev := range evs {
		if isNew[ev.GetId()] {
			delete(isNew, ev.GetId()) // an event twice in one batch counts once
			candidates = append(candidates, ev)
		}
	}
	if c.cfg.EveryEvent || len(candidates) == 0 {
		return candidates, nil
	}
	var complaints []int64
	for _, ev := range candidates {
		if n := len(complaints); n == 0 || complaints[n-1] != ev.GetComplaintId() {
			complaints = append(complaints, ev.GetComplaintId())
		}
	}
	slices.Sort(complaints)
	complaints = slices.Compact(complaints)
	if _, err := tx.Exec(ctx, `
		INSERT INTO consumer_versions (consumer, complaint_id, version) SELECT $1, id, 0 FROM unnest($2::bigint[]) AS id
		ON CONFLICT DO NOTHING`, c.cfg.Name, complaints); err != nil {
		return nil, fmt.Errorf("consumer versions: %w", err)
	}
	rows, err = tx.Query(ctx, `
		SELECT complaint_id, version FROM consumer_versions WHERE consumer = $1 AND complaint_id = ANY($2)
		ORDER BY complaint_id FOR UPDATE`, c.cfg.Name, complaints)
	if err != nil {
		return nil, fmt.Errorf("consumer versions: %w", err)
	}
	applied := make(map[int64]int64, len(complaints))
	var cid, version int64
	if _, err := pgx.ForEachRow(rows, []any{&cid, &version}, func() error { applied[cid] = version; return nil }); err != nil {
		return nil, fmt.Errorf("consumer versions: %w", err)
	}
	fresh := candidates[:0:0]
	changed := map[int64]bool{}
	for _, ev := range candidates {
		if ev.GetVersion() <= applied[ev.GetComplaintId()] {
			continue // older than what this consumer already applied
		}
		applied[ev.GetComplaintId()] = ev.GetVersion()
		changed[ev.GetComplaintId()] = true
		fresh = append(fresh, ev)
	}
	if len(changed) == 0 {
		return fresh, nil
	}
	upd, vers := make([]int64, 0, len(changed)), make([]int64, 0, len(changed))
	for _, id := range complaints {
		if changed[id] {
			upd, vers = append(upd, id), append(vers, applied[id])
		}
	}
	if _, err := tx.Exec(ctx, `
		UPDATE consumer_versions v SET version = u.version FROM unnest($2::bigint[], $3::bigint[]) AS u(complaint_id, version)
		WHERE v.consumer = $1 AND v.complaint_id = u.complaint_id`, c.cfg.Name, upd, vers); err != nil {
		return nil, fmt.Errorf("consumer versions: %w", err)
	}
	return fresh, nil
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
	bctx, end := c.batchSpans(ctx, ok)
	err := c.ApplyBatch(bctx, evs)
	end(err)
	if err != nil {
		if len(ok) > 1 && ctx.Err() == nil {
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
