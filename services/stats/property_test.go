package stats_test

// TestStatisticsPropertyRandomHistories (issue 17, point 5): random
// complaint histories over every lifecycle action, before and after
// closure (a link after closure included), driven through the real API;
// every outbox event is then applied live, shuffled and partly duplicated;
// the live figures, the figures after `stats rebuild` and an independent
// count from the tickets agree for every grouping and column. It runs with
// a fixed seed and a random one (logged; HELPLINE_STATS_PROPERTY_SEED
// replays it).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/consumer"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/services/resolution"
	"github.com/helpline/helpline/services/satisfaction"
	"github.com/helpline/helpline/services/stats"
)

const propertySeedVar = "HELPLINE_STATS_PROPERTY_SEED"

func TestStatisticsPropertyRandomHistories(t *testing.T) {
	random := uint64(time.Now().UnixNano())
	if s := os.Getenv(propertySeedVar); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", propertySeedVar, s, err)
		}
		random = v
	}
	t.Logf("random seed %d (replay with %s=%d)", random, propertySeedVar, random)
	for _, seed := range []uint64{17, random} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) { propertyRun(t, seed) })
	}
}

// prop drives complaints through the API for the property test.
type prop struct {
	t       *testing.T
	env     *testenv.Env
	rng     *rand.Rand
	sat     helplinev1.SatisfactionServiceClient
	res     *resolution.Service
	satSvc  *satisfaction.Service
	dockets []string
	key     int
}

// propCategories: potholes and water go to PWD and JAL_SHAKTI in Shimla;
// GENERAL_OTHER has no rule (unrouted).
var propCategories = []string{"PWD_ROAD_POTHOLES", "JAL_SHAKTI_NO_WATER_SUPPLY", "GENERAL_OTHER"}

func (p *prop) get(d string) *helplinev1.Complaint {
	p.t.Helper()
	r, err := p.env.Intake.GetComplaint(p.env.Admin, &helplinev1.GetComplaintRequest{Docket: d})
	if err != nil {
		p.t.Fatalf("GetComplaint %s: %v", d, err)
	}
	return r.GetComplaint()
}

func (p *prop) register(category string) string {
	p.t.Helper()
	p.key++
	channels := []helplinev1.Channel{helplinev1.Channel_CHANNEL_PHONE, helplinev1.Channel_CHANNEL_WHATSAPP, helplinev1.Channel_CHANNEL_WEB}
	r, err := p.env.Intake.RegisterComplaint(p.env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: fmt.Sprintf("prop-%d", p.key),
		Citizen:        &helplinev1.Citizen{Name: "Test Citizen", Phone: "94180 55555", Language: "hi"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG"},
		CategoryCode:   category, Description: "property test", Channel: pick(p.rng, channels), Helpline: pick(p.rng, []string{"1100", "181", "1077"}),
	})
	if err != nil {
		p.t.Fatalf("register: %v", err)
	}
	d := r.GetComplaint().GetDocket()
	testenv.Eventually(p.t, 10*time.Second, "routing of "+d, func() bool { return p.get(d).GetStatus() != stRegistered })
	p.dockets = append(p.dockets, d)
	return d
}

// available lists the actions the lifecycle allows on c.
func (p *prop) available(c *helplinev1.Complaint) []string {
	common := []string{"follow_up", "note", "link"}
	pending := c.GetSpecialClosurePending()
	var out []string
	switch c.GetStatus() {
	case stUnrouted:
		out = append(common, "assign")
	case stAssigned, stReopened:
		out = append(common, "acknowledge", "return", "transfer", "escalate")
	case stInProgress:
		out = append(common, "hold", "resolve", "resolve", "return", "transfer", "escalate")
	case stOnHold:
		out = append(common, "resume", "provide_information")
	case stResolved:
		out = append(common, "satisfied", "not_satisfied", "unreachable", "no_response")
	case stClosed:
		return []string{"link"}
	}
	working := c.GetStatus() == stAssigned || c.GetStatus() == stInProgress || c.GetStatus() == stReopened
	if working && !pending {
		out = append(out, "propose")
	}
	if pending && c.GetStatus() != stResolved {
		out = append(out, "approve", "reject")
	}
	return out
}

// do performs action on d; it returns false when a background job got
// there first (the complaint moved on), true when the action was done.
func (p *prop) do(d, action string) bool {
	p.t.Helper()
	c := p.get(d)
	holder := p.env.Admin
	if o := c.GetAssignedOfficer(); o != "" {
		holder = p.env.As(o)
	}
	sup := p.env.As("supervisor")
	var err error
	switch action {
	case "assign":
		_, err = p.env.Routing.AssignComplaint(sup, &helplinev1.AssignComplaintRequest{Docket: d})
	case "acknowledge":
		_, err = p.env.Resolution.AcknowledgeComplaint(holder, &helplinev1.AcknowledgeComplaintRequest{Docket: d})
	case "hold":
		_, err = p.env.Resolution.RequestInformation(holder, &helplinev1.RequestInformationRequest{Docket: d, Note: "which spot?"})
	case "resume":
		_, err = p.env.Resolution.ResumeComplaint(holder, &helplinev1.ResumeComplaintRequest{Docket: d})
	case "provide_information":
		_, err = p.env.Intake.AddFollowUp(p.env.Agent, &helplinev1.AddFollowUpRequest{Docket: d, Note: "near the school", ProvidesInformation: true})
	case "resolve":
		_, err = p.env.Resolution.ResolveComplaint(holder, &helplinev1.ResolveComplaintRequest{Docket: d, ActionTakenReport: "done"})
	case "return":
		_, err = p.env.Resolution.ReturnComplaint(holder, &helplinev1.ReturnComplaintRequest{Docket: d, Reason: "not ours"})
	case "transfer":
		to := "PWD_ROAD_POTHOLES"
		if c.GetCategoryCode() == to {
			to = "JAL_SHAKTI_NO_WATER_SUPPLY"
		}
		_, err = p.env.Resolution.TransferComplaint(sup, &helplinev1.TransferComplaintRequest{Docket: d, CategoryCode: to})
	case "escalate":
		if c.GetLevel() >= 4 || c.GetSlaDueAt() == nil {
			return false
		}
		if due := c.GetSlaDueAt().AsTime(); p.env.Clock.Now().Before(due) {
			p.env.Clock.Set(due.Add(time.Second))
		}
		// Run the job here until it has acted (the server's own job may hold the row).
		return p.job(func() (int, error) { return p.res.EscalateDue(context.Background()) },
			func() bool { return p.get(d).GetLevel() > c.GetLevel() })
	case "propose":
		_, err = p.env.Resolution.ProposeSpecialClosure(holder, &helplinev1.ProposeSpecialClosureRequest{Docket: d,
			Reason: helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_POLICY_MATTER, Note: "policy"})
	case "approve", "reject":
		_, err = p.env.Resolution.DecideSpecialClosure(sup, &helplinev1.DecideSpecialClosureRequest{Docket: d, Approve: action == "approve"})
	case "satisfied", "not_satisfied":
		_, err = p.sat.RecordFeedback(p.env.Agent, &helplinev1.RecordFeedbackRequest{Docket: d,
			Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_REACHED, Satisfied: action == "satisfied"})
	case "unreachable":
		_, err = p.sat.RecordFeedback(p.env.Agent, &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_NOT_REACHABLE})
	case "no_response":
		// Failed calls until the limit (the server's job may close it
		// meanwhile), then the job, run here.
		for range 3 {
			if p.get(d).GetStatus() != stResolved {
				break
			}
			_, err = p.sat.RecordFeedback(p.env.Agent, &helplinev1.RecordFeedbackRequest{Docket: d,
				Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_NOT_REACHABLE})
			if c := status.Code(err); c != codes.OK && c != codes.FailedPrecondition {
				p.t.Fatalf("no_response on %s: %v", d, err)
			}
		}
		return p.job(func() (int, error) { return p.satSvc.CloseNoResponse(context.Background()) }, func() bool {
			c := p.get(d)
			return c.GetStatus() == stClosed && c.GetClosure() == clNoResponse
		})
	case "follow_up":
		_, err = p.env.Intake.AddFollowUp(p.env.Agent, &helplinev1.AddFollowUpRequest{Docket: d, Note: "called again"})
	case "note":
		_, err = p.env.Resolution.AddNote(sup, &helplinev1.AddNoteRequest{Docket: d, Note: "watching"})
	case "link":
		others := slices.DeleteFunc(slices.Clone(p.dockets), func(o string) bool { return o == d || slices.Contains(c.GetLinkedDockets(), o) })
		if len(others) == 0 {
			return false
		}
		_, err = p.env.Resolution.LinkComplaints(sup, &helplinev1.LinkComplaintsRequest{Docket: d, LinkedDocket: pick(p.rng, others)})
	default:
		p.t.Fatalf("unknown action %s", action)
	}
	switch status.Code(err) {
	case codes.OK:
		return true
	case codes.FailedPrecondition, codes.PermissionDenied, codes.NotFound:
		return false // a background job moved it first
	}
	p.t.Fatalf("%s on %s: %v", action, d, err)
	return false
}

// job runs a background job directly until done reports true, for up to
// five seconds (a row the server's own run holds is skipped).
func (p *prop) job(run func() (int, error), done func() bool) bool {
	p.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := run(); err != nil {
			p.t.Fatal(err)
		}
		if done() {
			return true
		}
	}
	return false
}

// script runs actions in order; each must be allowed.
func (p *prop) script(d string, actions ...string) {
	p.t.Helper()
	for _, a := range actions {
		if !p.do(d, a) {
			p.t.Fatalf("scripted %s on %s (%s) was refused", a, d, p.get(d).GetStatus())
		}
	}
}

func propertyRun(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	env := startEnv(t)
	logger := testenv.Logger(t)
	p := &prop{t: t, env: env, rng: rng, sat: helplinev1.NewSatisfactionServiceClient(env.Conn),
		res:    resolution.New(env.Pool, env.Clock, calendar.Default, logger, nil),
		satSvc: satisfaction.New(env.Pool, env.Clock, calendar.Default, logger, nil, satisfaction.DefaultConfig)}

	// Scripted first, so that every action is walked whatever the seed:
	// closures of each kind followed by a link after closure.
	a := p.register(propCategories[0])
	b := p.register(propCategories[1])
	c := p.register(propCategories[0])
	d := p.register(propCategories[2])
	p.script(a, "acknowledge", "resolve", "satisfied", "link")
	p.script(b, "propose", "approve", "link")
	p.script(c, "propose", "reject", "acknowledge", "hold", "resume", "hold", "provide_information", "resolve",
		"not_satisfied", "acknowledge", "resolve", "unreachable", "no_response", "link")
	p.script(d, "follow_up", "note", "assign", "return", "assign", "transfer", "escalate", "acknowledge", "resolve", "not_satisfied")

	// Random walks.
	for i := 0; i < 24; i++ {
		env.Clock.Set(env.Clock.Now().Add(time.Duration(1+rng.IntN(30)) * time.Hour))
		d := p.register(pick(rng, propCategories))
		for step := 0; step < 4+rng.IntN(12); step++ {
			acts := p.available(p.get(d))
			if len(acts) == 0 {
				break
			}
			p.do(d, pick(rng, acts))
			if rng.IntN(4) == 0 {
				env.Clock.Set(env.Clock.Now().Add(time.Duration(rng.IntN(20)) * time.Hour))
			}
		}
	}

	// Let the server's own jobs finish what the clock's moves made due, so
	// that the tickets and the outbox are final.
	(&world{t: t, env: env}).settle()

	// The tickets: every action walked, and the independent count.
	var facts []fact
	walked := map[string]bool{}
	for _, d := range p.dockets {
		c := p.get(d)
		for _, h := range c.GetHistory() {
			walked[h.GetAction()] = true
			if h.GetAction() == "link" && h.GetFromStatus() == stClosed {
				walked["link after closure"] = true
			}
		}
		f, err := factOf(c)
		if err != nil {
			t.Fatal(err)
		}
		facts = append(facts, f)
	}
	for _, a := range []string{"register", "route", "route_unrouted", "assign", "acknowledge", "request_information", "provide_information",
		"resume", "resolve", "return", "transfer", "escalate", "propose_special_closure", "approve_special_closure", "reject_special_closure",
		"feedback_satisfied", "feedback_not_satisfied", "feedback_not_reachable", "feedback_expired", "follow_up", "note", "link", "link after closure"} {
		if !walked[a] {
			t.Errorf("no history walked %s", a)
		}
	}

	// Live: every event, shuffled, 30% twice, in random batches.
	evs := outboxEvents(t, env)
	svc := stats.New(env.Pool, env.Clock, calendar.Default, logger, stats.DefaultGrades)
	cons := consumer.New(svc.ConsumerConfig(), env.Pool, nil, env.Clock, logger)
	applyAll(t, cons, rng, deliveries(rng, evs, 0.3), 2)

	first, last := facts[0].day, facts[0].day
	for _, f := range facts {
		if f.day.Before(first) {
			first = f.day
		}
		if f.day.After(last) {
			last = f.day
		}
	}
	if first.IsZero() {
		t.Fatal("no facts")
	}
	today := istDay(env.Clock.Now())
	check := func(phase string) {
		t.Helper()
		sel := selection{from: first, to: last}
		for _, g := range groupings {
			resp, err := svc.GetResolutionStats(adminCtx(), &helplinev1.GetResolutionStatsRequest{
				FromDate: first.Format(time.DateOnly), ToDate: last.Format(time.DateOnly), GroupBy: g.g})
			if err != nil {
				t.Fatal(err)
			}
			checkResolution(t, fmt.Sprintf("%s: resolution stats by %s", phase, g.g), resp, facts, g, sel)
			aging, err := svc.GetPendencyAging(adminCtx(), &helplinev1.GetPendencyAgingRequest{GroupBy: g.g})
			if err != nil {
				t.Fatal(err)
			}
			checkAging(t, fmt.Sprintf("%s: pendency aging by %s", phase, g.g), aging, facts, g, selection{}, today)
		}
	}
	check("live")
	live, _ := snapshot(t, env)
	if _, err := svc.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	rebuilt, _ := snapshot(t, env)
	compareSnapshots(t, live, rebuilt)
	check("rebuilt")
	t.Logf("%d complaints, %d events", len(p.dockets), len(evs))
}
