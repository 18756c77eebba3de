package satisfaction_test

// Tests of the SatisfactionService through the whole server: the feedback
// call after resolution closes a complaint when the citizen is satisfied,
// reopens it one level up when not, and the no-response job closes it when
// the citizen cannot be reached in three calls or seven days.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/services/satisfaction"
)

const (
	agent     = "agent1"
	holderL1  = "pwd-shimla-l1"
	holderL2  = "pwd-shimla-l2"
	holderL4  = "pwd-state-l4"
	postL1    = "PWD-SHIMLA-L1"
	postL2    = "PWD-SHIMLA-L2"
	postL4    = "PWD-STATE-L4"
	pothole   = "PWD_ROAD_POTHOLES" // SLA 7/5/5/3 working days
	fullPhone = "+919418055555"
)

const (
	stRegistered = helplinev1.ComplaintStatus_COMPLAINT_STATUS_REGISTERED
	stAssigned   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED
	stInProgress = helplinev1.ComplaintStatus_COMPLAINT_STATUS_IN_PROGRESS
	stResolved   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_RESOLVED
	stReopened   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_REOPENED
	stClosed     = helplinev1.ComplaintStatus_COMPLAINT_STATUS_CLOSED

	reached      = helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_REACHED
	notReachable = helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_NOT_REACHABLE
)

var keys atomic.Int64

// endOfDay is 23:59:59 IST of a day of November 2026 (an SLA deadline).
func endOfDay(d int) time.Time { return time.Date(2026, time.November, d, 23, 59, 59, 0, clock.IST) }

type fixture struct {
	env *testenv.Env
	sat helplinev1.SatisfactionServiceClient
}

func start(t *testing.T) *fixture {
	t.Helper()
	env := testenv.StartServer(t)
	return &fixture{env: env, sat: helplinev1.NewSatisfactionServiceClient(env.Conn)}
}

// register registers a potholes complaint in Shimla / Theog as agent1 and
// waits until it is routed to PWD-SHIMLA-L1.
func (f *fixture) register(t *testing.T) *helplinev1.Complaint {
	t.Helper()
	resp, err := f.env.Intake.RegisterComplaint(f.env.As(agent), &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: fmt.Sprintf("sat-%s-%d", t.Name(), keys.Add(1)),
		Citizen:        &helplinev1.Citizen{Name: "Kamla Devi", Phone: "94180 55555", Language: "hi"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG", Locality: "Theog bazaar"},
		CategoryCode:   pothole,
		Description:    "सड़क पर बड़े गड्ढे हैं",
		Channel:        helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatalf("RegisterComplaint: %v", err)
	}
	d := resp.GetComplaint().GetDocket()
	var c *helplinev1.Complaint
	testenv.Eventually(t, 10*time.Second, "routing of "+d, func() bool {
		c = f.get(t, d)
		return c.GetStatus() != stRegistered
	})
	if c.GetStatus() != stAssigned || c.GetPost() != postL1 || c.GetLevel() != 1 || c.GetAssignedOfficer() != holderL1 {
		t.Fatalf("routed %s: %s at %q L%d officer %q; want ASSIGNED at %s L1 held by %s",
			d, c.GetStatus(), c.GetPost(), c.GetLevel(), c.GetAssignedOfficer(), postL1, holderL1)
	}
	return c
}

// get reads a complaint with its history as agent1.
func (f *fixture) get(t *testing.T, d string) *helplinev1.Complaint {
	t.Helper()
	resp, err := f.env.Intake.GetComplaint(f.env.As(agent), &helplinev1.GetComplaintRequest{Docket: d})
	if err != nil {
		t.Fatalf("GetComplaint %s: %v", d, err)
	}
	return resp.GetComplaint()
}

func (f *fixture) ack(t *testing.T, user, d string) {
	t.Helper()
	resp, err := f.env.Resolution.AcknowledgeComplaint(f.env.As(user), &helplinev1.AcknowledgeComplaintRequest{Docket: d})
	if err != nil {
		t.Fatalf("AcknowledgeComplaint %s as %s: %v", d, user, err)
	}
	if got := resp.GetComplaint().GetStatus(); got != stInProgress {
		t.Fatalf("acknowledged %s: %s, want IN_PROGRESS", d, got)
	}
}

func (f *fixture) resolve(t *testing.T, user, d, atr string) *helplinev1.Complaint {
	t.Helper()
	resp, err := f.env.Resolution.ResolveComplaint(f.env.As(user), &helplinev1.ResolveComplaintRequest{Docket: d, ActionTakenReport: atr})
	if err != nil {
		t.Fatalf("ResolveComplaint %s as %s: %v", d, user, err)
	}
	if got := resp.GetComplaint().GetStatus(); got != stResolved {
		t.Fatalf("resolved %s: %s, want RESOLVED", d, got)
	}
	return resp.GetComplaint()
}

// resolved registers a complaint, and pwd-shimla-l1 acknowledges and resolves it.
func (f *fixture) resolved(t *testing.T, atr string) *helplinev1.Complaint {
	t.Helper()
	c := f.register(t)
	f.ack(t, holderL1, c.GetDocket())
	return f.resolve(t, holderL1, c.GetDocket(), atr)
}

func (f *fixture) feedback(t *testing.T, req *helplinev1.RecordFeedbackRequest) *helplinev1.Complaint {
	t.Helper()
	resp, err := f.sat.RecordFeedback(f.env.As(agent), req)
	if err != nil {
		t.Fatalf("RecordFeedback %v: %v", req, err)
	}
	return resp.GetComplaint()
}

// pending lists the whole feedback queue as agent1.
func (f *fixture) pending(t *testing.T, district string) []*helplinev1.PendingFeedback {
	t.Helper()
	var out []*helplinev1.PendingFeedback
	token := ""
	for {
		resp, err := f.sat.ListPendingFeedback(f.env.As(agent), &helplinev1.ListPendingFeedbackRequest{DistrictCode: district, PageToken: token, PageSize: 200})
		if err != nil {
			t.Fatalf("ListPendingFeedback: %v", err)
		}
		out = append(out, resp.GetItems()...)
		if token = resp.GetNextPageToken(); token == "" {
			return out
		}
	}
}

func find(items []*helplinev1.PendingFeedback, d string) *helplinev1.PendingFeedback {
	for _, it := range items {
		if it.GetComplaint().GetDocket() == d {
			return it
		}
	}
	return nil
}

// waitPending waits until d is in (or out of) the pending feedback list.
func (f *fixture) waitPending(t *testing.T, d string, in bool) *helplinev1.PendingFeedback {
	t.Helper()
	var it *helplinev1.PendingFeedback
	testenv.Eventually(t, 5*time.Second, fmt.Sprintf("%s in the pending feedback list: %v", d, in), func() bool {
		it = find(f.pending(t, ""), d)
		return (it != nil) == in
	})
	return it
}

// inQueueTable reports the feedback_queue row of d (kept by the queue consumer).
func (f *fixture) inQueueTable(t *testing.T, d string) (time.Time, bool) {
	t.Helper()
	var at time.Time
	err := f.env.Pool.QueryRow(context.Background(),
		`SELECT q.resolved_at FROM feedback_queue q JOIN complaints c ON c.id = q.complaint_id WHERE c.docket = $1`, d).Scan(&at)
	if err != nil {
		if strings.Contains(err.Error(), "no rows") {
			return time.Time{}, false
		}
		t.Fatal(err)
	}
	return at, true
}

// waitQueueConsumer waits until the feedback-queue consumer has applied
// the complaint's current version.
func (f *fixture) waitQueueConsumer(t *testing.T, d string) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, "the queue consumer catching up with "+d, func() bool {
		var ok bool
		err := f.env.Pool.QueryRow(context.Background(), `
			SELECT coalesce((SELECT v.version >= c.version FROM consumer_versions v WHERE v.consumer = $2 AND v.complaint_id = c.id), false)
			FROM complaints c WHERE c.docket = $1`, d, satisfaction.QueueConsumerName).Scan(&ok)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
}

type feedbackRow struct {
	Outcome   string
	Satisfied *bool
	Rating    *int32
	Agent     string
	Level     int32
}

func (f *fixture) feedbackRows(t *testing.T, d string) []feedbackRow {
	t.Helper()
	rows, err := f.env.Pool.Query(context.Background(), `
		SELECT f.outcome, f.satisfied, f.rating::int, f.agent, f.level::int
		FROM feedback f JOIN complaints c ON c.id = f.complaint_id WHERE c.docket = $1 ORDER BY f.id`, d)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []feedbackRow
	for rows.Next() {
		var r feedbackRow
		if err := rows.Scan(&r.Outcome, &r.Satisfied, &r.Rating, &r.Agent, &r.Level); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// steps renders a history as "action actor FROM→TO" lines.
func steps(c *helplinev1.Complaint) []string {
	var out []string
	for _, h := range c.GetHistory() {
		out = append(out, fmt.Sprintf("%s %s %s→%s", h.GetAction(), h.GetActor(), short(h.GetFromStatus()), short(h.GetToStatus())))
	}
	return out
}

func short(s helplinev1.ComplaintStatus) string {
	return strings.TrimPrefix(s.String(), "COMPLAINT_STATUS_")
}

func wantSteps(t *testing.T, c *helplinev1.Complaint, want ...string) {
	t.Helper()
	if got := steps(c); !slices.Equal(got, want) {
		t.Errorf("history of %s:\n got  %q\n want %q", c.GetDocket(), got, want)
	}
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("got %v, want InvalidArgument naming %q", err, field)
		return
	}
	st := status.Convert(err)
	named := strings.Contains(st.Message(), field)
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					named = true
				}
			}
		}
	}
	if !named {
		t.Errorf("InvalidArgument %q does not name field %q", st.Message(), field)
	}
}

func ts(c interface{ AsTime() time.Time }) time.Time { return c.AsTime() }

// TestSatisfiedFeedbackCloses is the acceptance walk: register, route,
// acknowledge, resolve, the complaint waits for the feedback call with its
// action-taken report, and a satisfied citizen closes it.
func TestSatisfiedFeedbackCloses(t *testing.T) {
	t.Parallel()
	f := start(t)
	const atr = "गड्ढे भर दिए गए / potholes filled with premix on 2 Nov"
	c := f.resolved(t, atr)
	d := c.GetDocket()

	it := f.waitPending(t, d, true)
	pc := it.GetComplaint()
	if pc.GetActionTakenReport() != atr {
		t.Errorf("pending item ATR %q, want %q", pc.GetActionTakenReport(), atr)
	}
	if pc.GetCitizen().GetPhone() != fullPhone {
		t.Errorf("pending item phone %q, want the full %s for an agent", pc.GetCitizen().GetPhone(), fullPhone)
	}
	if pc.GetStatus() != stResolved || pc.GetResolvedAt() == nil || !ts(pc.GetResolvedAt()).Equal(testenv.Start) {
		t.Errorf("pending item: %s resolved_at %v, want RESOLVED at %v", pc.GetStatus(), pc.GetResolvedAt(), testenv.Start)
	}
	if it.GetAttempts() != 0 || it.GetFirstFailedAt() != nil {
		t.Errorf("pending item attempts %d first_failed_at %v, want none", it.GetAttempts(), it.GetFirstFailedAt())
	}

	f.env.Clock.Advance(2 * time.Hour)
	closedAt := f.env.Clock.Now()
	got := f.feedback(t, &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: reached, Satisfied: true, Rating: 5, Comment: "road is fine now", ExpectedVersion: c.GetVersion()})
	if got.GetStatus() != stClosed || got.GetClosure() != helplinev1.Closure_CLOSURE_SATISFIED {
		t.Fatalf("after satisfied feedback: %s %s, want CLOSED CLOSURE_SATISFIED", got.GetStatus(), got.GetClosure())
	}
	if got.GetClosedAt() == nil || !ts(got.GetClosedAt()).Equal(closedAt) {
		t.Errorf("closed_at %v, want %v", got.GetClosedAt(), closedAt)
	}
	if got.GetVersion() != c.GetVersion()+1 {
		t.Errorf("version %d, want %d", got.GetVersion(), c.GetVersion()+1)
	}

	f.waitPending(t, d, false)
	testenv.Eventually(t, 5*time.Second, "feedback_queue row removed", func() bool { _, in := f.inQueueTable(t, d); return !in })

	final := f.get(t, d)
	if final.GetStatus() != stClosed || final.GetClosure() != helplinev1.Closure_CLOSURE_SATISFIED || final.GetClosedAt() == nil {
		t.Errorf("read back: %s %s closed_at %v", final.GetStatus(), final.GetClosure(), final.GetClosedAt())
	}
	wantSteps(t, final,
		"register agent1 UNSPECIFIED→REGISTERED",
		"route system REGISTERED→ASSIGNED",
		"acknowledge pwd-shimla-l1 ASSIGNED→IN_PROGRESS",
		"resolve pwd-shimla-l1 IN_PROGRESS→RESOLVED",
		"feedback_satisfied agent1 RESOLVED→CLOSED",
	)
	if h := final.GetHistory(); len(h) > 0 {
		last := h[len(h)-1]
		if last.GetActorRole() != helplinev1.Role_ROLE_AGENT || !ts(last.GetAt()).Equal(closedAt) {
			t.Errorf("feedback history entry: role %s at %v, want ROLE_AGENT at %v", last.GetActorRole(), last.GetAt(), closedAt)
		}
	}

	rows := f.feedbackRows(t, d)
	if len(rows) != 1 {
		t.Fatalf("feedback rows %+v, want one", rows)
	}
	r := rows[0]
	if r.Outcome != "REACHED" || r.Satisfied == nil || !*r.Satisfied || r.Rating == nil || *r.Rating != 5 || r.Agent != agent || r.Level != 1 {
		t.Errorf("feedback row %+v (satisfied %v rating %v), want REACHED satisfied rating 5 by agent1 at L1", r, deref(r.Satisfied), deref(r.Rating))
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestNotSatisfiedReopensOneLevelUp: an unsatisfied citizen sends the
// complaint back up the chain with a fresh deadline; the next round can
// close it; a complaint at L4 stays at L4.
func TestNotSatisfiedReopensOneLevelUp(t *testing.T) {
	t.Parallel()
	f := start(t)
	c := f.resolved(t, "patched")
	d := c.GetDocket()
	f.waitPending(t, d, true)

	// The feedback call is on Tuesday 3 November: the L2 deadline is the end
	// of the 5th working day from then (Sunday off): 4, 5, 6, 7, 9 November.
	f.env.Clock.Advance(24 * time.Hour)
	got := f.feedback(t, &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: reached, Satisfied: false, Rating: 2, Comment: "still broken"})
	if got.GetStatus() != stReopened || got.GetLevel() != 2 || got.GetPost() != postL2 || got.GetAssignedOfficer() != holderL2 {
		t.Fatalf("after unsatisfied feedback: %s L%d at %q officer %q; want REOPENED L2 at %s held by %s",
			got.GetStatus(), got.GetLevel(), got.GetPost(), got.GetAssignedOfficer(), postL2, holderL2)
	}
	if got.GetReopenCount() != 1 {
		t.Errorf("reopen_count %d, want 1", got.GetReopenCount())
	}
	if due := got.GetSlaDueAt(); due == nil || !ts(due).Equal(endOfDay(9)) {
		t.Errorf("reopened sla_due_at %v, want %v (5 working days from the feedback call)", due, endOfDay(9))
	}
	if got.GetClosure() != helplinev1.Closure_CLOSURE_UNSPECIFIED || got.GetClosedAt() != nil || got.GetResolvedAt() != nil {
		t.Errorf("reopened complaint: closure %s closed_at %v resolved_at %v, want none", got.GetClosure(), got.GetClosedAt(), got.GetResolvedAt())
	}
	if got.GetOverdue() {
		t.Errorf("a freshly reopened complaint is overdue")
	}
	f.waitPending(t, d, false)

	// The L1 officer no longer works it; the L2 officer does.
	if _, err := f.env.Resolution.AcknowledgeComplaint(f.env.As(holderL1), &helplinev1.AcknowledgeComplaintRequest{Docket: d}); status.Code(err) == codes.OK {
		t.Errorf("pwd-shimla-l1 acknowledged a complaint reopened at L2")
	}
	f.ack(t, holderL2, d)
	f.resolve(t, holderL2, d, "relaid the stretch")
	f.waitPending(t, d, true)
	got = f.feedback(t, &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: reached, Satisfied: true, Rating: 4})
	if got.GetStatus() != stClosed || got.GetClosure() != helplinev1.Closure_CLOSURE_SATISFIED || got.GetLevel() != 2 || got.GetReopenCount() != 1 {
		t.Errorf("second round: %s %s L%d reopen_count %d, want CLOSED SATISFIED L2 reopen_count 1",
			got.GetStatus(), got.GetClosure(), got.GetLevel(), got.GetReopenCount())
	}
	final := f.get(t, d)
	wantSteps(t, final,
		"register agent1 UNSPECIFIED→REGISTERED",
		"route system REGISTERED→ASSIGNED",
		"acknowledge pwd-shimla-l1 ASSIGNED→IN_PROGRESS",
		"resolve pwd-shimla-l1 IN_PROGRESS→RESOLVED",
		"feedback_not_satisfied agent1 RESOLVED→REOPENED",
		"acknowledge pwd-shimla-l2 REOPENED→IN_PROGRESS",
		"resolve pwd-shimla-l2 IN_PROGRESS→RESOLVED",
		"feedback_satisfied agent1 RESOLVED→CLOSED",
	)
	for _, h := range final.GetHistory() {
		if h.GetAction() == "feedback_not_satisfied" && (h.GetPost() != postL2 || h.GetLevel() != 2 || h.GetSlaDueAt() == nil || !ts(h.GetSlaDueAt()).Equal(endOfDay(9))) {
			t.Errorf("reopen history snapshot: post %q L%d due %v", h.GetPost(), h.GetLevel(), h.GetSlaDueAt())
		}
	}
	rows := f.feedbackRows(t, d)
	if len(rows) != 2 || rows[0].Outcome != "REACHED" || rows[0].Satisfied == nil || *rows[0].Satisfied || rows[0].Level != 1 ||
		rows[1].Outcome != "REACHED" || rows[1].Satisfied == nil || !*rows[1].Satisfied || rows[1].Level != 2 {
		t.Errorf("feedback rows %+v, want not satisfied at L1 then satisfied at L2", rows)
	}

	t.Run("L4 stays L4", func(t *testing.T) {
		c := f.register(t)
		d := c.GetDocket()
		f.ack(t, holderL1, d)
		if _, err := f.env.Pool.Exec(context.Background(), `
			UPDATE complaints SET post_id = (SELECT id FROM posts WHERE code = $2), level = 4 WHERE docket = $1`, d, postL4); err != nil {
			t.Fatal(err)
		}
		f.resolve(t, holderL4, d, "secretary ordered the repair")
		f.waitPending(t, d, true)
		// Tuesday 3 November, L4 SLA 3 working days: 4, 5, 6 November.
		got := f.feedback(t, &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: reached})
		if got.GetStatus() != stReopened || got.GetLevel() != 4 || got.GetPost() != postL4 || got.GetAssignedOfficer() != holderL4 || got.GetReopenCount() != 1 {
			t.Fatalf("reopened from L4: %s L%d at %q officer %q reopen_count %d; want REOPENED L4 at %s held by %s, reopen_count 1",
				got.GetStatus(), got.GetLevel(), got.GetPost(), got.GetAssignedOfficer(), got.GetReopenCount(), postL4, holderL4)
		}
		if due := got.GetSlaDueAt(); due == nil || !ts(due).Equal(endOfDay(6)) {
			t.Errorf("sla_due_at %v, want %v (3 working days from the call)", due, endOfDay(6))
		}
		rows := f.feedbackRows(t, d)
		if len(rows) != 1 || rows[0].Satisfied == nil || *rows[0].Satisfied || rows[0].Rating != nil || rows[0].Level != 4 {
			t.Errorf("feedback rows %+v, want one not satisfied, no rating, at L4", rows)
		}
	})
}

// TestNotReachableClosesAsNoResponse: three failed calls, or seven days
// after the first one, and the job closes the complaint as no-response.
func TestNotReachableClosesAsNoResponse(t *testing.T) {
	t.Parallel()
	f := start(t)

	t.Run("three attempts", func(t *testing.T) {
		c := f.resolved(t, "filled")
		d := c.GetDocket()
		f.waitPending(t, d, true)
		first := f.env.Clock.Now()
		for i := int32(1); i <= 3; i++ {
			if i > 1 {
				f.env.Clock.Advance(time.Hour)
			}
			got := f.feedback(t, &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: notReachable, Comment: "switched off"})
			if got.GetStatus() != stResolved || got.GetFeedbackAttempts() != i {
				t.Fatalf("attempt %d: %s feedback_attempts %d, want RESOLVED %d", i, got.GetStatus(), got.GetFeedbackAttempts(), i)
			}
			if i == 1 {
				it := f.waitPending(t, d, true)
				if it.GetAttempts() != 1 || it.GetFirstFailedAt() == nil || !ts(it.GetFirstFailedAt()).Equal(first) {
					t.Errorf("pending after one failed call: attempts %d first_failed_at %v, want 1 at %v", it.GetAttempts(), it.GetFirstFailedAt(), first)
				}
			}
		}
		closedAt := f.env.Clock.Now()
		var got *helplinev1.Complaint
		testenv.Eventually(t, time.Second, "no-response closure of "+d, func() bool {
			got = f.get(t, d)
			return got.GetStatus() == stClosed
		})
		if got.GetClosure() != helplinev1.Closure_CLOSURE_NO_RESPONSE || got.GetClosedAt() == nil || !ts(got.GetClosedAt()).Equal(closedAt) {
			t.Errorf("closed: %s closed_at %v, want CLOSURE_NO_RESPONSE at %v", got.GetClosure(), got.GetClosedAt(), closedAt)
		}
		h := got.GetHistory()
		last := h[len(h)-1]
		if last.GetActor() != "system" || last.GetAction() != "feedback_expired" || last.GetFromStatus() != stResolved || last.GetToStatus() != stClosed {
			t.Errorf("closing history entry: %s by %q %s→%s, want feedback_expired by system RESOLVED→CLOSED",
				last.GetAction(), last.GetActor(), last.GetFromStatus(), last.GetToStatus())
		}
		n := 0
		for _, e := range h {
			if e.GetAction() == "feedback_not_reachable" && e.GetActor() == agent {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d feedback_not_reachable entries by agent1, want 3: %q", n, steps(got))
		}
		rows := f.feedbackRows(t, d)
		if len(rows) != 3 {
			t.Errorf("feedback rows %+v, want 3", rows)
		}
		for _, r := range rows {
			if r.Outcome != "NOT_REACHABLE" || r.Satisfied != nil || r.Rating != nil {
				t.Errorf("feedback row %+v, want NOT_REACHABLE without satisfied or rating", r)
			}
		}
		f.waitPending(t, d, false)
	})

	t.Run("seven days", func(t *testing.T) {
		c := f.resolved(t, "filled")
		d := c.GetDocket()
		f.waitPending(t, d, true)
		first := f.env.Clock.Now()
		got := f.feedback(t, &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: notReachable})
		if got.GetFeedbackAttempts() != 1 {
			t.Fatalf("feedback_attempts %d, want 1", got.GetFeedbackAttempts())
		}
		stillResolved := func(when string) {
			t.Helper()
			time.Sleep(400 * time.Millisecond) // the job runs every 50 ms
			if c := f.get(t, d); c.GetStatus() != stResolved {
				t.Fatalf("%s after the first failed call: %s %s, want still RESOLVED", when, c.GetStatus(), c.GetClosure())
			}
		}
		f.env.Clock.Set(first.Add(6 * 24 * time.Hour))
		stillResolved("6 days")
		f.env.Clock.Set(first.Add(7*24*time.Hour - time.Minute))
		stillResolved("7 days less a minute")
		closeAt := first.Add(7*24*time.Hour + time.Minute)
		f.env.Clock.Set(closeAt)
		testenv.Eventually(t, time.Second, "no-response closure after 7 days", func() bool {
			got = f.get(t, d)
			return got.GetStatus() == stClosed
		})
		if got.GetClosure() != helplinev1.Closure_CLOSURE_NO_RESPONSE || !ts(got.GetClosedAt()).Equal(closeAt) {
			t.Errorf("closed: %s at %v, want CLOSURE_NO_RESPONSE at %v", got.GetClosure(), got.GetClosedAt(), closeAt)
		}
		if last := got.GetHistory()[len(got.GetHistory())-1]; last.GetActor() != "system" || last.GetAction() != "feedback_expired" {
			t.Errorf("closing entry %s by %s", last.GetAction(), last.GetActor())
		}
	})
}

// TestFeedbackRefusals: feedback outside RESOLVED and malformed feedback
// are refused and change nothing.
func TestFeedbackRefusals(t *testing.T) {
	t.Parallel()
	f := start(t)
	ctx := f.env.As(agent)

	unchanged := func(t *testing.T, before *helplinev1.Complaint, nFeedback int) {
		t.Helper()
		after := f.get(t, before.GetDocket())
		if after.GetVersion() != before.GetVersion() || after.GetStatus() != before.GetStatus() || len(after.GetHistory()) != len(before.GetHistory()) ||
			after.GetFeedbackAttempts() != before.GetFeedbackAttempts() {
			t.Errorf("refused call changed %s: version %d→%d status %s→%s history %d→%d attempts %d→%d", before.GetDocket(),
				before.GetVersion(), after.GetVersion(), before.GetStatus(), after.GetStatus(), len(before.GetHistory()), len(after.GetHistory()),
				before.GetFeedbackAttempts(), after.GetFeedbackAttempts())
		}
		if rows := f.feedbackRows(t, before.GetDocket()); len(rows) != nFeedback {
			t.Errorf("feedback rows %+v, want %d", rows, nFeedback)
		}
	}

	t.Run("not resolved", func(t *testing.T) {
		c := f.register(t)
		before := f.get(t, c.GetDocket())
		for _, req := range []*helplinev1.RecordFeedbackRequest{
			{Docket: c.GetDocket(), Outcome: reached, Satisfied: true, Rating: 5},
			{Docket: c.GetDocket(), Outcome: reached, Satisfied: false},
			{Docket: c.GetDocket(), Outcome: notReachable},
		} {
			_, err := f.sat.RecordFeedback(ctx, req)
			if status.Code(err) != codes.FailedPrecondition {
				t.Errorf("feedback %s satisfied=%v on an ASSIGNED complaint: %v, want FailedPrecondition", req.GetOutcome(), req.GetSatisfied(), err)
			}
		}
		unchanged(t, before, 0)

		f.ack(t, holderL1, c.GetDocket())
		before = f.get(t, c.GetDocket())
		if _, err := f.sat.RecordFeedback(ctx, &helplinev1.RecordFeedbackRequest{Docket: c.GetDocket(), Outcome: reached, Satisfied: true}); status.Code(err) != codes.FailedPrecondition {
			t.Errorf("feedback on an IN_PROGRESS complaint: %v, want FailedPrecondition", err)
		}
		unchanged(t, before, 0)
	})

	t.Run("closed", func(t *testing.T) {
		c := f.resolved(t, "done")
		f.feedback(t, &helplinev1.RecordFeedbackRequest{Docket: c.GetDocket(), Outcome: reached, Satisfied: true, Rating: 5})
		before := f.get(t, c.GetDocket())
		for _, req := range []*helplinev1.RecordFeedbackRequest{
			{Docket: c.GetDocket(), Outcome: reached, Satisfied: true, Rating: 5},
			{Docket: c.GetDocket(), Outcome: reached},
			{Docket: c.GetDocket(), Outcome: notReachable},
		} {
			if _, err := f.sat.RecordFeedback(ctx, req); status.Code(err) != codes.FailedPrecondition {
				t.Errorf("feedback %s on a CLOSED complaint: %v, want FailedPrecondition", req.GetOutcome(), err)
			}
		}
		unchanged(t, before, 1)
	})

	t.Run("invalid input on a resolved complaint", func(t *testing.T) {
		c := f.resolved(t, "done")
		d := c.GetDocket()
		before := f.get(t, d)
		cases := []struct {
			name  string
			req   *helplinev1.RecordFeedbackRequest
			field string
		}{
			{"rating 6", &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: reached, Satisfied: true, Rating: 6}, "rating"},
			{"rating -1", &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: reached, Satisfied: true, Rating: -1}, "rating"},
			{"rating -1 unsatisfied", &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: reached, Rating: -1}, "rating"},
			{"outcome unspecified", &helplinev1.RecordFeedbackRequest{Docket: d, Satisfied: true, Rating: 5}, "outcome"},
			{"outcome unknown", &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: helplinev1.FeedbackOutcome(9), Satisfied: true}, "outcome"},
			{"not reachable but satisfied", &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: notReachable, Satisfied: true}, "satisfied"},
			{"not reachable with a rating", &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: notReachable, Rating: 3}, "rating"},
			{"bad docket", &helplinev1.RecordFeedbackRequest{Docket: "not a docket", Outcome: reached, Satisfied: true}, "docket"},
		}
		for _, tc := range cases {
			_, err := f.sat.RecordFeedback(ctx, tc.req)
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("%s: %v, want InvalidArgument", tc.name, err)
				continue
			}
			wantInvalid(t, err, tc.field)
		}
		// A stale expected_version is refused the same way and changes nothing.
		if _, err := f.sat.RecordFeedback(ctx, &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: reached, Satisfied: true, ExpectedVersion: before.GetVersion() - 1}); status.Code(err) != codes.FailedPrecondition {
			t.Errorf("stale expected_version: %v, want FailedPrecondition", err)
		}
		unchanged(t, before, 0)
		if it := f.waitPending(t, d, true); it.GetAttempts() != 0 {
			t.Errorf("refused calls counted attempts: %d", it.GetAttempts())
		}
	})
}

// TestPendingQueueFollowsTheLifecycle: the queue consumer takes a reopened
// complaint out of the pending feedback list and puts it back, at its new
// resolution time, when it is resolved again.
func TestPendingQueueFollowsTheLifecycle(t *testing.T) {
	t.Parallel()
	f := start(t)
	a := f.resolved(t, "first fix")
	resolvedA := f.env.Clock.Now()
	f.env.Clock.Advance(time.Hour)
	b := f.resolved(t, "other fix")
	resolvedB := f.env.Clock.Now()
	f.waitPending(t, a.GetDocket(), true)
	f.waitPending(t, b.GetDocket(), true)

	order := func() []string {
		var out []string
		for _, it := range f.pending(t, "SHIMLA") {
			out = append(out, it.GetComplaint().GetDocket())
		}
		return out
	}
	if got, want := order(), []string{a.GetDocket(), b.GetDocket()}; !slices.Equal(got, want) {
		t.Errorf("pending order %q, want oldest resolution first %q", got, want)
	}
	if got := f.pending(t, "KANGRA"); len(got) != 0 {
		t.Errorf("pending in KANGRA: %d items, want none", len(got))
	}

	// A failed call keeps it in the queue at its resolution time.
	f.env.Clock.Advance(time.Hour)
	f.feedback(t, &helplinev1.RecordFeedbackRequest{Docket: a.GetDocket(), Outcome: notReachable})
	testenv.Eventually(t, 5*time.Second, "the failed call reaches the list", func() bool {
		it := find(f.pending(t, ""), a.GetDocket())
		return it != nil && it.GetAttempts() == 1
	})
	f.waitQueueConsumer(t, a.GetDocket())
	if at, in := f.inQueueTable(t, a.GetDocket()); !in || !at.Equal(resolvedA) {
		t.Errorf("feedback_queue after a failed call: %v %v, want kept at %v", at, in, resolvedA)
	}

	// Not satisfied: reopened, out of the queue (the table, not only the list).
	f.env.Clock.Advance(time.Hour)
	f.feedback(t, &helplinev1.RecordFeedbackRequest{Docket: a.GetDocket(), Outcome: reached, Satisfied: false})
	f.waitPending(t, a.GetDocket(), false)
	testenv.Eventually(t, 5*time.Second, "feedback_queue row of the reopened complaint removed", func() bool {
		_, in := f.inQueueTable(t, a.GetDocket())
		return !in
	})
	if find(f.pending(t, ""), b.GetDocket()) == nil {
		t.Errorf("the other complaint left the queue")
	}

	// Resolved again: back in the queue, after b, with no failed calls.
	f.env.Clock.Advance(time.Hour)
	f.ack(t, holderL2, a.GetDocket())
	f.resolve(t, holderL2, a.GetDocket(), "second fix")
	resolvedAgain := f.env.Clock.Now()
	it := f.waitPending(t, a.GetDocket(), true)
	if it.GetAttempts() != 0 || it.GetFirstFailedAt() != nil || it.GetComplaint().GetActionTakenReport() != "second fix" ||
		!ts(it.GetComplaint().GetResolvedAt()).Equal(resolvedAgain) {
		t.Errorf("re-resolved item: attempts %d first_failed_at %v ATR %q resolved_at %v; want 0, none, %q, %v",
			it.GetAttempts(), it.GetFirstFailedAt(), it.GetComplaint().GetActionTakenReport(), it.GetComplaint().GetResolvedAt(), "second fix", resolvedAgain)
	}
	testenv.Eventually(t, 5*time.Second, "feedback_queue row at the new resolution time", func() bool {
		at, in := f.inQueueTable(t, a.GetDocket())
		return in && at.Equal(resolvedAgain)
	})
	if got, want := order(), []string{b.GetDocket(), a.GetDocket()}; !slices.Equal(got, want) {
		t.Errorf("pending order %q, want %q (b resolved at %v, a again at %v)", got, want, resolvedB, resolvedAgain)
	}

	// Closed: out again.
	f.feedback(t, &helplinev1.RecordFeedbackRequest{Docket: a.GetDocket(), Outcome: reached, Satisfied: true})
	f.waitPending(t, a.GetDocket(), false)
	testenv.Eventually(t, 5*time.Second, "feedback_queue row of the closed complaint removed", func() bool {
		_, in := f.inQueueTable(t, a.GetDocket())
		return !in
	})
}
