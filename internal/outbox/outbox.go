// Package outbox writes events in the same transaction as the change they
// describe, and relays them to NATS JetStream afterwards.
package outbox

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/natsbus"
	"github.com/helpline/helpline/internal/telemetry"
)

// NewEventID returns a fresh, time-ordered event id.
func NewEventID() string { return uuid.Must(uuid.NewV7()).String() }

// Write stores ev in the outbox inside tx. The event's id must be set.
func Write(ctx context.Context, tx pgx.Tx, ev *helplinev1.ComplaintEvent) error {
	payload, err := proto.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	_, err = tx.Exec(ctx,
		`INSERT INTO outbox (event_id, subject, payload, created_at, trace_parent) VALUES ($1, $2, $3, $4, $5)`,
		ev.GetId(), natsbus.Subject(ev.GetType()), payload, ev.GetAt().AsTime(), telemetry.TraceParent(ctx))
	if err != nil {
		return fmt.Errorf("write outbox: %w", err)
	}
	return nil
}

// Queue adds the statement that stores ev in the outbox to b, to be sent
// with the rest of a transaction's batch; ctx's trace context goes with
// it. The event's id must be set.
func Queue(ctx context.Context, b *pgx.Batch, ev *helplinev1.ComplaintEvent) error {
	payload, err := proto.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	b.Queue(`INSERT INTO outbox (event_id, subject, payload, created_at, trace_parent) VALUES ($1, $2, $3, $4, $5)`,
		ev.GetId(), natsbus.Subject(ev.GetType()), payload, ev.GetAt().AsTime(), telemetry.TraceParent(ctx))
	return nil
}

// WriteMany stores events in the outbox inside tx with one COPY. Every
// event's id must be set. traces[i] is the W3C traceparent of evs[i]'s
// command (see telemetry.TraceParent); a nil traces takes ctx's for all.
func WriteMany(ctx context.Context, tx pgx.Tx, evs []*helplinev1.ComplaintEvent, traces []string) error {
	own := telemetry.TraceParent(ctx)
	rows := make([][]any, len(evs))
	for i, ev := range evs {
		payload, err := proto.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encode event: %w", err)
		}
		id, err := uuid.Parse(ev.GetId())
		if err != nil {
			return fmt.Errorf("event id %q: %w", ev.GetId(), err)
		}
		tp := own
		if traces != nil {
			tp = traces[i]
		}
		rows[i] = []any{id, natsbus.Subject(ev.GetType()), payload, ev.GetAt().AsTime(), tp}
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, []string{"event_id", "subject", "payload", "created_at", "trace_parent"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("write outbox: %w", err)
	}
	return nil
}
