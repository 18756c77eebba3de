package routing

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/consumer"
)

// ConsumerName is the durable JetStream consumer that routes complaints.
const ConsumerName = "routing"

// RouterConfig is the consumer that routes every registered complaint.
func (s *Service) RouterConfig() consumer.Config {
	return consumer.Config{
		Name:        ConsumerName,
		Events:      []string{"registered"},
		Handler:     s.route,
		Batched:     true,
		Batch:       200,
		Workers:     2,
		AfterCommit: s.wake,
	}
}

// route sends a registered complaint to the L1 post of the department the
// most specific routing rule names, or to the unrouted queue.
func (s *Service) route(ctx context.Context, tx pgx.Tx, ev *helplinev1.ComplaintEvent) error {
	ctx = caller.With(ctx, caller.SystemCaller)
	rec, err := complaint.LockByID(ctx, tx, ev.GetComplaintId())
	if errors.Is(err, apperr.ErrNotFound) {
		return fmt.Errorf("complaint %d of event %s: %w", ev.GetComplaintId(), ev.GetId(), consumer.ErrPermanent)
	}
	if err != nil {
		return err
	}
	if rec.Status != complaint.Registered {
		return nil // routed already
	}
	now := s.clock.Now()
	dept, err := complaint.DepartmentFor(ctx, tx, rec.CategoryID, rec)
	if errors.Is(err, apperr.ErrNotFound) {
		return complaint.Apply(ctx, tx, rec, complaint.Change{
			Action: complaint.RouteNone, Note: "no routing rule for category " + rec.CategoryCode + " in " + rec.DistrictCode,
		}, now)
	}
	if err != nil {
		return err
	}
	post, err := complaint.PostFor(ctx, tx, dept, 1, rec.DistrictID)
	if errors.Is(err, apperr.ErrNotFound) {
		return complaint.Apply(ctx, tx, rec, complaint.Change{
			Action: complaint.RouteNone, Note: "the routed department has no level 1 post in " + rec.DistrictCode,
		}, now)
	}
	if err != nil {
		return err
	}
	due, err := complaint.Deadline(ctx, tx, s.calendar, rec.CategoryID, 1, now)
	if err != nil {
		return err
	}
	ackDue, err := complaint.AckDue(ctx, tx, s.calendar, now)
	if err != nil {
		return err
	}
	return complaint.Apply(ctx, tx, rec, complaint.Change{Action: complaint.Route, Mutate: complaint.AssignTo(post, due, ackDue)}, now)
}
