package stats_test

// Acceptance tests of the statistics (DESIGN.md "Statistics: one meaning
// everywhere"). A server runs every service but stats, so that only these
// tests write the stats tables.
//
//   - TestStatisticsAgreeWithTickets drives some 2,000 complaints through
//     the real gRPC API over two months of fake time, records what it did,
//     reads every complaint back and computes every figure itself from
//     those tickets. It feeds the outbox events, shuffled and partly
//     duplicated, to a stats consumer built here, and checks every query
//     against its own figures: live, after a Rebuild from history, after a
//     full redelivery, and from scratch with a Rebuild racing the consumer.
//   - TestDepartmentGradesAndFreeze hand-computes a month's department
//     grades and checks that a closed month's grades are frozen.
//   - TestOfficerFollowsPostHolder and
//     TestCommandWaitingForAnEscalationSeesItsPost reproduce bugs found on
//     the way; they are skipped with the bug's description.
//
// The random plan is seeded: the seed is logged, and HELPLINE_STATS_SEED=<n>
// replays it (the interleaving with the server's background jobs is not
// replayed, but every expectation is computed from what actually happened).

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/consumer"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/services/stats"
)

// seedVar replays a run's random plan.
const seedVar = "HELPLINE_STATS_SEED"

var ist = clock.IST

const (
	stAssigned   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED
	stUnrouted   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNROUTED
	stRegistered = helplinev1.ComplaintStatus_COMPLAINT_STATUS_REGISTERED
	stInProgress = helplinev1.ComplaintStatus_COMPLAINT_STATUS_IN_PROGRESS
	stOnHold     = helplinev1.ComplaintStatus_COMPLAINT_STATUS_ON_HOLD
	stResolved   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_RESOLVED
	stReopened   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_REOPENED
	stClosed     = helplinev1.ComplaintStatus_COMPLAINT_STATUS_CLOSED

	clSatisfied  = helplinev1.Closure_CLOSURE_SATISFIED
	clNoResponse = helplinev1.Closure_CLOSURE_NO_RESPONSE
	clSpecial    = helplinev1.Closure_CLOSURE_SPECIAL
)

// startEnv starts every service but stats, so that nothing but this test
// writes the stats tables. The fake clock jumps weeks ahead, so the
// retention window is made long enough to keep every outbox row and
// applied-event record.
func startEnv(t *testing.T) *testenv.Env {
	t.Helper()
	return testenv.StartServerWith(t, func(cfg *server.Config) {
		cfg.Services = slices.DeleteFunc(slices.Clone(server.AllServices), func(s string) bool { return s == server.ServiceStats })
		cfg.Retention = 10 * 365 * 24 * time.Hour
	})
}

func adminCtx() context.Context {
	return caller.With(context.Background(), caller.Caller{Username: "admin", Role: caller.Admin})
}

// ---------------------------------------------------------------------------
// Driving complaints through the API.

// world drives complaints through the gRPC API as the right users.
type world struct {
	t      *testing.T
	env    *testenv.Env
	sat    helplinev1.SatisfactionServiceClient
	tokens map[string]context.Context // read-only after newWorld
}

// newWorld logs every user the test may act as in once, up front, so that
// goroutines only read the token map.
func newWorld(t *testing.T, env *testenv.Env, depts, districts []string) *world {
	t.Helper()
	w := &world{t: t, env: env, sat: helplinev1.NewSatisfactionServiceClient(env.Conn), tokens: map[string]context.Context{}}
	users := []string{"agent1", "supervisor"}
	for _, d := range depts {
		for _, di := range districts {
			users = append(users, strings.ToLower(d+"-"+di+"-l1"), strings.ToLower(d+"-"+di+"-l2"))
		}
		users = append(users, strings.ToLower(d+"-state-l3"), strings.ToLower(d+"-state-l4"))
	}
	for _, u := range users {
		w.tokens[u] = env.As(u)
	}
	return w
}

func (w *world) as(user string) (context.Context, error) {
	ctx, ok := w.tokens[user]
	if !ok {
		return nil, fmt.Errorf("test setup: no token for user %q", user)
	}
	return ctx, nil
}

// regSpec is one registration.
type regSpec struct {
	key, district, block, category, line string
	channel                              helplinev1.Channel
	phone                                string
}

func (w *world) register(s regSpec) (*helplinev1.Complaint, error) {
	resp, err := w.env.Intake.RegisterComplaint(w.tokens["agent1"], &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: s.key,
		Citizen:        &helplinev1.Citizen{Name: "Test Citizen", Phone: s.phone, Language: "hi"},
		Location:       &helplinev1.Location{DistrictCode: s.district, BlockCode: s.block, Locality: "bazaar"},
		CategoryCode:   s.category,
		Description:    "statistics acceptance test complaint " + s.key,
		Channel:        s.channel,
		Helpline:       s.line,
	})
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", s.key, err)
	}
	return resp.GetComplaint(), nil
}

// waitRouted waits until the routing consumer has taken every complaint
// out of REGISTERED (the routing time is the clock's, so the clock must
// not move meanwhile).
func (w *world) waitRouted() {
	w.t.Helper()
	testenv.Eventually(w.t, 60*time.Second, "routing of every registered complaint", func() bool {
		var n int
		if err := w.env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM complaints WHERE status = 'REGISTERED'`).Scan(&n); err != nil {
			w.t.Fatal(err)
		}
		return n == 0
	})
}

// settle waits until the escalation job has escalated everything overdue
// at the clock's time and the no-response job has closed every complaint
// with three failed feedback calls.
func (w *world) settle() {
	w.t.Helper()
	now := w.env.Clock.Now()
	testenv.Eventually(w.t, 60*time.Second, "background jobs catching up", func() bool {
		var due, unreachable int
		err := w.env.Pool.QueryRow(context.Background(), `
			SELECT count(*) FILTER (WHERE status IN ('ASSIGNED', 'IN_PROGRESS', 'REOPENED') AND level < 4 AND sla_due_at < $1),
			       count(*) FILTER (WHERE status = 'RESOLVED' AND feedback_attempts >= 3)
			FROM complaints`, now).Scan(&due, &unreachable)
		if err != nil {
			w.t.Fatal(err)
		}
		return due == 0 && unreachable == 0
	})
}

func (w *world) get(docket string) (*helplinev1.Complaint, error) {
	resp, err := w.env.Intake.GetComplaint(w.env.Admin, &helplinev1.GetComplaintRequest{Docket: docket})
	if err != nil {
		return nil, fmt.Errorf("GetComplaint %s: %w", docket, err)
	}
	return resp.GetComplaint(), nil
}

// retryable are the refusals a background job can cause between reading a
// complaint and acting on it (an escalation moves it to another post and
// back to ASSIGNED).
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.PermissionDenied, codes.FailedPrecondition, codes.NotFound:
		return true
	}
	return false
}

// officerGoal is what an officer action must achieve.
type officerGoal int

const (
	goalAck      officerGoal = iota // acknowledged (IN_PROGRESS), or further
	goalResolve                     // RESOLVED
	goalHold                        // ON_HOLD
	goalPropose                     // a special closure proposed
	goalReturn                      // returned to the unrouted queue
	goalTransfer                    // transferred by the post holder
)

func isWorking(s helplinev1.ComplaintStatus) bool {
	return s == stAssigned || s == stInProgress || s == stReopened
}

// officer acts as the current holder of the complaint's post until goal is
// reached, acknowledging or resuming on the way, and re-reading the
// complaint whenever a background job got in between.
func (w *world) officer(docket string, goal officerGoal, arg string) (*helplinev1.Complaint, error) {
	return w.officerFrom(docket, nil, goal, arg)
}

// officerFrom is officer starting from a possibly stale copy of the
// complaint (nil: read it), which it keeps up to date.
func (w *world) officerFrom(docket string, known **helplinev1.Complaint, goal officerGoal, arg string) (*helplinev1.Complaint, error) {
	var lastErr error
	var cur *helplinev1.Complaint
	if known != nil {
		cur = *known
	}
	for attempt := 0; attempt < 60; attempt++ {
		fresh := false
		if cur == nil {
			if attempt > 0 {
				time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
			}
			var err error
			if cur, err = w.get(docket); err != nil {
				return nil, err
			}
			fresh = true
		}
		for step := 0; step < 4; step++ {
			st, user := cur.GetStatus(), cur.GetAssignedOfficer()
			var err error
			ctx := context.Background()
			if user != "" {
				if ctx, err = w.as(user); err != nil {
					return nil, err
				}
			}
			var reply *helplinev1.Complaint
			final := false
			switch {
			case goal == goalAck && (st == stInProgress || st == stOnHold):
				return cur, nil
			case goal == goalPropose && isWorking(st):
				r, e := w.env.Resolution.ProposeSpecialClosure(ctx, &helplinev1.ProposeSpecialClosureRequest{Docket: docket,
					Reason: helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_POLICY_MATTER, Note: "needs a policy decision"})
				reply, err, final = r.GetComplaint(), e, true
			case goal == goalReturn && isWorking(st):
				r, e := w.env.Resolution.ReturnComplaint(ctx, &helplinev1.ReturnComplaintRequest{Docket: docket, Reason: "not this department's"})
				reply, err, final = r.GetComplaint(), e, true
			case goal == goalTransfer && isWorking(st):
				r, e := w.env.Resolution.TransferComplaint(ctx, &helplinev1.TransferComplaintRequest{Docket: docket, CategoryCode: arg, Note: "another department's"})
				reply, err, final = r.GetComplaint(), e, true
			case (goal == goalAck || goal == goalResolve || goal == goalHold) && (st == stAssigned || st == stReopened):
				r, e := w.env.Resolution.AcknowledgeComplaint(ctx, &helplinev1.AcknowledgeComplaintRequest{Docket: docket, Note: "looking into it"})
				reply, err, final = r.GetComplaint(), e, goal == goalAck
			case goal == goalResolve && st == stOnHold:
				r, e := w.env.Resolution.ResumeComplaint(ctx, &helplinev1.ResumeComplaintRequest{Docket: docket})
				reply, err = r.GetComplaint(), e
			case goal == goalResolve && st == stInProgress:
				r, e := w.env.Resolution.ResolveComplaint(ctx, &helplinev1.ResolveComplaintRequest{Docket: docket, ActionTakenReport: "work done on site"})
				reply, err, final = r.GetComplaint(), e, true
			case goal == goalHold && st == stInProgress:
				r, e := w.env.Resolution.RequestInformation(ctx, &helplinev1.RequestInformationRequest{Docket: docket, Note: "which house number?"})
				reply, err, final = r.GetComplaint(), e, true
			default:
				if !fresh {
					cur = nil // stale: read it again
					goto next
				}
				return nil, fmt.Errorf("%s: cannot reach goal %d from %s", docket, goal, st)
			}
			if err != nil {
				if !retryable(err) {
					return nil, fmt.Errorf("%s: officer %s at %s: %w", docket, user, st, err)
				}
				lastErr = err
				cur = nil
				goto next
			}
			if known != nil {
				*known = reply
			}
			if final {
				return reply, nil
			}
			cur = reply
		}
	next:
	}
	return nil, fmt.Errorf("%s: gave up reaching goal %d: %w", docket, goal, lastErr)
}

func (w *world) feedback(docket string, outcome helplinev1.FeedbackOutcome, satisfied bool) (*helplinev1.Complaint, error) {
	resp, err := w.sat.RecordFeedback(w.tokens["agent1"], &helplinev1.RecordFeedbackRequest{Docket: docket, Outcome: outcome, Satisfied: satisfied})
	if err != nil {
		return nil, fmt.Errorf("RecordFeedback %s %s satisfied=%v: %w", docket, outcome, satisfied, err)
	}
	return resp.GetComplaint(), nil
}

func (w *world) approve(docket string) (*helplinev1.Complaint, error) {
	resp, err := w.env.Resolution.DecideSpecialClosure(w.tokens["supervisor"], &helplinev1.DecideSpecialClosureRequest{Docket: docket, Approve: true, Note: "agreed"})
	if err != nil {
		return nil, fmt.Errorf("approve special closure of %s: %w", docket, err)
	}
	return resp.GetComplaint(), nil
}

func (w *world) transferBySupervisor(docket, category string) (*helplinev1.Complaint, error) {
	resp, err := w.env.Resolution.TransferComplaint(w.tokens["supervisor"], &helplinev1.TransferComplaintRequest{Docket: docket, CategoryCode: category, Note: "wrong department"})
	if err != nil {
		return nil, fmt.Errorf("transfer %s to %s by supervisor: %w", docket, category, err)
	}
	return resp.GetComplaint(), nil
}

func (w *world) assign(docket string) (*helplinev1.Complaint, error) {
	resp, err := w.env.Routing.AssignComplaint(w.tokens["supervisor"], &helplinev1.AssignComplaintRequest{Docket: docket, Note: "revenue matter"})
	if err != nil {
		return nil, fmt.Errorf("assign %s: %w", docket, err)
	}
	return resp.GetComplaint(), nil
}

// ---------------------------------------------------------------------------
// The random plan.

type category struct{ code, dept string }

// genCategories are the categories complaints are registered in (SLA
// shapes: urgent 2/2/3/3, ordinary 7/5/5/3, long 15/10/7/7).
var genCategories = []category{
	{"PWD_ROAD_POTHOLES", "PWD"}, {"PWD_ROAD_BLOCKED_LANDSLIDE", "PWD"}, {"PWD_ROAD_CONSTRUCTION_QUALITY", "PWD"},
	{"JAL_SHAKTI_NO_WATER_SUPPLY", "JAL_SHAKTI"}, {"JAL_SHAKTI_PIPELINE_LEAKAGE", "JAL_SHAKTI"},
	{"HEALTH_DOCTOR_ABSENT", "HEALTH"}, {"HEALTH_HIMCARE_CLAIM", "HEALTH"},
	{"POWER_OUTAGE", "POWER"}, {"POWER_NEW_CONNECTION_DELAY", "POWER"},
	{"EDUCATION_TEACHER_ABSENT", "EDUCATION"}, {"EDUCATION_SCHOLARSHIP_DELAY", "EDUCATION"},
}

// genDistricts and some of their blocks ("" for none).
var genDistricts = []struct {
	code   string
	blocks []string
}{
	{"SHIMLA", []string{"", "SHIMLA_MC", "THEOG", "MASHOBRA"}},
	{"KANGRA", []string{"", "DHARAMSHALA_MC", "NURPUR", "BAIJNATH"}},
	{"MANDI", []string{"", "MANDI_MC", "BALH"}},
	{"KULLU", []string{"", "KULLU_MC"}},
	{"LAHAUL_SPITI", []string{"", "KAZA"}},
}

var genDepartments = []string{"PWD", "JAL_SHAKTI", "HEALTH", "POWER", "EDUCATION", "URBAN_DEVELOPMENT", "REVENUE"}

var genChannels = []helplinev1.Channel{
	helplinev1.Channel_CHANNEL_PHONE, helplinev1.Channel_CHANNEL_PHONE, helplinev1.Channel_CHANNEL_PHONE,
	helplinev1.Channel_CHANNEL_WHATSAPP, helplinev1.Channel_CHANNEL_WEB, helplinev1.Channel_CHANNEL_MOBILE_APP,
	helplinev1.Channel_CHANNEL_WALK_IN, helplinev1.Channel_CHANNEL_EMAIL,
}

var genLines = []string{"1100", "1100", "1100", "181", "181", "1077"}

// routedDept is the department the seeded routing rules give.
func routedDept(cat, district, block string) string {
	if (cat == "JAL_SHAKTI_NO_WATER_SUPPLY" || cat == "JAL_SHAKTI_CONTAMINATED_WATER") && district == "SHIMLA" && block == "SHIMLA_MC" {
		return "URBAN_DEVELOPMENT"
	}
	for _, c := range genCategories {
		if c.code == cat {
			return c.dept
		}
	}
	return ""
}

type outcome int

const (
	oPendingAssigned outcome = iota
	oPendingInProgress
	oPendingOnHold
	oResolvedLeft
	oResolvedLate
	oResolvedPastDeadline
	oClosedSatisfied
	oReopenedSatisfied
	oReopenedPending
	oNoResponse
	oSpecial
	oTransferred
	oTransferredResolved
	oReturned
	oUnrouted
	oUnroutedAssigned
	nOutcomes
)

var outcomeNames = [nOutcomes]string{"pending assigned", "pending in progress", "pending on hold", "resolved", "resolved late",
	"resolved past deadline", "closed satisfied", "reopened then satisfied", "reopened pending", "no response", "special closure",
	"transferred", "transferred then satisfied", "returned", "unrouted", "unrouted then assigned"}

var outcomeWeights = [nOutcomes]int{8, 6, 3, 11, 6, 5, 16, 6, 3, 6, 6, 4, 3, 3, 4, 3}

type kind int

const (
	kRegister kind = iota
	kFollowUp
	kNote
	kAck
	kHold
	kResolve
	kResolveAfterDeadline
	kSatisfied
	kNotSatisfied
	kUnreachable
	kPropose
	kApprove
	kTransferSupervisor
	kTransferHolder
	kReturn
	kAssign
)

// step is one scheduled action on one complaint.
type step struct {
	at  time.Time
	c   *cplan
	k   kind
	seq int
	arg string
}

// cplan is one complaint: what the test planned, and what it did.
type cplan struct {
	idx     int
	cur     *helplinev1.Complaint // as last seen by the test
	spec    regSpec
	regAt   time.Time
	outcome outcome
	docket  string
	nextSeq int
	// What the test did (one goroutine at a time touches a complaint).
	satisfiedCalls, notSatisfiedCalls, unreachableCalls int
	transferredTo                                       string
	approved, returned, assigned                        bool
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func pickOutcome(rng *rand.Rand) outcome {
	total := 0
	for _, w := range outcomeWeights {
		total += w
	}
	n := rng.IntN(total)
	for o, w := range outcomeWeights {
		if n < w {
			return outcome(o)
		}
		n -= w
	}
	return oPendingAssigned
}

func dur(days, hours, minutes int) time.Duration {
	return time.Duration(days)*24*time.Hour + time.Duration(hours)*time.Hour + time.Duration(minutes)*time.Minute
}

// Offsets from registration, chosen off the histogram's hour boundaries.
var (
	ackOffsets     = []time.Duration{dur(0, 0, 11), dur(0, 0, 23), dur(0, 0, 47), dur(0, 3, 5), dur(1, 2, 7), dur(2, 5, 13)}
	resolveOffsets = []time.Duration{dur(0, 0, 37), dur(0, 2, 50), dur(0, 9, 15), dur(0, 20, 40), dur(1, 15, 3), dur(2, 11, 9),
		dur(4, 1, 17), dur(6, 2, 21), dur(8, 7, 29), dur(12, 0, 31), dur(20, 3, 41), dur(33, 0, 43)}
	lateOffsets     = []time.Duration{dur(22, 3, 1), dur(30, 5, 3), dur(41, 0, 7)}
	feedbackOffsets = []time.Duration{dur(0, 1, 10), dur(1, 3, 19), dur(2, 20, 33)}
	againOffsets    = []time.Duration{dur(0, 2, 3), dur(1, 5, 27), dur(3, 0, 49)}
)

// planner builds the complaints and their steps.
type planner struct {
	rng   *rand.Rand
	limit time.Time // no step later than this
	seed  uint64
}

func (p *planner) add(c *cplan, at time.Time, k kind, arg string) *step {
	if at.After(p.limit) {
		at = p.limit
	}
	s := &step{at: at, c: c, k: k, seq: c.nextSeq, arg: arg}
	c.nextSeq++
	return s
}

func (p *planner) complaint(idx int, regAt time.Time) (*cplan, []*step) {
	rng := p.rng
	c := &cplan{idx: idx, regAt: regAt, outcome: pickOutcome(rng)}
	d := genDistricts[rng.IntN(len(genDistricts))]
	if rng.IntN(3) == 0 { // plenty of Shimla for the officer scope
		d = genDistricts[0]
	}
	cat := pick(rng, genCategories)
	if rng.IntN(4) == 0 {
		cat = genCategories[rng.IntN(3)] // plenty of PWD
	}
	catCode := cat.code
	if c.outcome == oUnrouted || c.outcome == oUnroutedAssigned {
		catCode = "GENERAL_OTHER"
	}
	c.spec = regSpec{
		key: fmt.Sprintf("stats-%d-%d", p.seed, idx), district: d.code, block: pick(rng, d.blocks), category: catCode,
		line: pick(rng, genLines), channel: pick(rng, genChannels), phone: fmt.Sprintf("98160%05d", idx%100000),
	}
	var steps []*step
	at := func(off time.Duration) time.Time { return regAt.Add(off) }
	steps = append(steps, p.add(c, regAt, kRegister, ""))
	if rng.IntN(6) == 0 {
		steps = append(steps, p.add(c, at(dur(0, 0, 5)), kFollowUp, ""))
	}
	if rng.IntN(8) == 0 {
		steps = append(steps, p.add(c, at(dur(0, 0, 7)), kNote, ""))
	}
	a := pick(rng, ackOffsets)
	resolveAfter := func(after time.Duration) time.Duration {
		var later []time.Duration
		for _, r := range resolveOffsets {
			if r > after {
				later = append(later, r)
			}
		}
		return pick(rng, later)
	}
	switch c.outcome {
	case oPendingAssigned, oUnrouted:
	case oPendingInProgress:
		steps = append(steps, p.add(c, at(a), kAck, ""))
	case oPendingOnHold:
		steps = append(steps, p.add(c, at(a), kHold, ""))
	case oResolvedLeft, oClosedSatisfied, oReopenedSatisfied, oReopenedPending, oNoResponse:
		r := resolveAfter(a)
		steps = append(steps, p.add(c, at(a), kAck, ""), p.add(c, at(r), kResolve, ""))
		f := r + pick(rng, feedbackOffsets)
		switch c.outcome {
		case oClosedSatisfied:
			steps = append(steps, p.add(c, at(f), kSatisfied, ""))
		case oReopenedSatisfied:
			g := f + pick(rng, againOffsets)
			steps = append(steps, p.add(c, at(f), kNotSatisfied, ""), p.add(c, at(g), kResolve, ""),
				p.add(c, at(g+pick(rng, feedbackOffsets)), kSatisfied, ""))
		case oReopenedPending:
			steps = append(steps, p.add(c, at(f), kNotSatisfied, ""))
			if rng.IntN(2) == 0 {
				steps = append(steps, p.add(c, at(f+pick(rng, againOffsets)), kAck, ""))
			}
		case oNoResponse:
			steps = append(steps, p.add(c, at(f), kUnreachable, ""), p.add(c, at(f+dur(0, 2, 1)), kUnreachable, ""),
				p.add(c, at(f+dur(1, 1, 1)), kUnreachable, ""))
		}
	case oResolvedLate:
		steps = append(steps, p.add(c, at(a), kAck, ""), p.add(c, at(pick(rng, lateOffsets)), kResolve, ""))
	case oResolvedPastDeadline:
		steps = append(steps, p.add(c, at(a), kAck, ""), p.add(c, at(a+time.Minute), kResolveAfterDeadline, ""))
	case oSpecial:
		if rng.IntN(2) == 0 {
			steps = append(steps, p.add(c, at(a), kAck, ""))
		}
		pr := a + pick(rng, againOffsets)
		steps = append(steps, p.add(c, at(pr), kPropose, ""), p.add(c, at(pr+pick(rng, []time.Duration{dur(0, 0, 31), dur(1, 0, 3)})), kApprove, ""))
	case oTransferred, oTransferredResolved:
		if rng.IntN(2) == 0 {
			steps = append(steps, p.add(c, at(a), kAck, ""))
		}
		own := routedDept(catCode, c.spec.district, c.spec.block)
		var targets []string
		for _, x := range genCategories {
			if x.dept != own && x.code != catCode {
				targets = append(targets, x.code)
			}
		}
		tr := a + pick(rng, againOffsets)
		k := kTransferSupervisor
		if rng.IntN(2) == 0 {
			k = kTransferHolder
		}
		steps = append(steps, p.add(c, at(tr), k, pick(rng, targets)))
		if c.outcome == oTransferredResolved {
			r := tr + pick(rng, againOffsets)
			steps = append(steps, p.add(c, at(r), kResolve, ""), p.add(c, at(r+pick(rng, feedbackOffsets)), kSatisfied, ""))
		}
	case oReturned:
		if rng.IntN(2) == 0 {
			steps = append(steps, p.add(c, at(a), kAck, ""))
		}
		steps = append(steps, p.add(c, at(a+pick(rng, againOffsets)), kReturn, ""))
	case oUnroutedAssigned:
		as := pick(rng, againOffsets)
		steps = append(steps, p.add(c, at(as), kAssign, ""))
		if rng.IntN(2) == 0 {
			r := as + pick(rng, againOffsets)
			steps = append(steps, p.add(c, at(r), kResolve, ""), p.add(c, at(r+pick(rng, feedbackOffsets)), kSatisfied, ""))
		}
	}
	return c, steps
}

// exec performs one step; it may schedule more.
func (w *world) exec(p *planner, s *step) ([]*step, error) {
	c := s.c
	var err error
	switch s.k {
	case kFollowUp:
		_, err = w.env.Intake.AddFollowUp(w.tokens["agent1"], &helplinev1.AddFollowUpRequest{Docket: c.docket, Note: "citizen called again"})
	case kNote:
		_, err = w.env.Resolution.AddNote(w.tokens["supervisor"], &helplinev1.AddNoteRequest{Docket: c.docket, Note: "watching this one"})
	case kAck:
		_, err = w.officerFrom(c.docket, &c.cur, goalAck, "")
	case kHold:
		_, err = w.officerFrom(c.docket, &c.cur, goalHold, "")
	case kResolve:
		_, err = w.officerFrom(c.docket, &c.cur, goalResolve, "")
	case kResolveAfterDeadline:
		cur, e := w.get(c.docket)
		if e != nil {
			return nil, e
		}
		next := w.env.Clock.Now().Add(time.Minute)
		if due := cur.GetSlaDueAt(); due != nil && due.AsTime().Add(time.Minute).After(next) {
			next = due.AsTime().Add(time.Minute) // just past the deadline: the escalation job races the resolution
		}
		return []*step{p.add(c, next, kResolve, "")}, nil
	case kSatisfied:
		if c.cur, err = w.feedback(c.docket, helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_REACHED, true); err == nil {
			c.satisfiedCalls++
		}
	case kNotSatisfied:
		if c.cur, err = w.feedback(c.docket, helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_REACHED, false); err == nil {
			c.notSatisfiedCalls++
		}
	case kUnreachable:
		if c.cur, err = w.feedback(c.docket, helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_NOT_REACHABLE, false); err == nil {
			c.unreachableCalls++
		}
	case kPropose:
		_, err = w.officerFrom(c.docket, &c.cur, goalPropose, "")
	case kApprove:
		if c.cur, err = w.approve(c.docket); err == nil {
			c.approved = true
		}
	case kTransferSupervisor:
		if c.cur, err = w.transferBySupervisor(c.docket, s.arg); err == nil {
			c.transferredTo = s.arg
		}
	case kTransferHolder:
		if _, err = w.officerFrom(c.docket, &c.cur, goalTransfer, s.arg); err == nil {
			c.transferredTo = s.arg
		}
	case kReturn:
		if _, err = w.officerFrom(c.docket, &c.cur, goalReturn, ""); err == nil {
			c.returned = true
		}
	case kAssign:
		if c.cur, err = w.assign(c.docket); err == nil {
			c.assigned = true
		}
	default:
		err = fmt.Errorf("unknown step kind %d", s.k)
	}
	if err != nil {
		return nil, fmt.Errorf("complaint #%d %s (%s), step %d at %s: %w", c.idx, c.docket, outcomeNames[c.outcome], s.k,
			s.at.In(ist).Format("2006-01-02 15:04"), err)
	}
	return nil, nil
}

func stepLess(a, b *step) int {
	return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.c.idx, b.c.idx), cmp.Compare(a.seq, b.seq))
}

// run walks the fake clock through every step, running the steps of one
// instant concurrently (one goroutine per complaint at a time).
func (w *world) run(p *planner, steps []*step, workers int) {
	t := w.t
	slices.SortFunc(steps, stepLess)
	instants, settles := 0, 0
	defer func() { t.Logf("%d instants of the fake clock, %d waits for the background jobs", instants, settles) }()
	for len(steps) > 0 {
		instants++
		now := steps[0].at
		n := 1
		for n < len(steps) && steps[n].at.Equal(now) {
			n++
		}
		batch := steps[:n]
		steps = steps[n:]
		w.env.Clock.Set(now)
		// A supervisor's or agent's command that waits for a complaint the
		// escalation job is moving records it without its post (see
		// TestCommandWaitingForAnEscalationSeesItsPost): let the jobs
		// finish what the clock's move made due before such commands.
		// Officers' commands may race the job (a resolution just past the
		// deadline does so on purpose): an officer whose post the
		// complaint just left is refused, and retries as the new holder.
		if slices.ContainsFunc(batch, func(s *step) bool { return s.k == kApprove || s.k == kNote || s.k == kFollowUp }) {
			w.settle()
			settles++
		}

		var regs []*step
		byComplaint := map[*cplan][]*step{}
		var order []*cplan
		for _, s := range batch {
			if s.k == kRegister {
				regs = append(regs, s)
				continue
			}
			if _, ok := byComplaint[s.c]; !ok {
				order = append(order, s.c)
			}
			byComplaint[s.c] = append(byComplaint[s.c], s)
		}
		var mu sync.Mutex
		var errs []error
		var added []*step
		parallel(workers, len(regs), func(i int) {
			c := regs[i].c
			got, err := w.register(c.spec)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			c.docket = got.GetDocket()
		})
		if len(errs) > 0 {
			t.Fatalf("%d registrations failed, first: %v", len(errs), errs[0])
		}
		if len(regs) > 0 {
			w.waitRouted()
		}
		parallel(workers, len(order), func(i int) {
			for _, s := range byComplaint[order[i]] {
				more, err := w.exec(p, s)
				mu.Lock()
				added = append(added, more...)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
		if len(errs) > 0 {
			for _, e := range errs[:min(len(errs), 5)] {
				t.Error(e)
			}
			t.Fatalf("%d steps at %s failed", len(errs), now.In(ist).Format(time.DateTime))
		}
		for _, s := range added {
			i, _ := slices.BinarySearchFunc(steps, s, stepLess)
			steps = slices.Insert(steps, i, s)
		}
	}
}

// parallel runs f(0..n-1) on workers goroutines.
func parallel(workers, n int, f func(i int)) {
	if n == 0 {
		return
	}
	ch := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				f(i)
			}
		}()
	}
	for i := range n {
		ch <- i
	}
	close(ch)
	wg.Wait()
}

// ---------------------------------------------------------------------------
// The test's own figures.

// bucketHours are DESIGN.md's resolution-time histogram bounds; a last
// bucket holds everything longer.
var bucketHours = []float64{1, 4, 12, 24, 48, 72, 120, 168, 240, 360, 720}

const nBuckets = 12

func bucketOf(d time.Duration) int {
	for i, b := range bucketHours {
		if d.Hours() <= b {
			return i
		}
	}
	return len(bucketHours)
}

// fact is one complaint as read back, with what the statistics count.
type fact struct {
	docket                                               string
	day                                                  time.Time // registration day, IST midnight
	dept, district, category, officer, channel, line     string
	status                                               helplinev1.ComplaintStatus
	closure                                              helplinev1.Closure
	reopened, escalated, reached                         int64
	resolved, slaMet, closed, satisfied, noResp, special bool
	bucket                                               int
	resolutionTime                                       time.Duration
}

func istDay(t time.Time) time.Time {
	y, m, d := t.In(ist).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, ist)
}

// factOf computes a complaint's figures from the ticket and its history.
func factOf(c *helplinev1.Complaint) (fact, error) {
	created := c.GetCreatedAt().AsTime()
	f := fact{
		docket: c.GetDocket(), day: istDay(created),
		dept: c.GetDepartmentCode(), district: c.GetLocation().GetDistrictCode(), category: c.GetCategoryCode(),
		officer: c.GetAssignedOfficer(), channel: strings.TrimPrefix(c.GetChannel().String(), "CHANNEL_"), line: c.GetHelpline(),
		status: c.GetStatus(), closure: c.GetClosure(), reopened: int64(c.GetReopenCount()), bucket: -1,
	}
	var lastResolve *helplinev1.HistoryEntry
	var reopens int64
	for _, h := range c.GetHistory() {
		switch h.GetAction() {
		case "escalate":
			f.escalated++
		case "resolve":
			lastResolve = h
		case "feedback_satisfied":
			f.reached++
		case "feedback_not_satisfied":
			f.reached++
			reopens++
			lastResolve = nil
		}
	}
	if reopens != f.reopened {
		return f, fmt.Errorf("%s: reopen_count %d but %d feedback_not_satisfied entries", f.docket, f.reopened, reopens)
	}
	f.closed = f.status == stClosed
	f.satisfied = f.closed && f.closure == clSatisfied
	f.noResp = f.closed && f.closure == clNoResponse
	f.special = f.closed && f.closure == clSpecial
	f.resolved = f.status == stResolved || f.satisfied || f.noResp
	if f.resolved {
		if lastResolve == nil {
			return f, fmt.Errorf("%s: %s without a resolve entry after the last reopening", f.docket, f.status)
		}
		at := lastResolve.GetAt().AsTime()
		if c.GetResolvedAt() == nil || !c.GetResolvedAt().AsTime().Equal(at) {
			return f, fmt.Errorf("%s: resolved_at %v, latest resolve entry at %v", f.docket, c.GetResolvedAt(), at)
		}
		if due := lastResolve.GetSlaDueAt(); due == nil {
			return f, fmt.Errorf("%s: resolved without a deadline in force", f.docket)
		} else {
			f.slaMet = !at.After(due.AsTime())
		}
		f.resolutionTime = at.Sub(created)
		f.bucket = bucketOf(f.resolutionTime)
	}
	return f, nil
}

// counts are a group's figures.
type counts struct {
	registered, resolved, satisfied, noResp, special, closed, reopened, escalated, reached, slaMet int64
	hist                                                                                           [nBuckets]int64
}

func (n *counts) add(f fact) {
	b := func(v bool) int64 {
		if v {
			return 1
		}
		return 0
	}
	n.registered++
	n.resolved += b(f.resolved)
	n.satisfied += b(f.satisfied)
	n.noResp += b(f.noResp)
	n.special += b(f.special)
	n.closed += b(f.closed)
	n.reopened += f.reopened
	n.escalated += f.escalated
	n.reached += b(f.reached > 0) // complaints reached at least once, not calls
	n.slaMet += b(f.resolved && f.slaMet)
	if f.resolved {
		n.hist[f.bucket]++
	}
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// rankBucket is the bucket of the k-th smallest resolution time (1-based).
func rankBucket(hist [nBuckets]int64, k int64, labels []string) string {
	var cum int64
	for i, v := range hist {
		cum += v
		if cum >= k {
			return labels[i]
		}
	}
	return "?"
}

// percentiles are the median and the 90th percentile by nearest rank:
// ceil(n/2) and ceil(9n/10).
func percentiles(hist [nBuckets]int64, labels []string) (string, string) {
	var n int64
	for _, v := range hist {
		n += v
	}
	if n == 0 {
		return "", ""
	}
	return rankBucket(hist, (n+1)/2, labels), rankBucket(hist, (9*n+9)/10, labels)
}

type grouping struct {
	g   helplinev1.StatsGrouping
	key func(f fact) string
}

var groupings = []grouping{
	{helplinev1.StatsGrouping_STATS_GROUPING_DEPARTMENT, func(f fact) string { return f.dept }},
	{helplinev1.StatsGrouping_STATS_GROUPING_DISTRICT, func(f fact) string { return f.district }},
	{helplinev1.StatsGrouping_STATS_GROUPING_CATEGORY, func(f fact) string { return f.category }},
	{helplinev1.StatsGrouping_STATS_GROUPING_OFFICER, func(f fact) string { return f.officer }},
	{helplinev1.StatsGrouping_STATS_GROUPING_CHANNEL, func(f fact) string { return f.channel }},
	{helplinev1.StatsGrouping_STATS_GROUPING_LINE, func(f fact) string { return f.line }},
}

// selection is a query's filter.
type selection struct {
	from, to       time.Time // registration days, inclusive; zero: any
	dept, district string
}

func (s selection) has(f fact) bool {
	if !s.from.IsZero() && (f.day.Before(s.from) || f.day.After(s.to)) {
		return false
	}
	return (s.dept == "" || f.dept == s.dept) && (s.district == "" || f.district == s.district)
}

func (s selection) String() string {
	var parts []string
	if !s.from.IsZero() {
		parts = append(parts, s.from.Format(time.DateOnly)+".."+s.to.Format(time.DateOnly))
	}
	if s.dept != "" {
		parts = append(parts, "department "+s.dept)
	}
	if s.district != "" {
		parts = append(parts, "district "+s.district)
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, ", ")
}

// checkResolution compares a GetResolutionStats answer with the test's figures.
func checkResolution(t *testing.T, label string, resp *helplinev1.GetResolutionStatsResponse, facts []fact, g grouping, sel selection) {
	t.Helper()
	labels := resp.GetHistogramBuckets()
	if len(labels) != nBuckets {
		t.Errorf("%s: %d histogram labels %q, want %d", label, len(labels), labels, nBuckets)
		return
	}
	want := map[string]*counts{}
	var total counts
	for _, f := range facts {
		if !sel.has(f) {
			continue
		}
		k := g.key(f)
		if want[k] == nil {
			want[k] = &counts{}
		}
		want[k].add(f)
		total.add(f)
	}
	got := map[string]*helplinev1.ResolutionStatsRow{}
	for _, r := range resp.GetRows() {
		if _, dup := got[r.GetKey()]; dup {
			t.Errorf("%s: key %q appears twice", label, r.GetKey())
		}
		got[r.GetKey()] = r
	}
	for k, n := range want {
		r, ok := got[k]
		if !ok {
			t.Errorf("%s: no row for %q (want %d registered)", label, k, n.registered)
			continue
		}
		compareRow(t, label+" row "+strconv.Quote(k), r, n, labels)
	}
	for k, r := range got {
		if want[k] == nil {
			t.Errorf("%s: unexpected row %q: %v", label, k, r)
		}
	}
	if resp.GetTotal() == nil {
		t.Errorf("%s: no total", label)
		return
	}
	compareRow(t, label+" total", resp.GetTotal(), &total, labels)
}

func compareRow(t *testing.T, label string, r *helplinev1.ResolutionStatsRow, n *counts, labels []string) {
	t.Helper()
	median, p90 := percentiles(n.hist, labels)
	type field struct {
		name      string
		got, want any
	}
	fields := []field{
		{"registered", r.GetRegistered(), n.registered},
		{"resolved", r.GetResolved(), n.resolved},
		{"closed_satisfied", r.GetClosedSatisfied(), n.satisfied},
		{"closed_no_response", r.GetClosedNoResponse(), n.noResp},
		{"special_closures", r.GetSpecialClosures(), n.special},
		{"pending", r.GetPending(), n.registered - n.closed},
		{"reopened", r.GetReopened(), n.reopened},
		{"escalated", r.GetEscalated(), n.escalated},
		{"feedback_reached", r.GetFeedbackReached(), n.reached},
		{"resolved_on_time", r.GetResolvedOnTime(), n.slaMet},
		{"resolution_rate", r.GetResolutionRate(), ratio(n.resolved, n.registered)},
		{"satisfaction_rate", r.GetSatisfactionRate(), ratio(n.satisfied, n.registered)},
		{"satisfied_share_of_reached", r.GetSatisfiedShareOfReached(), ratio(n.satisfied, n.reached)},
		{"sla_compliance", r.GetSlaCompliance(), ratio(n.slaMet, n.resolved)},
		{"median_resolution_bucket", r.GetMedianResolutionBucket(), median},
		{"p90_resolution_bucket", r.GetP90ResolutionBucket(), p90},
		{"resolution_histogram", fmt.Sprint(r.GetResolutionHistogram()), fmt.Sprint(n.hist[:])},
	}
	for _, f := range fields {
		if f.got != f.want {
			t.Errorf("%s: %s = %v, want %v", label, f.name, f.got, f.want)
		}
	}
}

// checkAging compares a GetPendencyAging answer with the test's figures.
func checkAging(t *testing.T, label string, resp *helplinev1.GetPendencyAgingResponse, facts []fact, g grouping, sel selection, today time.Time) {
	t.Helper()
	if resp.GetAsOf() != today.Format(time.DateOnly) {
		t.Errorf("%s: as_of %q, want %s", label, resp.GetAsOf(), today.Format(time.DateOnly))
	}
	want := map[string]*[6]int64{}
	var total [6]int64
	for _, f := range facts {
		if !sel.has(f) || f.closed {
			continue
		}
		age := int(today.Sub(f.day).Hours()/24 + 0.5)
		var b int
		switch {
		case age <= 7:
			b = 0
		case age <= 15:
			b = 1
		case age <= 30:
			b = 2
		case age <= 50:
			b = 3
		default:
			b = 4
		}
		k := g.key(f)
		if want[k] == nil {
			want[k] = &[6]int64{}
		}
		want[k][b]++
		want[k][5]++
		total[b]++
		total[5]++
	}
	row := func(r *helplinev1.PendencyAgingRow) [6]int64 {
		return [6]int64{r.GetDays_0_7(), r.GetDays_8_15(), r.GetDays_16_30(), r.GetDays_31_50(), r.GetDaysOver_50(), r.GetTotal()}
	}
	got := map[string][6]int64{}
	for _, r := range resp.GetRows() {
		if _, dup := got[r.GetKey()]; dup {
			t.Errorf("%s: key %q appears twice", label, r.GetKey())
		}
		got[r.GetKey()] = row(r)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != *w {
			t.Errorf("%s: row %q = %v (present %v), want %v (0-7, 8-15, 16-30, 31-50, >50, total)", label, k, g, ok, *w)
		}
	}
	for k, g := range got {
		if want[k] == nil {
			t.Errorf("%s: unexpected row %q = %v", label, k, g)
		}
	}
	if g := row(resp.GetTotal()); g != total {
		t.Errorf("%s: total %v, want %v", label, g, total)
	}
}

// checkQueries runs every query the test knows the answer to.
func checkQueries(t *testing.T, phase string, svc *stats.Service, facts []fact, first, last, today time.Time) {
	t.Helper()
	ctx := adminCtx()
	mid1, mid2 := first.AddDate(0, 0, 7), first.AddDate(0, 0, 28)
	sels := []selection{
		{from: first, to: last},
		{from: first, to: last, dept: "PWD"},
		{from: first, to: last, district: "SHIMLA"},
		{from: first, to: last, dept: "JAL_SHAKTI", district: "KANGRA"},
		{from: mid1, to: mid2},
	}
	for _, sel := range sels {
		for _, g := range groupings {
			label := fmt.Sprintf("%s: GetResolutionStats by %s of %s", phase, g.g, sel)
			resp, err := svc.GetResolutionStats(ctx, &helplinev1.GetResolutionStatsRequest{
				FromDate: sel.from.Format(time.DateOnly), ToDate: sel.to.Format(time.DateOnly), GroupBy: g.g,
				DepartmentCode: sel.dept, DistrictCode: sel.district,
			})
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			checkResolution(t, label, resp, facts, g, sel)
		}
	}
	for _, sel := range []selection{{}, {dept: "PWD"}, {district: "SHIMLA"}, {from: mid1, to: mid2}} {
		for _, g := range groupings {
			label := fmt.Sprintf("%s: GetPendencyAging by %s of %s", phase, g.g, sel)
			req := &helplinev1.GetPendencyAgingRequest{GroupBy: g.g, DepartmentCode: sel.dept, DistrictCode: sel.district}
			if !sel.from.IsZero() {
				req.FromDate, req.ToDate = sel.from.Format(time.DateOnly), sel.to.Format(time.DateOnly)
			}
			resp, err := svc.GetPendencyAging(ctx, req)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			checkAging(t, label, resp, facts, g, sel, today)
		}
	}
}

// ---------------------------------------------------------------------------
// Events, the consumer and the stats tables.

func outboxEvents(t *testing.T, env *testenv.Env) []*helplinev1.ComplaintEvent {
	t.Helper()
	rows, err := env.Pool.Query(context.Background(), `SELECT payload FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []*helplinev1.ComplaintEvent
	for rows.Next() {
		var payload []byte
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		ev := &helplinev1.ComplaintEvent{}
		if err := proto.Unmarshal(payload, ev); err != nil {
			t.Fatalf("decode outbox payload: %v", err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// deliveries is every event once, some twice, in random order.
func deliveries(rng *rand.Rand, evs []*helplinev1.ComplaintEvent, dupShare float64) []*helplinev1.ComplaintEvent {
	out := slices.Clone(evs)
	for _, ev := range evs {
		if rng.Float64() < dupShare {
			out = append(out, proto.Clone(ev).(*helplinev1.ComplaintEvent))
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// applyAll applies evs through ApplyBatch in random batch sizes (1..200) on
// a few goroutines, as several consumer replicas would.
func applyAll(t *testing.T, cons *consumer.Consumer, rng *rand.Rand, evs []*helplinev1.ComplaintEvent, workers int) {
	t.Helper()
	applyAllWith(t, cons, rng, evs, workers, nil)
}

// applyAllWith is applyAll calling after(i) once the i-th batch is applied.
func applyAllWith(t *testing.T, cons *consumer.Consumer, rng *rand.Rand, evs []*helplinev1.ComplaintEvent, workers int, after func(i, n int)) {
	t.Helper()
	var batches [][]*helplinev1.ComplaintEvent
	for len(evs) > 0 {
		n := min(1+rng.IntN(200), len(evs))
		batches = append(batches, evs[:n])
		evs = evs[n:]
	}
	var mu sync.Mutex
	var failures []error
	retried := 0
	parallel(workers, len(batches), func(i int) {
		var err error
		for attempt := 0; attempt < 5; attempt++ {
			if err = cons.ApplyBatch(context.Background(), batches[i]); err == nil {
				if after != nil {
					after(i, len(batches))
				}
				return
			}
			mu.Lock()
			retried++
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		failures = append(failures, err)
		mu.Unlock()
	})
	if retried > 0 {
		t.Logf("ApplyBatch failed and was retried %d times (concurrent batches)", retried)
	}
	if len(failures) > 0 {
		t.Fatalf("%d batches could not be applied, first: %v", len(failures), failures[0])
	}
}

var rollupTables = []string{"stats_base", "stats_category", "stats_channel", "stats_line", "stats_officer"}

var counterCols = []string{"registered", "resolved", "satisfied", "no_response", "special", "closed", "reopened",
	"escalated", "reached", "sla_met", "assignments", "acks_on_time",
	"h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9", "h10", "h11"}

// snapshot reads every stats_facts row and every rollup row with a
// non-zero counter, as JSON text, in order; it also counts the rollup rows
// whose counters are all zero (left behind when facts move between groups).
func snapshot(t *testing.T, env *testenv.Env) (map[string][]string, int) {
	t.Helper()
	ctx := context.Background()
	out := map[string][]string{}
	read := func(name, q string) {
		rows, err := env.Pool.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		list, err := collectStrings(rows)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out[name] = list
	}
	read("stats_facts", `SELECT row_to_json(x)::text FROM stats_facts x ORDER BY complaint_id`)
	zero := make([]string, len(counterCols))
	for i, c := range counterCols {
		zero[i] = c + " = 0"
	}
	allZero := strings.Join(zero, " AND ")
	zeros := 0
	for _, tbl := range rollupTables {
		read(tbl, fmt.Sprintf(`SELECT row_to_json(x)::text FROM %s x WHERE NOT (%s) ORDER BY 1`, tbl, allZero))
		var n int
		if err := env.Pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s`, tbl, allZero)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		zeros += n
	}
	return out, zeros
}

func collectStrings(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close()
}) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func compareSnapshots(t *testing.T, before, after map[string][]string) {
	t.Helper()
	for _, tbl := range append([]string{"stats_facts"}, rollupTables...) {
		b, a := before[tbl], after[tbl]
		if slices.Equal(b, a) {
			continue
		}
		bs, as := map[string]bool{}, map[string]bool{}
		for _, r := range b {
			bs[r] = true
		}
		for _, r := range a {
			as[r] = true
		}
		var shown int
		for _, r := range b {
			if !as[r] && shown < 5 {
				t.Errorf("%s: live row missing after Rebuild: %s", tbl, r)
				shown++
			}
		}
		shown = 0
		for _, r := range a {
			if !bs[r] && shown < 5 {
				t.Errorf("%s: Rebuild row the live consumer did not have: %s", tbl, r)
				shown++
			}
		}
		t.Errorf("%s: %d rows live, %d after Rebuild, differing", tbl, len(b), len(a))
	}
}

// ---------------------------------------------------------------------------
// The acceptance test.

func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(seedVar); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", seedVar, s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay the plan with %s=%d)", seed, seedVar, seed)
	return seed
}

// TestStatisticsAgreeWithTickets is the acceptance test of the statistics:
// every figure of every query equals what the test counts from the tickets
// it drove, after an out-of-order, duplicated delivery of every event,
// after a rebuild from history, and after a full redelivery.
func TestStatisticsAgreeWithTickets(t *testing.T) {
	const complaints = 2000
	const workers = 6
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	began := time.Now()

	env := startEnv(t)
	districts := make([]string, len(genDistricts))
	for i, d := range genDistricts {
		districts[i] = d.code
	}
	w := newWorld(t, env, genDepartments, districts)

	// Registration days, chosen so that the ages at the end (day 58,
	// Wednesday 30 December 2026, 02:00 IST, which is still 29 December in
	// UTC) fall on every aging bucket's edges: 58 51 50 45 31 30 16 15 8 7 2.
	start := testenv.Start // Monday 2 November 2026, 10:00 IST
	day0 := istDay(start)
	regDays := []int{0, 7, 8, 13, 27, 28, 42, 43, 50, 51, 56}
	earlyDays := map[int]bool{7: true, 28: true, 43: true, 51: true} // some registrations at 00:20 IST (the previous day in UTC)
	end := day0.AddDate(0, 0, 58).Add(2 * time.Hour)
	p := &planner{rng: rng, limit: day0.AddDate(0, 0, 57).Add(21 * time.Hour), seed: seed}
	var plans []*cplan
	var steps []*step
	for i := 0; i < complaints; i++ {
		d := regDays[i%len(regDays)]
		regAt := day0.AddDate(0, 0, d).Add(10 * time.Hour)
		if earlyDays[d] && rng.IntN(4) == 0 {
			regAt = day0.AddDate(0, 0, d).Add(20 * time.Minute)
		}
		c, s := p.complaint(i, regAt)
		plans = append(plans, c)
		steps = append(steps, s...)
	}
	t.Logf("planned %d complaints, %d steps", len(plans), len(steps))

	w.run(p, steps, workers)
	env.Clock.Set(end)
	w.settle()
	t.Logf("drove the complaints through the API in %v", time.Since(began).Round(time.Millisecond))

	// Read every ticket back and compute the figures from it.
	facts := make([]fact, len(plans))
	var mu sync.Mutex
	var errs []error
	parallel(workers, len(plans), func(i int) {
		c, err := w.get(plans[i].docket)
		var f fact
		if err == nil {
			f, err = factOf(c)
		}
		if err == nil {
			err = checkPlan(plans[i], c, f)
		}
		mu.Lock()
		defer mu.Unlock()
		facts[i] = f
		if err != nil {
			errs = append(errs, err)
		}
	})
	for _, e := range errs[:min(len(errs), 10)] {
		t.Error(e)
	}
	if len(errs) > 0 {
		t.Fatalf("%d complaints did not end as planned", len(errs))
	}
	logMix(t, plans, facts)

	// Every outbox event, shuffled, 30% of them twice, in random batches.
	evs := outboxEvents(t, env)
	deliv := deliveries(rng, evs, 0.3)
	logger := testenv.Logger(t)
	svc := stats.New(env.Pool, env.Clock, calendar.Default, logger, stats.DefaultGrades)
	cons := consumer.New(svc.ConsumerConfig(), env.Pool, nil, env.Clock, logger)
	applyStart := time.Now()
	applyAll(t, cons, rng, deliv, 3)
	t.Logf("applied %d deliveries of %d events in %v", len(deliv), len(evs), time.Since(applyStart).Round(time.Millisecond))

	first, last := day0, day0.AddDate(0, 0, 56)
	today := istDay(end)
	checkQueries(t, "live", svc, facts, first, last, today)
	t.Run("officer scope", func(t *testing.T) { checkOfficerScope(t, env, svc, facts, first, last, today) })

	// Rebuild from history gives the same facts and rollups.
	phase := time.Now()
	before, zeros := snapshot(t, env)
	if got := len(before["stats_facts"]); got != len(plans) {
		t.Errorf("stats_facts has %d rows, want one per complaint (%d)", got, len(plans))
	}
	if zeros > 0 {
		t.Logf("the live rollups hold %d rows whose counters are all zero (facts that moved to other groups); the comparison ignores them", zeros)
	}
	n, err := svc.Rebuild(context.Background())
	if err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if n != len(plans) {
		t.Errorf("Rebuild counted %d complaints, want %d", n, len(plans))
	}
	after, _ := snapshot(t, env)
	compareSnapshots(t, before, after)
	checkQueries(t, "after Rebuild", svc, facts, first, last, today)
	t.Logf("Rebuild and checks: %v", time.Since(phase).Round(time.Millisecond))
	phase = time.Now()

	// Redelivering everything changes nothing.
	applyAll(t, cons, rng, deliveries(rng, evs, 0), 1)
	again, _ := snapshot(t, env)
	compareSnapshots(t, after, again)
	checkQueries(t, "after redelivery", svc, facts, first, last, today)
	t.Logf("redelivery and checks: %v", time.Since(phase).Round(time.Millisecond))
	phase = time.Now()

	// From scratch again, with a Rebuild racing the consumer: it runs
	// while a third of the (shuffled, duplicated) deliveries are applied,
	// and the consumer carries on from the rebuilt facts.
	for _, q := range []string{
		`DELETE FROM applied_events WHERE consumer = 'stats'`,
		`DELETE FROM consumer_versions WHERE consumer = 'stats'`,
		`TRUNCATE stats_facts, stats_base, stats_category, stats_channel, stats_line, stats_officer`,
	} {
		if _, err := env.Pool.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rebuilt := make(chan error, 1)
	var once sync.Once
	var applied, atStart, atEnd atomic.Int64
	total := 0
	applyAllWith(t, cons, rng, deliveries(rng, evs, 0.1), 3, func(i, n int) {
		total = n
		applied.Add(1)
		if i >= n/3 {
			once.Do(func() {
				atStart.Store(applied.Load())
				go func() {
					_, err := svc.Rebuild(context.Background())
					atEnd.Store(applied.Load())
					rebuilt <- err
				}()
			})
		}
	})
	if err := <-rebuilt; err != nil {
		t.Fatalf("Rebuild racing the consumer: %v", err)
	}
	t.Logf("Rebuild ran while batches %d to %d of %d were applied", atStart.Load(), atEnd.Load(), total)
	raced, _ := snapshot(t, env)
	compareSnapshots(t, after, raced)
	checkQueries(t, "after a Rebuild racing the consumer", svc, facts, first, last, today)
	t.Logf("from scratch with a Rebuild racing the consumer, and checks: %v", time.Since(phase).Round(time.Millisecond))
	t.Logf("%d complaints, %d events; total %v", len(plans), len(evs), time.Since(began).Round(time.Millisecond))
}

// checkPlan checks that a complaint ended the way the test drove it, and
// that the figures the test can know from its own record agree with the
// ticket.
func checkPlan(c *cplan, got *helplinev1.Complaint, f fact) error {
	bad := func(why string) error {
		return fmt.Errorf("complaint #%d %s (%s): %s; it is %s %s at %q L%d", c.idx, c.docket, outcomeNames[c.outcome], why,
			got.GetStatus(), got.GetClosure(), got.GetPost(), got.GetLevel())
	}
	if f.reached != int64(c.satisfiedCalls+c.notSatisfiedCalls) {
		return bad(fmt.Sprintf("%d reached feedback calls in history, the test made %d", f.reached, c.satisfiedCalls+c.notSatisfiedCalls))
	}
	if f.reopened != int64(c.notSatisfiedCalls) {
		return bad(fmt.Sprintf("reopen_count %d, the test made %d unsatisfied calls", f.reopened, c.notSatisfiedCalls))
	}
	if f.day != istDay(c.regAt) {
		return bad(fmt.Sprintf("registration day %s, want %s", f.day.Format(time.DateOnly), istDay(c.regAt).Format(time.DateOnly)))
	}
	if f.district != c.spec.district || f.line != c.spec.line || f.channel != strings.TrimPrefix(c.spec.channel.String(), "CHANNEL_") {
		return bad(fmt.Sprintf("district/line/channel %s/%s/%s, registered %s/%s/%s", f.district, f.line, f.channel, c.spec.district, c.spec.line, c.spec.channel))
	}
	pending := got.GetStatus() == stAssigned || got.GetStatus() == stInProgress || got.GetStatus() == stReopened
	wantDept := routedDept(c.spec.category, c.spec.district, c.spec.block)
	switch c.outcome {
	case oPendingAssigned:
		if got.GetStatus() != stAssigned {
			return bad("want ASSIGNED")
		}
	case oPendingInProgress, oReopenedPending:
		if !pending {
			return bad("want pending")
		}
	case oPendingOnHold:
		if got.GetStatus() != stOnHold {
			return bad("want ON_HOLD")
		}
	case oResolvedLeft, oResolvedLate, oResolvedPastDeadline:
		if got.GetStatus() != stResolved {
			return bad("want RESOLVED")
		}
	case oClosedSatisfied, oReopenedSatisfied:
		if !f.satisfied {
			return bad("want CLOSED SATISFIED")
		}
	case oNoResponse:
		if !f.noResp || c.unreachableCalls != 3 {
			return bad(fmt.Sprintf("want CLOSED NO_RESPONSE after 3 failed calls (made %d)", c.unreachableCalls))
		}
	case oSpecial:
		if !f.special || !c.approved {
			return bad("want CLOSED SPECIAL")
		}
	case oTransferred, oTransferredResolved:
		wantDept = routedDept(c.transferredTo, c.spec.district, c.spec.block)
		if c.transferredTo == "" || f.category != c.transferredTo {
			return bad(fmt.Sprintf("want transferred to %q, category is %q", c.transferredTo, f.category))
		}
		if c.outcome == oTransferred && !pending {
			return bad("want pending after the transfer")
		}
		if c.outcome == oTransferredResolved && !f.satisfied {
			return bad("want CLOSED SATISFIED after the transfer")
		}
	case oReturned, oUnrouted:
		wantDept = ""
		if got.GetStatus() != stUnrouted || f.officer != "" || !c.returned && c.outcome == oReturned {
			return bad("want UNROUTED without a post")
		}
	case oUnroutedAssigned:
		wantDept = "REVENUE" // GENERAL_OTHER's own department
		if !c.assigned {
			return bad("was not assigned")
		}
	}
	if f.dept != wantDept {
		return bad(fmt.Sprintf("department %q, want %q", f.dept, wantDept))
	}
	if f.dept != "" && !strings.HasPrefix(f.officer, strings.ToLower(f.dept)+"-") {
		return bad(fmt.Sprintf("officer %q is not of department %s", f.officer, f.dept))
	}
	return nil
}

func logMix(t *testing.T, plans []*cplan, facts []fact) {
	t.Helper()
	var byOutcome [nOutcomes]int
	var esc, late, reopened, resolved int
	buckets := map[int]int{}
	for i, c := range plans {
		byOutcome[c.outcome]++
		f := facts[i]
		if f.escalated > 0 {
			esc++
		}
		if f.resolved {
			resolved++
			buckets[f.bucket]++
			if !f.slaMet {
				late++
			}
		}
		if f.reopened > 0 {
			reopened++
		}
	}
	var parts []string
	for o, n := range byOutcome {
		parts = append(parts, fmt.Sprintf("%s %d", outcomeNames[o], n))
	}
	t.Logf("outcomes: %s", strings.Join(parts, ", "))
	t.Logf("%d escalated at least once, %d resolved (%d late), %d reopened; resolution-time buckets used: %v", esc, resolved, late, reopened, buckets)
	if late == 0 || esc == 0 || len(buckets) < 8 {
		t.Errorf("the mix is too thin to test much: %d late resolutions, %d escalated, %d buckets", late, esc, len(buckets))
	}
}

// checkOfficerScope: an officer's statistics cover their post's department
// and district only.
func checkOfficerScope(t *testing.T, env *testenv.Env, svc *stats.Service, facts []fact, first, last, today time.Time) {
	officer := func(username string) context.Context {
		var id int64
		if err := env.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE username = $1`, username).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return caller.With(context.Background(), caller.Caller{UserID: id, Username: username, Role: caller.Officer})
	}
	// A state post (L3) covers its department in every district.
	state := officer("pwd-state-l3")
	for _, g := range groupings {
		label := fmt.Sprintf("officer pwd-state-l3: GetResolutionStats by %s", g.g)
		resp, err := svc.GetResolutionStats(state, &helplinev1.GetResolutionStatsRequest{GroupBy: g.g,
			FromDate: first.Format(time.DateOnly), ToDate: last.Format(time.DateOnly)})
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		checkResolution(t, label, resp, facts, g, selection{from: first, to: last, dept: "PWD"})
	}
	ctx := officer("pwd-shimla-l1")
	own := selection{from: first, to: last, dept: "PWD", district: "SHIMLA"}
	for _, g := range groupings {
		for _, req := range []*helplinev1.GetResolutionStatsRequest{
			{GroupBy: g.g},
			{GroupBy: g.g, DepartmentCode: "PWD"},
			{GroupBy: g.g, DistrictCode: "SHIMLA"},
		} {
			req.FromDate, req.ToDate = first.Format(time.DateOnly), last.Format(time.DateOnly)
			label := fmt.Sprintf("officer pwd-shimla-l1: GetResolutionStats by %s (filters %q %q)", g.g, req.GetDepartmentCode(), req.GetDistrictCode())
			resp, err := svc.GetResolutionStats(ctx, req)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			checkResolution(t, label, resp, facts, g, own)
		}
		// Another department or district: nothing.
		for _, req := range []*helplinev1.GetResolutionStatsRequest{
			{GroupBy: g.g, DepartmentCode: "HEALTH"},
			{GroupBy: g.g, DistrictCode: "KANGRA"},
		} {
			req.FromDate, req.ToDate = first.Format(time.DateOnly), last.Format(time.DateOnly)
			resp, err := svc.GetResolutionStats(ctx, req)
			if err != nil {
				t.Fatalf("officer GetResolutionStats %v: %v", req, err)
			}
			if len(resp.GetRows()) != 0 || resp.GetTotal().GetRegistered() != 0 {
				t.Errorf("officer pwd-shimla-l1 asking for %q %q sees %d rows, %d registered; want nothing",
					req.GetDepartmentCode(), req.GetDistrictCode(), len(resp.GetRows()), resp.GetTotal().GetRegistered())
			}
		}
		resp, err := svc.GetPendencyAging(ctx, &helplinev1.GetPendencyAgingRequest{GroupBy: g.g})
		if err != nil {
			t.Fatalf("officer GetPendencyAging: %v", err)
		}
		checkAging(t, fmt.Sprintf("officer pwd-shimla-l1: GetPendencyAging by %s", g.g), resp, facts, g, selection{dept: "PWD", district: "SHIMLA"}, today)
	}
}

// ---------------------------------------------------------------------------
// Department grades.

// TestDepartmentGradesAndFreeze hand-computes January 2027's grades of four
// departments and checks that, once January is over, its grades are frozen
// at the values of its end however the complaints move on.
func TestDepartmentGradesAndFreeze(t *testing.T) {
	env := startEnv(t)
	w := newWorld(t, env, []string{"PWD", "HEALTH", "POWER", "EDUCATION", "REVENUE"}, []string{"SHIMLA", "KANGRA", "MANDI", "KULLU"})
	logger := testenv.Logger(t)
	svc := stats.New(env.Pool, env.Clock, calendar.Default, logger, stats.DefaultGrades)
	cons := consumer.New(svc.ConsumerConfig(), env.Pool, nil, env.Clock, logger)
	ctx := adminCtx()
	keys := 0
	reg := func(district, cat string) string {
		t.Helper()
		keys++
		c, err := w.register(regSpec{key: fmt.Sprintf("grades-%d", keys), district: district, category: cat, line: "1100",
			channel: helplinev1.Channel_CHANNEL_PHONE, phone: fmt.Sprintf("94180%05d", keys)})
		if err != nil {
			t.Fatal(err)
		}
		return c.GetDocket()
	}
	must := func(_ *helplinev1.Complaint, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ack := func(d string) { t.Helper(); must(w.officer(d, goalAck, "")) }
	resolve := func(d string) { t.Helper(); must(w.officer(d, goalResolve, "")) }
	satisfied := func(d string) {
		t.Helper()
		must(w.feedback(d, helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_REACHED, true))
	}
	at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, clock.IST) }
	applyNew := func() { t.Helper(); applyAll(t, cons, rand.New(rand.NewPCG(1, 2)), outboxEvents(t, env), 1) }

	// November 2026: a backlog that is more than 50 days old at the end of
	// January (registered before 12 December), and an old closed complaint.
	oldPWD1, oldPWD2 := reg("SHIMLA", "PWD_ROAD_POTHOLES"), reg("SHIMLA", "PWD_ROAD_POTHOLES")
	oldPower := reg("KANGRA", "POWER_OUTAGE")
	oldHealth := reg("MANDI", "HEALTH_HIMCARE_CLAIM")
	w.waitRouted()
	resolve(oldHealth)
	satisfied(oldHealth)
	_, _, _ = oldPWD1, oldPWD2, oldPower

	// Thursday 28 January 2027, 10:00: this month's complaints (long SLAs,
	// none due before February). Their assignments must be acknowledged
	// by the end of Friday 29 January.
	env.Clock.Set(at(2027, time.January, 28, 10, 0))
	w.settle() // the November backlog climbs to L4
	var p, h, e [5]string
	var pw [2]string
	for i := 0; i < 5; i++ {
		p[i] = reg("SHIMLA", "PWD_ROAD_CONSTRUCTION_QUALITY")
	}
	for i := 0; i < 4; i++ {
		h[i] = reg("MANDI", "HEALTH_HIMCARE_CLAIM")
		e[i] = reg("KULLU", "EDUCATION_SCHOLARSHIP_DELAY")
	}
	pw[0], pw[1] = reg("KANGRA", "POWER_NEW_CONNECTION_DELAY"), reg("KANGRA", "POWER_NEW_CONNECTION_DELAY")
	unrouted := reg("SHIMLA", "GENERAL_OTHER")
	w.waitRouted()
	if c, err := w.get(unrouted); err != nil || c.GetStatus() != stUnrouted {
		t.Fatalf("GENERAL_OTHER complaint: %v %v, want UNROUTED", c.GetStatus(), err)
	}

	env.Clock.Set(at(2027, time.January, 28, 10, 30))
	for _, d := range []string{p[0], p[1], p[2], p[4], h[0], h[1], h[2], h[3], e[0], e[1], e[2]} {
		ack(d) // on time
	}
	env.Clock.Set(at(2027, time.January, 28, 11, 0))
	must(w.officer(p[2], goalPropose, ""))
	env.Clock.Set(at(2027, time.January, 28, 11, 30))
	must(w.approve(p[2]))
	env.Clock.Set(at(2027, time.January, 28, 12, 0))
	for _, d := range []string{p[0], p[1], h[0], h[1], h[2], h[3], e[0], e[1], e[2]} {
		resolve(d)
	}
	env.Clock.Set(at(2027, time.January, 28, 14, 0))
	for _, d := range []string{p[0], p[1], h[0], h[1], h[2], e[0], e[1]} {
		satisfied(d)
	}
	for i := 0; i < 3; i++ {
		must(w.feedback(h[3], helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_NOT_REACHABLE, false))
	}
	// Saturday 30 January (a working day): acknowledged a day late.
	env.Clock.Set(at(2027, time.January, 30, 10, 0))
	ack(e[3])
	ack(pw[1])
	resolve(pw[1])
	// Sunday 31 January, 22:00: the month's end.
	env.Clock.Set(at(2027, time.January, 31, 22, 0))
	w.settle()
	if c, err := w.get(h[3]); err != nil || c.GetClosure() != clNoResponse {
		t.Fatalf("%s after three failed calls: %v %v, want CLOSED NO_RESPONSE", h[3], c.GetClosure(), err)
	}
	applyNew()

	// The hand-computed grades. PWD: 5 registered, 2 satisfied, 3 closed of
	// which 1 special, 4 of 5 assignments acknowledged in time; backlog 4
	// pending (2 from November, older than 50 days).
	// HEALTH: 4 registered, 3 satisfied, 1 no-response, all acknowledged in
	// time; no backlog. POWER: 2 registered, none closed, one acknowledged
	// late, one never; backlog 3 pending (the resolved one is pending too),
	// 1 from November. EDUCATION: 4 registered, 2 satisfied, 1 acknowledged
	// late; backlog 2 pending, none old.
	want := []*helplinev1.DepartmentGrade{
		{DepartmentCode: "HEALTH", Registered: 4, SatisfiedShare: 3.0 / 4, PendingOver_50Share: 0, SpecialClosureShare: 0, UnacknowledgedShare: 0,
			Score: 40*0.75 + 30 + 15 + 15, Grade: "A", Rank: 1},
		{DepartmentCode: "EDUCATION", Registered: 4, SatisfiedShare: 2.0 / 4, PendingOver_50Share: 0, SpecialClosureShare: 0, UnacknowledgedShare: 1.0 / 4,
			Score: 20 + 30 + 15 + 15*0.75, Grade: "B", Rank: 2}, // 76.25
		{DepartmentCode: "PWD", Registered: 5, SatisfiedShare: 2.0 / 5, PendingOver_50Share: 2.0 / 4, SpecialClosureShare: 1.0 / 3, UnacknowledgedShare: 1.0 / 5,
			Score: 16 + 15 + 10 + 12, Grade: "C", Rank: 3}, // 53
		{DepartmentCode: "POWER", Registered: 2, SatisfiedShare: 0, PendingOver_50Share: 1.0 / 3, SpecialClosureShare: 0, UnacknowledgedShare: 1,
			Score: 0 + 20 + 15 + 0, Grade: "D", Rank: 4}, // 35
	}

	// During January: the month's grades so far, not frozen.
	cur, err := svc.GetDepartmentGrades(ctx, &helplinev1.GetDepartmentGradesRequest{})
	if err != nil {
		t.Fatalf("GetDepartmentGrades (current month): %v", err)
	}
	if cur.GetMonth() != "2027-01" || cur.GetFrozen() || cur.GetFrozenAt() != nil {
		t.Errorf("current month: month %q frozen %v at %v, want 2027-01 not frozen", cur.GetMonth(), cur.GetFrozen(), cur.GetFrozenAt())
	}
	checkGrades(t, "January, during January", cur.GetGrades(), want)

	// Monday 1 February, 00:30 IST (still 31 January in UTC): a new
	// complaint belongs to February.
	env.Clock.Set(at(2027, time.February, 1, 0, 30))
	feb := reg("SHIMLA", "PWD_ROAD_CONSTRUCTION_QUALITY")
	w.waitRouted()
	applyNew()
	frozenAt := env.Clock.Now()
	jan, err := svc.GetDepartmentGrades(ctx, &helplinev1.GetDepartmentGradesRequest{Month: "2027-01"})
	if err != nil {
		t.Fatalf("GetDepartmentGrades 2027-01: %v", err)
	}
	if jan.GetMonth() != "2027-01" || !jan.GetFrozen() || jan.GetFrozenAt() == nil || !jan.GetFrozenAt().AsTime().Equal(frozenAt) {
		t.Errorf("closed month: month %q frozen %v at %v, want 2027-01 frozen at %v", jan.GetMonth(), jan.GetFrozen(), jan.GetFrozenAt().AsTime(), frozenAt)
	}
	checkGrades(t, "January, frozen", jan.GetGrades(), want)

	// The officer sees their department's grade only.
	var id int64
	if err := env.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'pwd-shimla-l1'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	officer := caller.With(context.Background(), caller.Caller{UserID: id, Username: "pwd-shimla-l1", Role: caller.Officer})
	if og, err := svc.GetDepartmentGrades(officer, &helplinev1.GetDepartmentGradesRequest{Month: "2027-01"}); err != nil {
		t.Errorf("officer GetDepartmentGrades: %v", err)
	} else {
		checkGrades(t, "January as pwd-shimla-l1", og.GetGrades(), want[2:3])
	}

	// February changes January's outcomes: the frozen grades stay.
	env.Clock.Set(at(2027, time.February, 1, 11, 0))
	w.settle()
	for _, d := range []string{p[3], pw[0], e[3]} {
		resolve(d)
		satisfied(d)
	}
	satisfied(pw[1])
	satisfied(e[2])
	must(w.officer(p[4], goalPropose, ""))
	must(w.approve(p[4]))
	resolve(feb)
	applyNew()
	again, err := svc.GetDepartmentGrades(ctx, &helplinev1.GetDepartmentGradesRequest{Month: "2027-01"})
	if err != nil {
		t.Fatalf("GetDepartmentGrades 2027-01 again: %v", err)
	}
	if !proto.Equal(again, jan) {
		t.Errorf("January's frozen grades changed after February's changes:\nfirst %v\nnow   %v", jan, again)
	}
	checkGrades(t, "January, frozen, after changes", again.GetGrades(), want)
	// February itself is live and counts the complaint registered at 00:30 IST.
	cur, err = svc.GetDepartmentGrades(ctx, &helplinev1.GetDepartmentGradesRequest{})
	if err != nil {
		t.Fatalf("GetDepartmentGrades (February): %v", err)
	}
	if cur.GetMonth() != "2027-02" || cur.GetFrozen() || len(cur.GetGrades()) != 1 || cur.GetGrades()[0].GetDepartmentCode() != "PWD" || cur.GetGrades()[0].GetRegistered() != 1 {
		t.Errorf("February so far: %v, want PWD alone with the one complaint registered on 1 February (IST), not frozen", cur)
	}
	if _, err := svc.GetDepartmentGrades(ctx, &helplinev1.GetDepartmentGradesRequest{Month: "2027-03"}); codeOf(err) != codes.InvalidArgument {
		t.Errorf("grades of a future month: %v, want InvalidArgument", err)
	}
}

// codeOf is the gRPC code a handler's error gets on the wire.
func codeOf(err error) codes.Code {
	st, _ := apperr.ToStatus(err)
	return st.Code()
}

func checkGrades(t *testing.T, label string, got, want []*helplinev1.DepartmentGrade) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d grades, want %d: %v", label, len(got), len(want), got)
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
		if g.GetDepartmentCode() != w.GetDepartmentCode() || g.GetRegistered() != w.GetRegistered() || g.GetGrade() != w.GetGrade() ||
			g.GetRank() != w.GetRank() || !near(g.GetScore(), w.GetScore()) ||
			!near(g.GetSatisfiedShare(), w.GetSatisfiedShare()) || !near(g.GetPendingOver_50Share(), w.GetPendingOver_50Share()) ||
			!near(g.GetSpecialClosureShare(), w.GetSpecialClosureShare()) || !near(g.GetUnacknowledgedShare(), w.GetUnacknowledgedShare()) {
			t.Errorf("%s: grade #%d\n got  %v\n want %v", label, i+1, g, w)
		}
	}
}

// TestOfficerFollowsPostHolder: complaints are counted under the officer
// who holds their post now (DESIGN.md), so when a post changes hands the
// officer figures move to the new holder, live and after a rebuild alike.
func TestOfficerFollowsPostHolder(t *testing.T) {
	env := startEnv(t)
	w := newWorld(t, env, []string{"PWD"}, []string{"SHIMLA", "KANGRA"})
	logger := testenv.Logger(t)
	svc := stats.New(env.Pool, env.Clock, calendar.Default, logger, stats.DefaultGrades)
	cons := consumer.New(svc.ConsumerConfig(), env.Pool, nil, env.Clock, logger)
	ctx := adminCtx()
	var dockets []string
	for i := 0; i < 2; i++ {
		c, err := w.register(regSpec{key: fmt.Sprintf("holder-%d", i), district: "SHIMLA", category: "PWD_ROAD_POTHOLES", line: "1100",
			channel: helplinev1.Channel_CHANNEL_PHONE, phone: fmt.Sprintf("94181%05d", i)})
		if err != nil {
			t.Fatal(err)
		}
		dockets = append(dockets, c.GetDocket())
	}
	w.waitRouted()
	apply := func() { t.Helper(); applyAll(t, cons, rand.New(rand.NewPCG(3, 4)), outboxEvents(t, env), 1) }
	apply()
	day := istDay(env.Clock.Now()).Format(time.DateOnly)
	officers := func(label string) map[string]int64 {
		t.Helper()
		resp, err := svc.GetResolutionStats(ctx, &helplinev1.GetResolutionStatsRequest{FromDate: day, ToDate: day, GroupBy: helplinev1.StatsGrouping_STATS_GROUPING_OFFICER})
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		out := map[string]int64{}
		for _, r := range resp.GetRows() {
			out[r.GetKey()] = r.GetRegistered()
		}
		return out
	}
	if got := officers("before"); len(got) != 1 || got["pwd-shimla-l1"] != 2 {
		t.Fatalf("officer rows before the change: %v, want pwd-shimla-l1: 2", got)
	}

	// PWD-SHIMLA-L1 changes hands (pwd-kangra-l1 holds it as well now).
	routing := helplinev1.NewRoutingServiceClient(env.Conn)
	if _, err := routing.UpsertPost(env.Admin, &helplinev1.UpsertPostRequest{Post: &helplinev1.Post{
		Code: "PWD-SHIMLA-L1", DepartmentCode: "PWD", Level: 1, DistrictCode: "SHIMLA", Name: "PWD Field Officer, Shimla",
		HolderUsername: "pwd-kangra-l1"}}); err != nil {
		t.Fatalf("UpsertPost: %v", err)
	}
	for _, d := range dockets {
		c, err := w.get(d)
		if err != nil {
			t.Fatal(err)
		}
		if c.GetAssignedOfficer() != "pwd-kangra-l1" {
			t.Fatalf("%s: assigned_officer %q after the change, want pwd-kangra-l1", d, c.GetAssignedOfficer())
		}
	}
	apply()
	want := map[string]int64{"pwd-kangra-l1": 2}
	if got := officers("live, after the change"); !maps.Equal(got, want) {
		t.Errorf("officer rows after PWD-SHIMLA-L1 passed to pwd-kangra-l1: %v, want %v (the tickets say pwd-kangra-l1)", got, want)
	}
	if _, err := svc.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := officers("after Rebuild"); !maps.Equal(got, want) {
		t.Errorf("officer rows after Rebuild: %v, want %v", got, want)
	}
}

// TestCommandWaitingForAnEscalationSeesItsPost: a command that waits for
// the row lock of a complaint that another transaction is moving to
// another post (the escalation job, a transfer) must act on, record and
// publish the complaint as it is after that change. The concurrent change
// is the real transition (complaint.Apply) in a transaction of the test,
// committed while the RPC waits for the row.
func TestCommandWaitingForAnEscalationSeesItsPost(t *testing.T) {
	env := startEnv(t)
	w := newWorld(t, env, []string{"PWD"}, []string{"SHIMLA"})
	bg := context.Background()
	newComplaint := func(key string) *helplinev1.Complaint {
		t.Helper()
		c, err := w.register(regSpec{key: key, district: "SHIMLA", category: "PWD_ROAD_POTHOLES", line: "1100",
			channel: helplinev1.Channel_CHANNEL_PHONE, phone: "9418077777"})
		if err != nil {
			t.Fatal(err)
		}
		w.waitRouted()
		return c
	}
	// race locks the complaint, starts call (which then waits for the
	// row), applies change in the locking transaction and commits.
	race := func(t *testing.T, c *helplinev1.Complaint, actor caller.Caller, call func() error, change func(ctx context.Context, tx pgx.Tx, r *complaint.Record) complaint.Change) error {
		t.Helper()
		ctx := caller.With(bg, actor)
		tx, err := env.Pool.Begin(bg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(bg) }()
		r, err := complaint.LockByID(ctx, tx, c.GetId())
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- call() }()
		// Wait until the RPC waits for the row.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			select {
			case err := <-done:
				t.Fatalf("the RPC did not wait for the row lock: %v", err)
			default:
			}
			var n int
			if err := env.Pool.QueryRow(bg, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
				AND wait_event_type = 'Lock' AND query LIKE '%FROM complaints WHERE%FOR UPDATE%'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("timed out waiting for the RPC to wait for the row lock")
			}
		}
		if err := complaint.Apply(ctx, tx, r, change(ctx, tx, r), env.Clock.Now()); err != nil {
			t.Fatalf("concurrent change: %v", err)
		}
		if err := tx.Commit(bg); err != nil {
			t.Fatal(err)
		}
		return <-done
	}
	lastEntry := func(t *testing.T, d string) (*helplinev1.Complaint, *helplinev1.HistoryEntry, *helplinev1.ComplaintEvent) {
		t.Helper()
		c, err := w.get(d)
		if err != nil {
			t.Fatal(err)
		}
		evs := outboxEvents(t, env)
		var last *helplinev1.ComplaintEvent
		for _, ev := range evs {
			if ev.GetComplaintId() == c.GetId() && (last == nil || ev.GetVersion() > last.GetVersion()) {
				last = ev
			}
		}
		return c, c.GetHistory()[len(c.GetHistory())-1], last
	}

	t.Run("approval waiting for an escalation", func(t *testing.T) {
		c := newComplaint("race-approve")
		if _, err := w.officer(c.GetDocket(), goalPropose, ""); err != nil {
			t.Fatal(err)
		}
		var reply *helplinev1.Complaint
		err := race(t, c, caller.SystemCaller, func() error {
			var err error
			reply, err = w.approve(c.GetDocket())
			return err
		}, func(ctx context.Context, tx pgx.Tx, r *complaint.Record) complaint.Change {
			post, err := complaint.PostByCode(ctx, tx, "PWD-SHIMLA-L2")
			if err != nil {
				t.Fatal(err)
			}
			return complaint.Change{Action: complaint.Escalate, Note: "SLA passed (test)", Mutate: func(r *complaint.Record) error {
				r.EscalationCount++
				return complaint.AssignTo(post, r.SLADueAt.AddDate(0, 0, 5), r.SLADueAt.AddDate(0, 0, 1))(r)
			}}
		})
		if err != nil {
			t.Fatalf("approval after the escalation: %v", err)
		}
		got, h, ev := lastEntry(t, c.GetDocket())
		if got.GetStatus() != stClosed || got.GetPost() != "PWD-SHIMLA-L2" || got.GetAssignedOfficer() != "pwd-shimla-l2" {
			t.Fatalf("stored complaint: %s at %q (%q), want CLOSED at PWD-SHIMLA-L2 (pwd-shimla-l2)", got.GetStatus(), got.GetPost(), got.GetAssignedOfficer())
		}
		if reply.GetPost() != "PWD-SHIMLA-L2" || reply.GetAssignedOfficer() != "pwd-shimla-l2" {
			t.Errorf("approval reply: post %q officer %q, want PWD-SHIMLA-L2 pwd-shimla-l2", reply.GetPost(), reply.GetAssignedOfficer())
		}
		if h.GetAction() != "approve_special_closure" || h.GetPost() != "PWD-SHIMLA-L2" || h.GetLevel() != 2 {
			t.Errorf("approval history entry: %s post %q L%d, want approve_special_closure at PWD-SHIMLA-L2 L2", h.GetAction(), h.GetPost(), h.GetLevel())
		}
		if s := ev.GetSnapshot(); ev.GetType() != "special_closure_decided" || s.GetPost() != "PWD-SHIMLA-L2" || s.GetOfficer() != "pwd-shimla-l2" {
			t.Errorf("approval event %s: snapshot post %q officer %q, want PWD-SHIMLA-L2 pwd-shimla-l2", ev.GetType(), s.GetPost(), s.GetOfficer())
		}
		// The statistics count the closed complaint under the ticket's officer.
		logger := testenv.Logger(t)
		svc := stats.New(env.Pool, env.Clock, calendar.Default, logger, stats.DefaultGrades)
		applyAll(t, consumer.New(svc.ConsumerConfig(), env.Pool, nil, env.Clock, logger), rand.New(rand.NewPCG(5, 6)), outboxEvents(t, env), 1)
		day := istDay(env.Clock.Now()).Format(time.DateOnly)
		resp, err := svc.GetResolutionStats(adminCtx(), &helplinev1.GetResolutionStatsRequest{FromDate: day, ToDate: day,
			GroupBy: helplinev1.StatsGrouping_STATS_GROUPING_OFFICER})
		if err != nil {
			t.Fatal(err)
		}
		if rows := resp.GetRows(); len(rows) != 1 || rows[0].GetKey() != "pwd-shimla-l2" || rows[0].GetSpecialClosures() != 1 {
			t.Errorf("officer statistics: %v, want one row pwd-shimla-l2 with the special closure", rows)
		}
	})

	t.Run("note waiting for a transfer", func(t *testing.T) {
		c := newComplaint("race-note")
		err := race(t, c, caller.Caller{Username: "supervisor", Role: caller.Supervisor}, func() error {
			_, err := w.env.Resolution.AddNote(w.tokens["supervisor"], &helplinev1.AddNoteRequest{Docket: c.GetDocket(), Note: "watching"})
			return err
		}, func(ctx context.Context, tx pgx.Tx, r *complaint.Record) complaint.Change {
			var catID int64
			if err := tx.QueryRow(ctx, `SELECT id FROM categories WHERE code = 'JAL_SHAKTI_PIPELINE_LEAKAGE'`).Scan(&catID); err != nil {
				t.Fatal(err)
			}
			post, err := complaint.PostByCode(ctx, tx, "JAL_SHAKTI-SHIMLA-L1")
			if err != nil {
				t.Fatal(err)
			}
			return complaint.Change{Action: complaint.Transfer, Note: "a water main", Mutate: func(r *complaint.Record) error {
				r.CategoryID, r.CategoryCode = catID, "JAL_SHAKTI_PIPELINE_LEAKAGE"
				return complaint.AssignTo(post, r.SLADueAt.AddDate(0, 0, 5), r.SLADueAt.AddDate(0, 0, 1))(r)
			}}
		})
		if err != nil {
			t.Fatalf("note after the transfer: %v", err)
		}
		got, h, ev := lastEntry(t, c.GetDocket())
		if h.GetAction() != "note" || h.GetPost() != "JAL_SHAKTI-SHIMLA-L1" || h.GetCategoryCode() != "JAL_SHAKTI_PIPELINE_LEAKAGE" || got.GetPost() != "JAL_SHAKTI-SHIMLA-L1" {
			t.Errorf("note history entry %s at %q in %q; complaint at %q", h.GetAction(), h.GetPost(), h.GetCategoryCode(), got.GetPost())
		}
		if s := ev.GetSnapshot(); s.GetPost() != "JAL_SHAKTI-SHIMLA-L1" || s.GetOfficer() != "jal_shakti-shimla-l1" {
			t.Errorf("note event: snapshot post %q officer %q", s.GetPost(), s.GetOfficer())
		}
	})
}

// TestStatsRequestValidation: malformed requests are refused with
// INVALID_ARGUMENT naming the field.
func TestStatsRequestValidation(t *testing.T) {
	pool := testenv.DB(t)
	svc := stats.New(pool, clock.NewFake(testenv.Start), calendar.Default, testenv.Logger(t), stats.DefaultGrades)
	ctx := adminCtx()
	dept := helplinev1.StatsGrouping_STATS_GROUPING_DEPARTMENT
	cases := []struct {
		name, field string
		call        func() error
	}{
		{"no grouping", "group_by", func() error {
			_, err := svc.GetResolutionStats(ctx, &helplinev1.GetResolutionStatsRequest{FromDate: "2026-11-01", ToDate: "2026-11-30"})
			return err
		}},
		{"unknown grouping", "group_by", func() error {
			_, err := svc.GetPendencyAging(ctx, &helplinev1.GetPendencyAgingRequest{GroupBy: helplinev1.StatsGrouping(42)})
			return err
		}},
		{"bad from_date", "from_date", func() error {
			_, err := svc.GetResolutionStats(ctx, &helplinev1.GetResolutionStatsRequest{FromDate: "2026-13-01", ToDate: "2026-11-30", GroupBy: dept})
			return err
		}},
		{"bad to_date", "to_date", func() error {
			_, err := svc.GetResolutionStats(ctx, &helplinev1.GetResolutionStatsRequest{FromDate: "2026-11-01", ToDate: "30/11/2026", GroupBy: dept})
			return err
		}},
		{"to before from", "to_date", func() error {
			_, err := svc.GetPendencyAging(ctx, &helplinev1.GetPendencyAgingRequest{FromDate: "2026-11-30", ToDate: "2026-11-01", GroupBy: dept})
			return err
		}},
		{"bad month", "month", func() error {
			_, err := svc.GetDepartmentGrades(ctx, &helplinev1.GetDepartmentGradesRequest{Month: "2026-1"})
			return err
		}},
		{"future month", "month", func() error {
			_, err := svc.GetDepartmentGrades(ctx, &helplinev1.GetDepartmentGradesRequest{Month: "2027-01"})
			return err
		}},
	}
	for _, tc := range cases {
		err := tc.call()
		st, _ := apperr.ToStatus(err)
		if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), tc.field) {
			t.Errorf("%s: %v, want InvalidArgument naming %s", tc.name, err, tc.field)
		}
	}
}
