package routing

import (
	"context"

	"github.com/jackc/pgx/v5"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
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
	decisions, err := s.decideAll(ctx, tx, recs)
	if err != nil {
		return err
	}
	var cats []int64
	for _, rec := range recs {
		cats = append(cats, rec.CategoryID)
	}
	sla, err := complaint.SLAsDays(ctx, tx, cats, 1)
	if err != nil {
		return err
	}
	var todo []*complaint.Record
	var changes []complaint.Change
	for _, rec := range recs {
		if rec.Status != complaint.Registered {
			continue // routed already
		}
		d := decisions[complaint.RouteKeyOf(rec.CategoryID, rec)]
		ch := complaint.Change{Action: complaint.RouteNone, Note: d.why}
		if d.post != nil {
			ch = complaint.Change{Action: complaint.Route, Mutate: complaint.AssignTo(d.post, cal.DueAt(now, sla[rec.CategoryID]), ackDue)}
			if d.post.Holder == "" {
				ch.Note = complaint.NoHolderFlag(d.post) + ": flagged for the supervisor"
			}
		}
		todo, changes = append(todo, rec), append(changes, ch)
	}
	return complaint.ApplyMany(ctx, tx, todo, changes, now)
}

// decision is where complaints of one category and place go: an L1 post,
// or the unrouted queue and why.
type decision struct {
	post *complaint.Post
	why  string
}

// decideAll finds, in two statements, where the registered complaints of
// recs go: the L1 post of the department the most specific rule names for
// their category and place, or the unrouted queue and why.
func (s *Service) decideAll(ctx context.Context, tx pgx.Tx, recs []*complaint.Record) (map[complaint.RouteKey]decision, error) {
	var keys []complaint.RouteKey
	seen := map[complaint.RouteKey]bool{}
	for _, rec := range recs {
		if k := complaint.RouteKeyOf(rec.CategoryID, rec); rec.Status == complaint.Registered && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	out := make(map[complaint.RouteKey]decision, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	depts, err := complaint.DepartmentsFor(ctx, tx, keys)
	if err != nil {
		return nil, err
	}
	var pd, pdist []int64
	for _, k := range keys {
		if dept, ok := depts[k]; ok {
			pd, pdist = append(pd, dept), append(pdist, k.District)
		}
	}
	posts, err := complaint.DistrictPosts(ctx, tx, 1, pd, pdist)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		k := complaint.RouteKeyOf(rec.CategoryID, rec)
		if !seen[k] {
			continue
		}
		dept, ok := depts[k]
		switch {
		case !ok:
			out[k] = decision{why: "no routing rule for category " + rec.CategoryCode + " in " + rec.DistrictCode}
		case posts[[2]int64{dept, k.District}] == nil:
			out[k] = decision{why: "the routed department has no level 1 post in " + rec.DistrictCode}
		default:
			out[k] = decision{post: posts[[2]int64{dept, k.District}]}
		}
	}
	return out, nil
}
