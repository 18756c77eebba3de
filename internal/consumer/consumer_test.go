package consumer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/consumer"
	"github.com/helpline/helpline/internal/outbox"
	"github.com/helpline/helpline/internal/testenv"
)

// effects records every application of an event, so a test can see doubles.
func setup(t *testing.T) (*pgxpool.Pool, consumer.Config) {
	t.Helper()
	pool := testenv.DB(t)
	if _, err := pool.Exec(context.Background(), `CREATE TABLE effects (event_id uuid, complaint_id bigint, version bigint)`); err != nil {
		t.Fatal(err)
	}
	return pool, consumer.Config{
		Name:   "test",
		Events: []string{"registered", "assigned"},
		Handler: func(ctx context.Context, tx pgx.Tx, ev *helplinev1.ComplaintEvent) error {
			_, err := tx.Exec(ctx, `INSERT INTO effects VALUES ($1, $2, $3)`, ev.GetId(), ev.GetComplaintId(), ev.GetVersion())
			return err
		},
	}
}

func effects(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT complaint_id || ':v' || version FROM effects ORDER BY complaint_id, version`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ev(complaint, version int64) *helplinev1.ComplaintEvent {
	return &helplinev1.ComplaintEvent{Id: outbox.NewEventID(), Type: "assigned", ComplaintId: complaint, Version: version}
}

func TestRedeliveredAndReorderedEventsChangeNothing(t *testing.T) {
	t.Parallel()
	pool, cfg := setup(t)
	c := consumer.New(cfg, pool, nil, clock.Real{}, testenv.Logger(t))
	ctx := context.Background()
	v1, v2, v3 := ev(1, 1), ev(1, 2), ev(1, 3)
	other := ev(2, 1)
	for _, e := range []*helplinev1.ComplaintEvent{
		v1, v1, // redelivered
		v3, v2, // reordered: v2 arrives after v3
		other, v3, other, // more redeliveries
	} {
		if err := c.Apply(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got := fmt.Sprint(effects(t, pool))
	if want := "[1:v1 1:v3 2:v1]"; got != want {
		t.Fatalf("effects = %s, want %s (each event once, the stale v2 ignored)", got, want)
	}
	var applied, version int64
	_ = pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM applied_events WHERE consumer = 'test'),
		(SELECT version FROM consumer_versions WHERE consumer = 'test' AND complaint_id = 1)`).Scan(&applied, &version)
	if applied != 4 || version != 3 {
		t.Fatalf("applied-event records = %d, version = %d; want the 4 distinct events recorded and version 3", applied, version)
	}
}

func TestFailedHandlerLeavesNoRecordAndIsRetried(t *testing.T) {
	t.Parallel()
	pool, cfg := setup(t)
	fail := true
	inner := cfg.Handler
	cfg.Handler = func(ctx context.Context, tx pgx.Tx, e *helplinev1.ComplaintEvent) error {
		if err := inner(ctx, tx, e); err != nil {
			return err
		}
		if fail {
			return fmt.Errorf("database hiccup")
		}
		return nil
	}
	c := consumer.New(cfg, pool, nil, clock.Real{}, testenv.Logger(t))
	e := ev(7, 1)
	if err := c.Apply(context.Background(), e); err == nil {
		t.Fatal("want the handler's error")
	}
	if got := effects(t, pool); len(got) != 0 {
		t.Fatalf("a failed apply left effects %v", got)
	}
	fail = false
	if err := c.Apply(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(effects(t, pool)); got != "[7:v1]" {
		t.Fatalf("effects after retry = %s", got)
	}
}

func TestConsumerAppliesStreamOnceThroughJetStream(t *testing.T) {
	t.Parallel()
	pool, cfg := setup(t)
	n := testenv.StartNATS(t)
	_, js := n.Connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	c := consumer.New(cfg, pool, js, clock.Real{}, testenv.Logger(t))
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	publish := func(e *helplinev1.ComplaintEvent, msgID string) {
		data, _ := proto.Marshal(e)
		m := &nats.Msg{Subject: "helpline.complaint." + e.GetType(), Data: data, Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, msgID)
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for i := int64(1); i <= 50; i++ {
		e := ev(i, 1)
		publish(e, e.GetId())
		publish(e, e.GetId()+"-again") // a second copy JetStream cannot deduplicate
		want = append(want, fmt.Sprintf("%d:v1", i))
	}
	testenv.Eventually(t, 20*time.Second, "all events applied", func() bool {
		var n int
		_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM applied_events`).Scan(&n)
		return n == 50
	})
	time.Sleep(200 * time.Millisecond) // let the duplicates arrive too
	got := effects(t, pool)
	if len(got) != 50 {
		t.Fatalf("%d effects for 50 events delivered twice each", len(got))
	}
}

func TestEveryEventConsumerAppliesLateEventsOnce(t *testing.T) {
	t.Parallel()
	pool, cfg := setup(t)
	cfg.EveryEvent = true
	c := consumer.New(cfg, pool, nil, clock.Real{}, testenv.Logger(t))
	v1, v2 := ev(1, 1), ev(1, 2)
	for _, e := range []*helplinev1.ComplaintEvent{v2, v1, v2, v1} {
		if err := c.Apply(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(effects(t, pool)); got != "[1:v1 1:v2]" {
		t.Fatalf("effects = %s, want the late v1 applied too, each once", got)
	}
}

func TestBatchedConsumerFallsBackToOneByOne(t *testing.T) {
	t.Parallel()
	pool, cfg := setup(t)
	inner := cfg.Handler
	cfg.Batched = true
	cfg.Handler = func(ctx context.Context, tx pgx.Tx, e *helplinev1.ComplaintEvent) error {
		if e.GetComplaintId() == 13 {
			return fmt.Errorf("complaint 13 is broken: %w", consumer.ErrPermanent)
		}
		return inner(ctx, tx, e)
	}
	n := testenv.StartNATS(t)
	_, js := n.Connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	c := consumer.New(cfg, pool, js, clock.Real{}, testenv.Logger(t))
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for i := int64(1); i <= 30; i++ {
		e := ev(i, 1)
		data, _ := proto.Marshal(e)
		m := &nats.Msg{Subject: "helpline.complaint.assigned", Data: data, Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, e.GetId())
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 20*time.Second, "29 good events applied", func() bool { return len(effects(t, pool)) == 29 })
	time.Sleep(300 * time.Millisecond)
	if got := len(effects(t, pool)); got != 29 {
		t.Fatalf("%d effects, want the 29 good events once each", got)
	}
}
