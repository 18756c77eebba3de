package outbox_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/outbox"
	"github.com/helpline/helpline/internal/testenv"
)

// writeEvents commits n events, one transaction each, and returns their ids.
func writeEvents(t *testing.T, pool *pgxpool.Pool, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = outbox.NewEventID()
		err := db.InTx(context.Background(), pool, func(tx pgx.Tx) error {
			return outbox.Write(context.Background(), tx, event(ids[i], int64(i+1)))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func event(id string, complaintID int64) *helplinev1.ComplaintEvent {
	return &helplinev1.ComplaintEvent{Id: id, Type: "registered", ComplaintId: complaintID, Version: 1, At: timestamppb.Now()}
}

func startRelay(t *testing.T, pool *pgxpool.Pool, js jetstream.JetStream) *outbox.Relay {
	t.Helper()
	r := outbox.NewRelay(pool, js, clock.Real{}, testenv.Logger(t), outbox.RelayConfig{Batch: 50, Poll: 20 * time.Millisecond, AckTimeout: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func unpublished(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	n, err := outbox.Backlog(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// streamIDs returns the Nats-Msg-Id of every message in the stream, failing on a repeat.
func streamIDs(t *testing.T, js jetstream.JetStream) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range testenv.Messages(t, js) {
		id := m.Header.Get(jetstream.MsgIDHeader)
		if seen[id] {
			t.Fatalf("event %s is in the stream twice", id)
		}
		seen[id] = true
	}
	return seen
}

func assertAllPublished(t *testing.T, js jetstream.JetStream, ids []string) {
	t.Helper()
	got := streamIDs(t, js)
	if len(got) != len(ids) {
		t.Fatalf("stream holds %d events, want %d", len(got), len(ids))
	}
	for _, id := range ids {
		if !got[id] {
			t.Fatalf("event %s never reached the stream", id)
		}
	}
}

func TestEventWrittenWhileNATSIsDownIsPublishedWhenItReturns(t *testing.T) {
	t.Parallel()
	pool := testenv.DB(t)
	n := testenv.StartNATS(t)
	_, js := n.Connect(t)
	startRelay(t, pool, js)

	first := writeEvents(t, pool, 5)
	testenv.Eventually(t, 10*time.Second, "first events published", func() bool { return unpublished(t, pool) == 0 })

	n.Stop()
	during := writeEvents(t, pool, 20)
	time.Sleep(500 * time.Millisecond)
	if got := unpublished(t, pool); got != 20 {
		t.Fatalf("with NATS down %d rows are unpublished, want all 20 kept", got)
	}
	n.Start()
	testenv.Eventually(t, 30*time.Second, "backlog drained after NATS returned", func() bool { return unpublished(t, pool) == 0 })
	assertAllPublished(t, js, append(first, during...))
}

func TestRowsCommittedBeforeACrashArePublishedOnRestart(t *testing.T) {
	t.Parallel()
	pool := testenv.DB(t)
	n := testenv.StartNATS(t)
	_, js := n.Connect(t)

	// The process committed these and died before its relay ran.
	ids := writeEvents(t, pool, 30)
	// And it died after publishing the first ten but before marking them.
	for _, id := range ids[:10] {
		msg := &nats.Msg{Subject: "helpline.complaint.registered", Data: []byte("x"), Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, id)
		if _, err := js.PublishMsg(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	if got := unpublished(t, pool); got != 30 {
		t.Fatalf("unpublished = %d, want 30", got)
	}
	r := startRelay(t, pool, js) // the restarted process
	testenv.Eventually(t, 10*time.Second, "backlog drained", func() bool { return unpublished(t, pool) == 0 })
	assertAllPublished(t, js, ids)
	if published, dups := r.Stats(); published != 30 || dups != 10 {
		t.Fatalf("relay published %d (%d duplicates), want 30 with the 10 already-sent ones deduplicated", published, dups)
	}
}

func TestTwoRelaysPublishEachEventOnce(t *testing.T) {
	t.Parallel()
	pool := testenv.DB(t)
	n := testenv.StartNATS(t)
	_, js := n.Connect(t)
	r1 := startRelay(t, pool, js)
	r2 := startRelay(t, pool, js)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var ids []string
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := writeEvents(t, pool, 100)
			mu.Lock()
			ids = append(ids, got...)
			mu.Unlock()
			r1.Wake()
			r2.Wake()
		}()
	}
	wg.Wait()
	testenv.Eventually(t, 30*time.Second, "backlog drained", func() bool { return unpublished(t, pool) == 0 })
	assertAllPublished(t, js, ids)
	p1, d1 := r1.Stats()
	p2, d2 := r2.Stats()
	if p1+p2 != int64(len(ids)) || d1+d2 != 0 {
		t.Fatalf("relays published %d+%d with %d+%d duplicates; want %d in all and none twice", p1, p2, d1, d2, len(ids))
	}
	t.Logf("relay 1 published %d, relay 2 published %d", p1, p2)
}

func TestLateCommittingTransactionIsNotSkipped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.DB(t)
	n := testenv.StartNATS(t)
	_, js := n.Connect(t)
	startRelay(t, pool, js)

	// Transaction A takes the lower outbox id but commits last.
	slow, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = slow.Rollback(ctx) }()
	slowID := outbox.NewEventID()
	if err := outbox.Write(ctx, slow, event(slowID, 1)); err != nil {
		t.Fatal(err)
	}
	fast := writeEvents(t, pool, 3)
	testenv.Eventually(t, 10*time.Second, "later rows published", func() bool { return len(streamIDs(t, js)) == 3 })

	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "late row published", func() bool { return unpublished(t, pool) == 0 })
	assertAllPublished(t, js, append(fast, slowID))
	var minID, slowRow int64
	if err := pool.QueryRow(ctx, `SELECT min(id), (SELECT id FROM outbox WHERE event_id = $1) FROM outbox`, slowID).Scan(&minID, &slowRow); err != nil {
		t.Fatal(err)
	}
	if slowRow != minID {
		t.Fatalf("the late transaction's row has id %d, not the lowest (%d): the test did not exercise a late commit", slowRow, minID)
	}
}

func TestPurgeKeepsUnpublishedAndRecentRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.DB(t)
	ids := writeEvents(t, pool, 3)
	old := time.Now().Add(-48 * time.Hour)
	if _, err := pool.Exec(ctx, `UPDATE outbox SET published_at = $1 WHERE event_id = $2`, old, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE outbox SET published_at = now() WHERE event_id = $1`, ids[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO applied_events VALUES ('c', $1, $2), ('c', $3, now())`, ids[0], old, ids[1]); err != nil {
		t.Fatal(err)
	}
	deleted, err := outbox.Purge(ctx, pool, clock.Real{}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var rows, applied int
	_ = pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM applied_events)`).Scan(&rows, &applied)
	if deleted != 2 || rows != 2 || applied != 1 {
		t.Fatalf("purge deleted %d, left %d outbox rows and %d applied records; want 2 deleted, 2 and 1 left", deleted, rows, applied)
	}
}
