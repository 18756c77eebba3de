package routing

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/consumer"
)

// ConsumerName is the durable JetStream consumer that routes complaints.
const ConsumerName = "routing"

// RouterConfig is the consumer that routes every registered complaint, a
// whole batch per transaction.
func (s *Service) RouterConfig() consumer.Config {
	return consumer.Config{
		Name:         ConsumerName,
		Events:       []string{"registered"},
		BatchHandler: s.routeBatch,
		Batch:        200,
		Workers:      2,
		AfterCommit:  s.wake,
	}
}

// routeKey is what the routing decision depends on.
type routeKey struct {
	category    int64
	district    int64
	block, ward int64 // 0: none
}

// routeBatch sends each registered complaint of evs to the L1 post of the
// department the most specific routing rule names, or to the unrouted
// queue. It locks and reads the batch's complaints in one round trip, and
// looks each rule, post and SLA up once per batch, not once per complaint.
func (s *Service) routeBatch(ctx context.Context, tx pgx.Tx, evs []*helplinev1.ComplaintEvent) error {
	ctx = caller.With(ctx, caller.SystemCaller)
	ids := make([]int64, 0, len(evs))
	for _, ev := range evs {
		if n := len(ids); n == 0 || ids[n-1] != ev.GetComplaintId() {
			ids = append(ids, ev.GetComplaintId()) // evs are ordered by complaint
		}
	}
	recs, err := complaint.LockByIDs(ctx, tx, ids)
	if err != nil {
		return err
	}
	if len(recs) < len(ids) {
		s.log.Error("registered events name complaints that do not exist; skipped", "events", len(evs), "found", len(recs))
	}
	now := s.clock.Now()
	cal, err := s.calendar.Load(ctx, tx)
	if err != nil {
		return err
	}
	ackDue := cal.DueAt(now, 1)
	decisions := map[routeKey]decision{}
	sla := map[int64]int{}
	for _, rec := range recs {
		if rec.Status != complaint.Registered {
			continue // routed already
		}
		key := routeKey{category: rec.CategoryID, district: rec.DistrictID}
		if rec.BlockID != nil {
			key.block = *rec.BlockID
		}
		if rec.WardID != nil {
			key.ward = *rec.WardID
		}
		d, ok := decisions[key]
		if !ok {
			if d, err = s.decide(ctx, tx, rec); err != nil {
				return err
			}
			decisions[key] = d
		}
		if d.post == nil {
			if err := complaint.Apply(ctx, tx, rec, complaint.Change{Action: complaint.RouteNone, Note: d.why}, now); err != nil {
				return err
			}
			continue
		}
		days, ok := sla[rec.CategoryID]
		if !ok {
			if days, err = complaint.SLADays(ctx, tx, rec.CategoryID, 1); err != nil {
				return err
			}
			sla[rec.CategoryID] = days
		}
		due := cal.DueAt(now, days)
		if err := complaint.Apply(ctx, tx, rec, complaint.Change{Action: complaint.Route, Mutate: complaint.AssignTo(d.post, due, ackDue)}, now); err != nil {
			return err
		}
	}
	return nil
}

// decision is where complaints of one category and place go: an L1 post,
// or the unrouted queue and why.
type decision struct {
	post *complaint.Post
	why  string
}

// decide finds the L1 post a complaint like rec goes to, or why none.
func (s *Service) decide(ctx context.Context, tx pgx.Tx, rec *complaint.Record) (decision, error) {
	var d decision
	dept, err := complaint.DepartmentFor(ctx, tx, rec.CategoryID, rec)
	if errors.Is(err, apperr.ErrNotFound) {
		d.why = "no routing rule for category " + rec.CategoryCode + " in " + rec.DistrictCode
		return d, nil
	}
	if err != nil {
		return d, err
	}
	d.post, err = complaint.PostFor(ctx, tx, dept, 1, rec.DistrictID)
	if errors.Is(err, apperr.ErrNotFound) {
		d.why = "the routed department has no level 1 post in " + rec.DistrictCode
		return d, nil
	}
	return d, err
}
