package satisfaction

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/consumer"
	"github.com/helpline/helpline/internal/db"
)

// QueueConsumerName is the durable consumer that keeps the feedback queue.
const QueueConsumerName = "feedback-queue"

// QueueConfig is the consumer that keeps feedback_queue: a complaint is in
// it while its latest applied event says RESOLVED.
func (s *Service) QueueConfig() consumer.Config {
	return consumer.Config{Name: QueueConsumerName, Handler: s.queue, Batched: true, Batch: 200}
}

func (s *Service) queue(ctx context.Context, tx pgx.Tx, ev *helplinev1.ComplaintEvent) error {
	if ev.GetSnapshot().GetStatus() == helplinev1.ComplaintStatus_COMPLAINT_STATUS_RESOLVED {
		_, err := tx.Exec(ctx, `
			INSERT INTO feedback_queue (complaint_id, resolved_at) VALUES ($1, $2)
			ON CONFLICT (complaint_id) DO UPDATE SET resolved_at = CASE WHEN $3 THEN excluded.resolved_at ELSE feedback_queue.resolved_at END`,
			ev.GetComplaintId(), ev.GetAt().AsTime(), ev.GetType() == "resolved")
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM feedback_queue WHERE complaint_id = $1`, ev.GetComplaintId())
	return err
}

// RunNoResponse closes unreachable complaints every interval until ctx ends.
func (s *Service) RunNoResponse(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.CloseNoResponse(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("no-response closure failed", "err", err)
			}
		} else if n > 0 {
			s.log.Info("closed unreachable complaints as no-response", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CloseNoResponse closes, as NO_RESPONSE, every resolved complaint whose
// citizen could not be reached in MaxAttempts calls or within MaxDays of
// the first failed call. Rows are claimed with FOR UPDATE SKIP LOCKED, so
// several replicas share the work and never close one twice.
func (s *Service) CloseNoResponse(ctx context.Context) (int, error) {
	ctx = caller.With(ctx, caller.SystemCaller)
	now := s.clock.Now()
	cutoff := now.AddDate(0, 0, -s.cfg.MaxDays)
	closed := 0
	for {
		n := 0
		err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `
				SELECT id FROM complaints
				WHERE status = 'RESOLVED' AND feedback_attempts > 0
				  AND (feedback_attempts >= $1 OR feedback_first_failed_at <= $2)
				ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED`, s.cfg.MaxAttempts, cutoff)
			if err != nil {
				return fmt.Errorf("select unreachable: %w", err)
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			for _, id := range ids {
				r, err := complaint.LockByID(ctx, tx, id)
				if err != nil {
					return err
				}
				// Read the clock after the lock: a call recorded while this
				// job was starting must not come after the closure.
				at := s.clock.Now()
				if at.Before(r.UpdatedAt) {
					at = r.UpdatedAt
				}
				note := fmt.Sprintf("citizen not reachable: %d failed calls since %s", r.FeedbackAttempts, r.FeedbackFirstFailedAt.Format(time.DateOnly))
				err = complaint.Apply(ctx, tx, r, complaint.Change{Action: complaint.FeedbackExpire, Note: note,
					Mutate: func(r *complaint.Record) error { r.ClosedAt, r.Closure = &at, "NO_RESPONSE"; return nil }}, at)
				if err != nil {
					return err
				}
				n++
			}
			return nil
		})
		closed += n
		if err != nil || n < 100 {
			if closed > 0 {
				s.wake()
			}
			return closed, err
		}
	}
}
