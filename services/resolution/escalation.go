package resolution

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/db"
)

// escalationBatch is how many overdue complaints one transaction escalates.
const escalationBatch = 100

// RunEscalation escalates overdue complaints every interval until ctx ends.
func (s *Service) RunEscalation(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.EscalateDue(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("escalation run failed", "err", err, "escalated", n)
			}
		} else if n > 0 {
			s.log.Info("escalated overdue complaints", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// EscalateDue moves every complaint whose SLA deadline has passed, below
// L4, to its department's post one level up, with a deadline counted from
// the one that passed. Rows are claimed with FOR UPDATE SKIP LOCKED, so
// several replicas share the work and a complaint an officer is acting on
// right now is left to the next run (and not escalated if it got resolved).
func (s *Service) EscalateDue(ctx context.Context) (int, error) {
	ctx = caller.With(ctx, caller.SystemCaller)
	total := 0
	var afterID int64
	for {
		n, last, err := s.escalateBatch(ctx, afterID)
		total += n
		if err != nil || last == 0 {
			if total > 0 {
				s.wake()
			}
			return total, err
		}
		afterID = last
	}
}

// escalateBatch escalates one batch of due complaints with ids above
// afterID; it returns how many it escalated and the last id it looked at
// (0 when there were none).
func (s *Service) escalateBatch(ctx context.Context, afterID int64) (int, int64, error) {
	now := s.clock.Now()
	escalated := 0
	var last int64
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT id FROM complaints
			WHERE status IN ('ASSIGNED', 'IN_PROGRESS', 'REOPENED') AND level < 4 AND sla_due_at < $1 AND id > $2
			ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`, now, afterID, escalationBatch)
		if err != nil {
			return fmt.Errorf("select overdue: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("select overdue: %w", err)
		}
		for _, id := range ids {
			last = id
			ok, err := s.escalate(ctx, tx, id, now)
			if err != nil {
				return err
			}
			if ok {
				escalated++
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return escalated, last, nil
}

// escalate moves one locked complaint up a level; false when no higher
// post exists (it stays, overdue, and is reported).
func (s *Service) escalate(ctx context.Context, tx pgx.Tx, id int64, now time.Time) (bool, error) {
	r, err := complaint.LockByID(ctx, tx, id)
	if err != nil {
		return false, err
	}
	if r.DepartmentID == nil || r.SLADueAt == nil || !r.SLADueAt.Before(now) {
		return false, nil
	}
	var post *complaint.Post
	for level := r.Level + 1; level <= 4 && post == nil; level++ {
		post, err = complaint.PostFor(ctx, tx, *r.DepartmentID, level, r.DistrictID)
		if errors.Is(err, apperr.ErrNotFound) {
			post, err = nil, nil
		}
		if err != nil {
			return false, err
		}
	}
	if post == nil {
		s.log.Warn("overdue complaint has no higher post to escalate to", "docket", r.Docket, "department", r.DepartmentCode, "level", r.Level)
		return false, nil
	}
	passed := *r.SLADueAt
	due, err := complaint.Deadline(ctx, tx, s.calendar, r.CategoryID, post.Level, passed)
	if err != nil {
		return false, err
	}
	note := fmt.Sprintf("SLA passed at L%d (%s, deadline %s)", r.Level, r.PostCode, passed.In(clock.IST).Format("2006-01-02 15:04 MST"))
	ackDue, err := complaint.AckDue(ctx, tx, s.calendar, now)
	if err != nil {
		return false, err
	}
	assign := complaint.AssignTo(post, due, ackDue)
	err = complaint.Apply(ctx, tx, r, complaint.Change{Action: complaint.Escalate, Note: note, Mutate: func(r *complaint.Record) error {
		r.EscalationCount++
		return assign(r)
	}}, now)
	return err == nil, err
}
