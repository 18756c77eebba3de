// Package notification turns complaint events into notifications to
// citizens (docket on registration, resolution, closure, an approved special
// closure with its reason) and to officers (new, escalated and reopened
// complaints to the post holder; a rejected special closure to its
// proposer), and delivers them through a pluggable sender with retries.
package notification

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/consumer"
	"github.com/helpline/helpline/internal/db"
)

// ConsumerName is the durable consumer that writes notifications.
const ConsumerName = "notifier"

// MaxAttempts is how many deliveries are tried before a notification is FAILED.
const MaxAttempts = 10

// Notifier writes and delivers notifications.
type Notifier struct {
	pool   *pgxpool.Pool
	clock  clock.Clock
	sender Sender
	log    *slog.Logger
	wake   chan struct{}
	// RetryBase is the first retry's delay; each further one doubles, up to 10 minutes.
	RetryBase time.Duration
}

// New returns a notifier delivering through sender.
func New(pool *pgxpool.Pool, clk clock.Clock, sender Sender, log *slog.Logger) *Notifier {
	return &Notifier{pool: pool, clock: clk, sender: sender, log: log, wake: make(chan struct{}, 1), RetryBase: 2 * time.Second}
}

// ConsumerConfig is the consumer that turns events into notification rows,
// once per event and recipient.
func (n *Notifier) ConsumerConfig() consumer.Config {
	return consumer.Config{
		Name:   ConsumerName,
		Events: []string{"registered", "assigned", "transferred", "escalated", "reopened", "resolved", "closed", "special_closure_decided"},
		// A late event still sends its message: each event is a message.
		EveryEvent:   true,
		BatchHandler: n.handleBatch,
		Batch:        200,
		AfterCommit: func() {
			select {
			case n.wake <- struct{}{}:
			default:
			}
		},
	}
}

// handleBatch turns a batch of events into notification rows in three
// statements: the citizens and action-taken reports of the batch's
// complaints, the holders of the posts they name, and one insert.
func (n *Notifier) handleBatch(ctx context.Context, tx pgx.Tx, evs []*helplinev1.ComplaintEvent) error {
	var ids []int64
	var posts []string
	var rejectedIDs, rejectedVersions []int64
	for _, ev := range evs {
		ids = append(ids, ev.GetComplaintId())
		if p := ev.GetSnapshot().GetPost(); p != "" {
			posts = append(posts, p)
		}
		if ev.GetType() == "special_closure_decided" && !approved(ev) {
			rejectedIDs, rejectedVersions = append(rejectedIDs, ev.GetComplaintId()), append(rejectedVersions, ev.GetVersion())
		}
	}
	type citizen struct{ phone, language, atr, reason, duplicateOf string }
	citizens := map[int64]citizen{}
	var id int64
	var c citizen
	rows, err := tx.Query(ctx, `
		SELECT c.id, ci.phone, c.citizen_language, c.action_taken_report, coalesce(c.special_closure_reason, ''),
		       coalesce(c.special_closure_duplicate_of, '')
		FROM complaints c JOIN citizens ci ON ci.id = c.citizen_id WHERE c.id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("read complaints: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&id, &c.phone, &c.language, &c.atr, &c.reason, &c.duplicateOf}, func() error { citizens[id] = c; return nil }); err != nil {
		return fmt.Errorf("read complaints: %w", err)
	}
	// A rejection goes to whoever proposed the closure: the actor of the
	// latest proposal before the decision (the decision clears it from the complaint).
	proposers := map[[2]int64]string{}
	if len(rejectedIDs) > 0 {
		var version int64
		var actor string
		rows, err = tx.Query(ctx, `
			SELECT DISTINCT ON (u.id, u.v) u.id, u.v, h.actor
			FROM unnest($1::bigint[], $2::bigint[]) AS u(id, v)
			JOIN complaint_history h ON h.complaint_id = u.id AND h.version < u.v AND h.action = 'propose_special_closure'
			ORDER BY u.id, u.v, h.version DESC`, rejectedIDs, rejectedVersions)
		if err != nil {
			return fmt.Errorf("read proposers: %w", err)
		}
		if _, err := pgx.ForEachRow(rows, []any{&id, &version, &actor}, func() error { proposers[[2]int64{id, version}] = actor; return nil }); err != nil {
			return fmt.Errorf("read proposers: %w", err)
		}
	}
	holders := map[string]string{}
	var code, holder string
	rows, err = tx.Query(ctx, `SELECT p.code, coalesce(u.username, '') FROM posts p LEFT JOIN users u ON u.id = p.holder_user_id WHERE p.code = ANY($1)`, posts)
	if err != nil {
		return fmt.Errorf("read post holders: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&code, &holder}, func() error { holders[code] = holder; return nil }); err != nil {
		return fmt.Errorf("read post holders: %w", err)
	}
	var keys, eventIDs, kinds, recipients, languages, bodies []string
	var complaintIDs []int64
	for _, ev := range evs {
		who, ok := citizens[ev.GetComplaintId()]
		if !ok {
			n.log.Error("event of a complaint that does not exist: no notification", "event", ev.GetId(), "docket", ev.GetDocket())
			continue
		}
		snap := ev.GetSnapshot()
		f := facts{
			Docket: ev.GetDocket(), Helpline: snap.GetHelpline(), Category: snap.GetCategoryCode(), District: snap.GetDistrictCode(),
			Post: snap.GetPost(), ATR: who.atr, Level: int(snap.GetLevel()),
			Closure: snap.GetClosure().String()[len("CLOSURE_"):],
			Reason:  who.reason, DuplicateOf: who.duplicateOf,
		}
		if snap.GetSlaDueAt() != nil {
			t := snap.GetSlaDueAt().AsTime()
			f.Due = &t
		}
		add := func(recipient, language, body string) {
			keys, eventIDs, kinds = append(keys, ev.GetId()+"/"+recipient), append(eventIDs, ev.GetId()), append(kinds, ev.GetType())
			recipients, languages, bodies = append(recipients, recipient), append(languages, language), append(bodies, body)
			complaintIDs = append(complaintIDs, ev.GetComplaintId())
		}
		switch {
		case ev.GetType() == "special_closure_decided" && approved(ev):
			if who.phone != "" {
				add("phone:"+who.phone, who.language, citizenMessage("special_closure_approved", who.language, f))
			}
		case ev.GetType() == "special_closure_decided":
			if p := proposers[[2]int64{ev.GetComplaintId(), ev.GetVersion()}]; p != "" {
				add("user:"+p, "en", officerMessage("special_closure_rejected", f))
			}
		case ev.GetType() == "registered", ev.GetType() == "resolved", ev.GetType() == "closed":
			if who.phone != "" {
				add("phone:"+who.phone, who.language, citizenMessage(ev.GetType(), who.language, f))
			}
		default: // assigned, transferred, escalated, reopened: the holder of the post named in the snapshot
			if h := holders[snap.GetPost()]; h != "" {
				add("user:"+h, "en", officerMessage(ev.GetType(), f))
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO notifications (idempotency_key, event_id, complaint_id, kind, recipient, language, body, status, created_at, next_attempt_at)
		SELECT k, e, c, kind, r, l, b, 'PENDING', $8, $9
		FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(k, e, c, kind, r, l, b)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		keys, eventIDs, complaintIDs, kinds, recipients, languages, bodies, n.clock.Now(), time.Now())
	if err != nil {
		return fmt.Errorf("write notifications: %w", err)
	}
	return nil
}

// approved reports whether a special_closure_decided event approved the closure.
func approved(ev *helplinev1.ComplaintEvent) bool {
	return ev.GetSnapshot().GetStatus() == helplinev1.ComplaintStatus_COMPLAINT_STATUS_CLOSED
}

// RunDispatcher delivers pending notifications until ctx ends, woken by new
// ones and polling every interval.
func (n *Notifier) RunDispatcher(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			sent, err := n.DispatchBatch(ctx)
			if err != nil && ctx.Err() == nil {
				n.log.Warn("notification dispatch failed", "err", err)
			}
			if err != nil || sent < 50 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		case <-t.C:
		}
	}
}

// DispatchBatch tries up to 50 due notifications and returns how many it
// tried. Rows are claimed with FOR UPDATE SKIP LOCKED, so several
// dispatchers never send one twice at once; retries back off exponentially
// (wall-clock time: this is delivery plumbing, not the complaint's clock).
func (n *Notifier) DispatchBatch(ctx context.Context) (int, error) {
	tried := 0
	err := db.InTx(ctx, n.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT n.id, n.idempotency_key, n.recipient, n.language, n.kind, c.docket, n.body, n.attempts
			FROM notifications n JOIN complaints c ON c.id = n.complaint_id
			WHERE n.status = 'PENDING' AND n.next_attempt_at <= $1
			ORDER BY n.next_attempt_at LIMIT 50 FOR UPDATE OF n SKIP LOCKED`, time.Now())
		if err != nil {
			return err
		}
		type row struct {
			id       int64
			m        Message
			attempts int
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.m.IdempotencyKey, &x.m.Recipient, &x.m.Language, &x.m.Kind, &x.m.Docket, &x.m.Body, &x.attempts)
		})
		if err != nil {
			return err
		}
		for _, x := range list {
			tried++
			sendCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
			err := n.sender.Send(sendCtx, x.m)
			cancel()
			attempts := x.attempts + 1
			switch {
			case err == nil:
				_, err = tx.Exec(ctx, `UPDATE notifications SET status = 'SENT', attempts = $2, sent_at = $3, last_error = '' WHERE id = $1`, x.id, attempts, n.clock.Now())
			case errors.Is(err, ErrPermanent) || attempts >= MaxAttempts:
				n.log.Error("notification failed for good", "key", masked(x.m.IdempotencyKey), "attempts", attempts, "err", err)
				_, err = tx.Exec(ctx, `UPDATE notifications SET status = 'FAILED', attempts = $2, last_error = $3 WHERE id = $1`, x.id, attempts, err.Error())
			default:
				backoff := min(n.RetryBase<<min(attempts-1, 20), 10*time.Minute)
				_, err = tx.Exec(ctx, `UPDATE notifications SET attempts = $2, last_error = $3, next_attempt_at = $4 WHERE id = $1`,
					x.id, attempts, err.Error(), time.Now().Add(backoff))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return tried, err
}
