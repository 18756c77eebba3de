package resolution

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	total, wrote := 0, false
	var afterID int64
	for {
		n, flagged, last, err := s.escalateBatch(ctx, afterID)
		total += n
		wrote = wrote || flagged > 0
		if err != nil || last == 0 {
			if total > 0 || wrote {
				s.wake()
			}
			return total, err
		}
		afterID = last
	}
}

// escalateBatch escalates one batch of due complaints with ids above
// afterID; it returns how many it escalated, how many it newly flagged for
// the supervisor, and the last id it looked at (0 when there were none).
func (s *Service) escalateBatch(ctx context.Context, afterID int64) (int, int, int64, error) {
	now := s.clock.Now()
	escalated, flagged := 0, 0
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
			ok, flag, err := s.escalate(ctx, tx, id, now)
			if err != nil {
				return err
			}
			if ok {
				escalated++
			}
			if flag {
				flagged++
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, err
	}
	return escalated, flagged, last, nil
}

// escalate moves one locked complaint up a level: to level+1, or where
// that level has no post or its post no holder, to the next level up with a
// held post, the history naming each level passed over and why. Where no
// held post exists above, the complaint stays at its level, flagged for the
// supervisor, and a history note says why (once: escalated is false, and
// flagged is true only when the note was written now).
func (s *Service) escalate(ctx context.Context, tx pgx.Tx, id int64, now time.Time) (escalated, flagged bool, err error) {
	r, err := complaint.LockByID(ctx, tx, id)
	if err != nil {
		return false, false, err
	}
	if r.DepartmentID == nil || r.SLADueAt == nil || !r.SLADueAt.Before(now) {
		return false, false, nil
	}
	climb, err := complaint.ClimbFrom(ctx, tx, *r.DepartmentID, r.Level, r.DistrictID)
	if err != nil {
		return false, false, err
	}
	passed := *r.SLADueAt
	note := fmt.Sprintf("SLA passed at L%d (%s, deadline %s)", r.Level, r.PostCode, passed.In(clock.IST).Format("2006-01-02 15:04 MST"))
	if climb.Post == nil {
		flag := fmt.Sprintf("SLA passed at L%d and no level above has a held post (%s)", r.Level, strings.Join(climb.PassedOver, "; "))
		if r.SupervisorFlag == flag {
			return false, false, nil // said already
		}
		s.log.Warn("overdue complaint has no held post above: flagged for the supervisor", "docket", r.Docket, "department", r.DepartmentCode, "level", r.Level)
		err = complaint.Apply(ctx, tx, r, complaint.Change{Action: complaint.Note,
			Note:   note + "; no escalation: " + climb.Why() + "; it stays at L" + strconv.Itoa(r.Level) + ", flagged for the supervisor",
			Mutate: func(r *complaint.Record) error { r.SupervisorFlag = flag; return nil }}, now)
		return false, err == nil, err
	}
	post := climb.Post
	if why := climb.Why(); why != "" {
		note += "; " + why
	}
	due, err := complaint.Deadline(ctx, tx, s.calendar, r.CategoryID, post.Level, passed)
	if err != nil {
		return false, false, err
	}
	ackDue, err := complaint.AckDue(ctx, tx, s.calendar, now)
	if err != nil {
		return false, false, err
	}
	assign := complaint.AssignTo(post, due, ackDue)
	err = complaint.Apply(ctx, tx, r, complaint.Change{Action: complaint.Escalate, Note: note, Mutate: func(r *complaint.Record) error {
		r.EscalationCount++
		return assign(r)
	}}, now)
	return err == nil, false, err
}
