package resolution_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/services/resolution"
)

// escCategory is a PWD category the escalation tests create with known SLAs.
const escCategory = "ESC_ROAD_CAVE_IN"

// escSLA is escCategory's SLA in working days at levels 1..4.
var escSLA = []int32{2, 2, 3, 3}

// escHoliday is a holiday the tests add on a Wednesday, so that it pushes
// the first deadline of a complaint registered on Monday 2 November 2026.
const escHoliday = "2026-11-04"

const (
	escAssigned   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED
	escInProgress = helplinev1.ComplaintStatus_COMPLAINT_STATUS_IN_PROGRESS
	escOnHold     = helplinev1.ComplaintStatus_COMPLAINT_STATUS_ON_HOLD
	escResolved   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_RESOLVED
	escRegistered = helplinev1.ComplaintStatus_COMPLAINT_STATUS_REGISTERED
)

// escQuiet is how long a test waits to see that the escalation job (every
// 50 ms) does NOT act.
const escQuiet = 300 * time.Millisecond

var escKeys atomic.Int64

// escEndOfDay is 23:59:59 IST on the given day: the shape of every deadline.
func escEndOfDay(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 23, 59, 59, 0, clock.IST)
}

// escAt is a time of day in IST.
func escAt(y int, m time.Month, d, hour, min int) time.Time {
	return time.Date(y, m, d, hour, min, 0, 0, clock.IST)
}

func escFmt(t time.Time) string { return t.In(clock.IST).Format("Mon 2006-01-02 15:04:05 MST") }

// escSetup creates escCategory in PWD with a state-wide routing rule and
// adds escHoliday.
func escSetup(t *testing.T, env *testenv.Env) {
	t.Helper()
	ctx := env.Admin
	if _, err := env.Routing.UpsertCategory(ctx, &helplinev1.UpsertCategoryRequest{Category: &helplinev1.Category{
		Code: escCategory, DepartmentCode: "PWD", Name: "Road caved in", SlaDays: escSLA,
	}}); err != nil {
		t.Fatalf("upsert category: %v", err)
	}
	if _, err := env.Routing.UpsertRoutingRule(ctx, &helplinev1.UpsertRoutingRuleRequest{Rule: &helplinev1.RoutingRule{
		CategoryCode: escCategory, DepartmentCode: "PWD",
	}}); err != nil {
		t.Fatalf("upsert routing rule: %v", err)
	}
	if _, err := env.Routing.UpsertHoliday(ctx, &helplinev1.UpsertHolidayRequest{Holiday: &helplinev1.Holiday{
		Date: escHoliday, Name: "Escalation test holiday",
	}}); err != nil {
		t.Fatalf("upsert holiday: %v", err)
	}
}

// escRegisterNoWait files a complaint in escCategory in Shimla and returns its docket.
func escRegisterNoWait(t *testing.T, env *testenv.Env) string {
	t.Helper()
	resp, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: fmt.Sprintf("esc-%s-%d", t.Name(), escKeys.Add(1)),
		Citizen:        &helplinev1.Citizen{Name: "Kamla Devi", Phone: "94180 55555", Language: "hi"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG"},
		CategoryCode:   escCategory,
		Description:    "सड़क धँस गई है",
		Channel:        helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return resp.GetComplaint().GetDocket()
}

// escWaitRouted waits until routing has assigned the complaint to PWD-SHIMLA-L1.
func escWaitRouted(t *testing.T, env *testenv.Env, docket string) *helplinev1.Complaint {
	t.Helper()
	var c *helplinev1.Complaint
	testenv.Eventually(t, 10*time.Second, "routing of "+docket, func() bool {
		c = escGet(t, env, docket)
		return c.GetStatus() != escRegistered
	})
	if c.GetStatus() != escAssigned || c.GetPost() != "PWD-SHIMLA-L1" || c.GetLevel() != 1 || c.GetAssignedOfficer() != "pwd-shimla-l1" {
		t.Fatalf("%s routed to %s %s L%d (%s), want ASSIGNED PWD-SHIMLA-L1 L1 (pwd-shimla-l1)",
			docket, c.GetStatus(), c.GetPost(), c.GetLevel(), c.GetAssignedOfficer())
	}
	return c
}

// escRegister files a complaint and waits until it is routed.
func escRegister(t *testing.T, env *testenv.Env) *helplinev1.Complaint {
	t.Helper()
	return escWaitRouted(t, env, escRegisterNoWait(t, env))
}

// escGet reads a complaint with its history as admin.
func escGet(t *testing.T, env *testenv.Env, docket string) *helplinev1.Complaint {
	t.Helper()
	r, err := env.Intake.GetComplaint(env.Admin, &helplinev1.GetComplaintRequest{Docket: docket})
	if err != nil {
		t.Fatalf("get %s: %v", docket, err)
	}
	return r.GetComplaint()
}

// escActions lists the actions of a complaint's history, oldest first.
func escActions(c *helplinev1.Complaint) []string {
	var out []string
	for _, h := range c.GetHistory() {
		out = append(out, h.GetAction())
	}
	return out
}

func escCount(c *helplinev1.Complaint, action string) int {
	n := 0
	for _, h := range c.GetHistory() {
		if h.GetAction() == action {
			n++
		}
	}
	return n
}

// escDue returns the complaint's deadline (zero when none).
func escDue(c *helplinev1.Complaint) time.Time {
	if c.GetSlaDueAt() == nil {
		return time.Time{}
	}
	return c.GetSlaDueAt().AsTime()
}

// escCheckVersions checks that the history versions are 1..N in order and
// that the complaint's version is N.
func escCheckVersions(t *testing.T, c *helplinev1.Complaint) {
	t.Helper()
	for i, h := range c.GetHistory() {
		if h.GetVersion() != int64(i+1) {
			var vs []int64
			for _, h := range c.GetHistory() {
				vs = append(vs, h.GetVersion())
			}
			t.Errorf("%s: history versions %v, want 1..%d without gaps or duplicates", c.GetDocket(), vs, len(c.GetHistory()))
			return
		}
	}
	if c.GetVersion() != int64(len(c.GetHistory())) {
		t.Errorf("%s: version %d but %d history entries", c.GetDocket(), c.GetVersion(), len(c.GetHistory()))
	}
}

// escOutbox returns, per complaint id, the subjects of its outbox rows.
func escOutbox(t *testing.T, env *testenv.Env) map[int64][]string {
	t.Helper()
	rows, err := env.Pool.Query(context.Background(), `SELECT subject, payload FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var subject string
		var payload []byte
		if err := rows.Scan(&subject, &payload); err != nil {
			t.Fatal(err)
		}
		ev := &helplinev1.ComplaintEvent{}
		if err := proto.Unmarshal(payload, ev); err != nil {
			t.Fatalf("decode outbox payload: %v", err)
		}
		out[ev.GetComplaintId()] = append(out[ev.GetComplaintId()], subject)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func escSubjectCount(subjects []string, subject string) int {
	n := 0
	for _, s := range subjects {
		if s == subject {
			n++
		}
	}
	return n
}

// escCheckEscalated checks a complaint that has just been escalated to
// level at post (held by officer) with deadline due, by the job running at runAt.
func escCheckEscalated(t *testing.T, c *helplinev1.Complaint, level int32, post, officer string, due, runAt time.Time) {
	t.Helper()
	if c.GetLevel() != level || c.GetPost() != post || c.GetAssignedOfficer() != officer || c.GetStatus() != escAssigned {
		t.Fatalf("after escalation: %s %s L%d officer %q, want ASSIGNED %s L%d officer %q",
			c.GetStatus(), c.GetPost(), c.GetLevel(), c.GetAssignedOfficer(), post, level, officer)
	}
	if got := escDue(c); !got.Equal(due) {
		t.Errorf("L%d deadline = %s, want %s (counted from the previous deadline)", level, escFmt(got), escFmt(due))
	}
	if c.GetDepartmentCode() != "PWD" {
		t.Errorf("department = %q, want PWD", c.GetDepartmentCode())
	}
	h := c.GetHistory()
	last := h[len(h)-1]
	if last.GetAction() != "escalate" || last.GetActor() != "system" {
		t.Fatalf("last history entry = %s by %q, want escalate by system", last.GetAction(), last.GetActor())
	}
	if prev := fmt.Sprintf("L%d", level-1); !strings.Contains(last.GetNote(), prev) {
		t.Errorf("escalate note %q does not mention the previous level %s", last.GetNote(), prev)
	}
	if last.GetToStatus() != escAssigned || last.GetPost() != post || last.GetLevel() != level {
		t.Errorf("escalate entry snapshot: to %s post %s L%d, want ASSIGNED %s L%d", last.GetToStatus(), last.GetPost(), last.GetLevel(), post, level)
	}
	if got := last.GetSlaDueAt().AsTime(); !got.Equal(due) {
		t.Errorf("escalate entry deadline = %s, want %s", escFmt(got), escFmt(due))
	}
	if got := last.GetAt().AsTime(); !got.Equal(runAt) {
		t.Errorf("escalate entry at %s, want the fake clock's %s", escFmt(got), escFmt(runAt))
	}
}

// TestEscalationClimbsTheChainOnWorkingDayDeadlines: a complaint nobody
// touches climbs L1 → L2 → L3 → L4 exactly at its working-day deadlines,
// each counted from the previous deadline, and stops at L4.
func TestEscalationClimbsTheChainOnWorkingDayDeadlines(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	escSetup(t, env)
	c := escRegister(t, env) // Mon 2026-11-02 10:00 IST

	// SLA {2, 2, 3, 3}; holidays: Wed 2026-11-04 (added by the test) and
	// Sun 2026-11-08 (Diwali, seeded; a Sunday anyway); Saturday is a working day.
	//
	// L1 from Mon 2 Nov: Tue 3 (1), Wed 4 holiday, Thu 5 (2) → Thu 5 Nov 23:59:59.
	l1Due := escEndOfDay(2026, 11, 5)
	// L2 from the L1 deadline Thu 5: Fri 6 (1), Sat 7 (2) → Sat 7 Nov 23:59:59.
	l2Due := escEndOfDay(2026, 11, 7)
	// L3 from the L2 deadline Sat 7: Sun 8 off, Mon 9 (1), Tue 10 (2), Wed 11 (3)
	// → Wed 11 Nov 23:59:59. The job runs late, on Mon 9 at 12:00: counted from
	// that run it would wrongly be Tue 10 (1), Wed 11 (2), Thu 12 (3) → Thu 12.
	l3Due := escEndOfDay(2026, 11, 11)
	// L4 from the L3 deadline Wed 11: Thu 12 (1), Fri 13 (2), Sat 14 (3) → Sat 14 Nov 23:59:59.
	l4Due := escEndOfDay(2026, 11, 14)

	if got := escDue(c); !got.Equal(l1Due) {
		t.Fatalf("L1 deadline = %s, want %s", escFmt(got), escFmt(l1Due))
	}

	steps := []struct {
		due     time.Time // the deadline that passes
		runAt   time.Time // when the clock is set after it
		level   int32
		post    string
		officer string
		next    time.Time
	}{
		{l1Due, l1Due.Add(time.Second), 2, "PWD-SHIMLA-L2", "pwd-shimla-l2", l2Due},
		// Late on purpose: the job first sees the L2 deadline passed on Mon 9 Nov at 12:00.
		{l2Due, escAt(2026, 11, 9, 12, 0), 3, "PWD-STATE-L3", "pwd-state-l3", l3Due},
		{l3Due, l3Due.Add(time.Second), 4, "PWD-STATE-L4", "pwd-state-l4", l4Due},
	}
	for i, s := range steps {
		before := s.due.Add(-time.Minute)
		env.Clock.Set(before)
		time.Sleep(escQuiet)
		c = escGet(t, env, c.GetDocket())
		if c.GetLevel() != s.level-1 || escCount(c, "escalate") != i || c.GetStatus() != escAssigned {
			t.Fatalf("at %s, a minute before the L%d deadline: %s L%d with %d escalations, want ASSIGNED L%d with %d",
				escFmt(before), s.level-1, c.GetStatus(), c.GetLevel(), escCount(c, "escalate"), s.level-1, i)
		}
		if c.GetOverdue() {
			t.Errorf("overdue a minute before the deadline")
		}

		env.Clock.Set(s.runAt)
		testenv.Eventually(t, 5*time.Second, fmt.Sprintf("escalation to L%d at %s", s.level, escFmt(s.runAt)), func() bool {
			c = escGet(t, env, c.GetDocket())
			return c.GetLevel() >= s.level
		})
		escCheckEscalated(t, c, s.level, s.post, s.officer, s.next, s.runAt)
		if c.GetOverdue() {
			t.Errorf("overdue right after escalation to L%d", s.level)
		}
		// The late run escalated once: the new deadline is still ahead.
		time.Sleep(escQuiet)
		if again := escGet(t, env, c.GetDocket()); again.GetLevel() != s.level || escCount(again, "escalate") != i+1 {
			t.Fatalf("at %s: L%d with %d escalations, want L%d with %d", escFmt(s.runAt), again.GetLevel(), escCount(again, "escalate"), s.level, i+1)
		}
	}

	// Past the L4 deadline, and far beyond: no level above L4.
	env.Clock.Set(l4Due.Add(time.Second))
	time.Sleep(escQuiet)
	env.Clock.Set(escAt(2027, 3, 1, 10, 0))
	time.Sleep(escQuiet)
	c = escGet(t, env, c.GetDocket())
	if c.GetLevel() != 4 || c.GetPost() != "PWD-STATE-L4" || c.GetStatus() != escAssigned || !escDue(c).Equal(l4Due) {
		t.Fatalf("long after the L4 deadline: %s %s L%d due %s, want ASSIGNED PWD-STATE-L4 L4 due %s",
			c.GetStatus(), c.GetPost(), c.GetLevel(), escFmt(escDue(c)), escFmt(l4Due))
	}
	if !c.GetOverdue() {
		t.Error("overdue = false long after the L4 deadline")
	}
	if n := escCount(c, "escalate"); n != 3 {
		t.Errorf("%d escalate history entries, want 3: %v", n, escActions(c))
	}
	if want := []string{"register", "route", "escalate", "escalate", "escalate"}; !slices.Equal(escActions(c), want) {
		t.Errorf("history = %v, want %v", escActions(c), want)
	}
	escCheckVersions(t, c)

	subjects := escOutbox(t, env)[c.GetId()]
	if n := escSubjectCount(subjects, "helpline.complaint.escalated"); n != 3 {
		t.Errorf("%d outbox rows helpline.complaint.escalated for the complaint, want 3 (all: %v)", n, subjects)
	}
	if len(subjects) != len(c.GetHistory()) {
		t.Errorf("%d outbox rows for %d history entries: %v", len(subjects), len(c.GetHistory()), subjects)
	}
}

// TestEscalationSkipsAComplaintResolvedBeforeItsDeadline: resolved a minute
// before the deadline, a complaint is never escalated.
func TestEscalationSkipsAComplaintResolvedBeforeItsDeadline(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	escSetup(t, env)
	c := escRegister(t, env)
	control := escRegister(t, env) // left alone: proves the job ran
	// L1 from Mon 2 Nov: Tue 3 (1), Wed 4 holiday, Thu 5 (2) → Thu 5 Nov 23:59:59.
	due := escEndOfDay(2026, 11, 5)
	if !escDue(c).Equal(due) {
		t.Fatalf("L1 deadline = %s, want %s", escFmt(escDue(c)), escFmt(due))
	}

	env.Clock.Set(due.Add(-time.Minute))
	officer := env.As("pwd-shimla-l1")
	if _, err := env.Resolution.AcknowledgeComplaint(officer, &helplinev1.AcknowledgeComplaintRequest{Docket: c.GetDocket()}); err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	if _, err := env.Resolution.ResolveComplaint(officer, &helplinev1.ResolveComplaintRequest{
		Docket: c.GetDocket(), ActionTakenReport: "Road filled and compacted.",
	}); err != nil {
		t.Fatalf("resolve: %v", err)
	}

	env.Clock.Set(escAt(2026, 12, 15, 10, 0))
	testenv.Eventually(t, 5*time.Second, "the control complaint to escalate", func() bool {
		return escGet(t, env, control.GetDocket()).GetLevel() >= 2
	})
	time.Sleep(escQuiet)

	c = escGet(t, env, c.GetDocket())
	if c.GetStatus() != escResolved || c.GetLevel() != 1 || c.GetPost() != "PWD-SHIMLA-L1" || c.GetOverdue() {
		t.Fatalf("resolved complaint long after its deadline: %s %s L%d overdue=%v, want RESOLVED PWD-SHIMLA-L1 L1 not overdue",
			c.GetStatus(), c.GetPost(), c.GetLevel(), c.GetOverdue())
	}
	if want := []string{"register", "route", "acknowledge", "resolve"}; !slices.Equal(escActions(c), want) {
		t.Errorf("history = %v, want %v", escActions(c), want)
	}
	escCheckVersions(t, c)
	if n := escSubjectCount(escOutbox(t, env)[c.GetId()], "helpline.complaint.escalated"); n != 0 {
		t.Errorf("%d escalated events for a resolved complaint", n)
	}
}

// TestEscalationWaitsWhileOnHold: ON_HOLD pauses the clock; resuming moves
// the deadline by the working days spent on hold, and escalation comes
// only after the moved deadline.
func TestEscalationWaitsWhileOnHold(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	escSetup(t, env)
	c := escRegister(t, env)
	control := escRegister(t, env) // left alone: proves the job ran
	// L1 from Mon 2 Nov: Tue 3 (1), Wed 4 holiday, Thu 5 (2) → Thu 5 Nov 23:59:59.
	origDue := escEndOfDay(2026, 11, 5)
	if !escDue(c).Equal(origDue) {
		t.Fatalf("L1 deadline = %s, want %s", escFmt(escDue(c)), escFmt(origDue))
	}

	officer := env.As("pwd-shimla-l1")
	env.Clock.Set(escAt(2026, 11, 3, 11, 0)) // Tue 3 Nov 11:00
	if _, err := env.Resolution.AcknowledgeComplaint(officer, &helplinev1.AcknowledgeComplaintRequest{Docket: c.GetDocket()}); err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	if _, err := env.Resolution.RequestInformation(officer, &helplinev1.RequestInformationRequest{
		Docket: c.GetDocket(), Note: "Which kilometre stone is the cave-in near?",
	}); err != nil {
		t.Fatalf("request information: %v", err)
	}

	// Past the original deadline while on hold: the control escalates, the held one does not.
	env.Clock.Set(escAt(2026, 11, 7, 12, 0)) // Sat 7 Nov 12:00
	testenv.Eventually(t, 5*time.Second, "the control complaint to escalate", func() bool {
		return escGet(t, env, control.GetDocket()).GetLevel() >= 2
	})
	time.Sleep(escQuiet)
	c = escGet(t, env, c.GetDocket())
	if c.GetStatus() != escOnHold || c.GetLevel() != 1 || escCount(c, "escalate") != 0 {
		t.Fatalf("on hold past the original deadline: %s L%d with %d escalations, want ON_HOLD L1 with none",
			c.GetStatus(), c.GetLevel(), escCount(c, "escalate"))
	}
	if c.GetOverdue() {
		t.Error("an ON_HOLD complaint is reported overdue")
	}

	// Resume on Mon 9 Nov 10:00. Working days on hold, after Tue 3 up to and
	// including Mon 9: Wed 4 holiday, Thu 5 (1), Fri 6 (2), Sat 7 (3), Sun 8 off,
	// Mon 9 (4) → 4. The deadline moves 4 working days from Thu 5:
	// Fri 6 (1), Sat 7 (2), Sun 8 off, Mon 9 (3), Tue 10 (4) → Tue 10 Nov 23:59:59.
	newDue := escEndOfDay(2026, 11, 10)
	env.Clock.Set(escAt(2026, 11, 9, 10, 0))
	resp, err := env.Resolution.ResumeComplaint(officer, &helplinev1.ResumeComplaintRequest{Docket: c.GetDocket()})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if got := escDue(resp.GetComplaint()); !got.Equal(newDue) {
		t.Fatalf("deadline after resuming = %s, want %s", escFmt(got), escFmt(newDue))
	}
	time.Sleep(escQuiet)
	c = escGet(t, env, c.GetDocket())
	if c.GetStatus() != escInProgress || c.GetLevel() != 1 {
		t.Fatalf("right after resuming (original deadline long past): %s L%d, want IN_PROGRESS L1", c.GetStatus(), c.GetLevel())
	}

	env.Clock.Set(newDue.Add(-time.Minute))
	time.Sleep(escQuiet)
	if c = escGet(t, env, c.GetDocket()); c.GetLevel() != 1 || c.GetStatus() != escInProgress {
		t.Fatalf("a minute before the moved deadline: %s L%d, want IN_PROGRESS L1", c.GetStatus(), c.GetLevel())
	}

	runAt := newDue.Add(time.Second)
	env.Clock.Set(runAt)
	testenv.Eventually(t, 5*time.Second, "escalation after the moved deadline", func() bool {
		c = escGet(t, env, c.GetDocket())
		return c.GetLevel() >= 2
	})
	// L2 from the moved deadline Tue 10: Wed 11 (1), Thu 12 (2) → Thu 12 Nov 23:59:59.
	escCheckEscalated(t, c, 2, "PWD-SHIMLA-L2", "pwd-shimla-l2", escEndOfDay(2026, 11, 12), runAt)
	if want := []string{"register", "route", "acknowledge", "request_information", "resume", "escalate"}; !slices.Equal(escActions(c), want) {
		t.Errorf("history = %v, want %v", escActions(c), want)
	}
	escCheckVersions(t, c)
}

// TestEscalationRacesWithResolve: officers resolving while the job
// escalates leave each complaint with exactly one consistent outcome.
func TestEscalationRacesWithResolve(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	escSetup(t, env)
	const n = 30
	dockets := make([]string, n)
	for i := range dockets {
		dockets[i] = escRegisterNoWait(t, env)
	}
	officer := env.As("pwd-shimla-l1")
	// L1 from Mon 2 Nov: Tue 3 (1), Wed 4 holiday, Thu 5 (2) → Thu 5 Nov 23:59:59.
	due := escEndOfDay(2026, 11, 5)
	for _, d := range dockets {
		c := escWaitRouted(t, env, d)
		if !escDue(c).Equal(due) {
			t.Fatalf("L1 deadline = %s, want %s", escFmt(escDue(c)), escFmt(due))
		}
		if _, err := env.Resolution.AcknowledgeComplaint(officer, &helplinev1.AcknowledgeComplaintRequest{Docket: d}); err != nil {
			t.Fatalf("acknowledge %s: %v", d, err)
		}
	}

	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, d := range dockets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Spread the calls over about three runs of the job (every 50 ms).
			time.Sleep(time.Duration(i) * 5 * time.Millisecond)
			_, errs[i] = env.Resolution.ResolveComplaint(officer, &helplinev1.ResolveComplaintRequest{
				Docket: d, ActionTakenReport: "Cave-in filled.",
			})
		}()
	}
	runAt := due.Add(time.Second)
	env.Clock.Set(runAt)
	close(start)
	wg.Wait()

	// Every complaint not resolved is escalated by the job soon.
	testenv.Eventually(t, 5*time.Second, "every complaint resolved or escalated", func() bool {
		for _, d := range dockets {
			c := escGet(t, env, d)
			if c.GetStatus() != escResolved && c.GetLevel() < 2 {
				return false
			}
		}
		return true
	})
	time.Sleep(escQuiet)

	outbox := escOutbox(t, env)
	resolved, escalated := 0, 0
	refusals := map[codes.Code]int{}
	for i, d := range dockets {
		c := escGet(t, env, d)
		acts := escActions(c)
		switch {
		case errs[i] == nil:
			resolved++
			if c.GetStatus() != escResolved || c.GetLevel() != 1 || c.GetPost() != "PWD-SHIMLA-L1" ||
				!slices.Equal(acts, []string{"register", "route", "acknowledge", "resolve"}) {
				t.Errorf("%s: resolve succeeded but the complaint is %s %s L%d with history %v; want RESOLVED L1 [register route acknowledge resolve]",
					d, c.GetStatus(), c.GetPost(), c.GetLevel(), acts)
			}
		default:
			escalated++
			refusals[status.Code(errs[i])]++
			if code := status.Code(errs[i]); code != codes.PermissionDenied && code != codes.FailedPrecondition {
				t.Errorf("%s: resolve failed with %v, want PermissionDenied or FailedPrecondition", d, errs[i])
			}
			if c.GetStatus() != escAssigned || c.GetLevel() != 2 || c.GetPost() != "PWD-SHIMLA-L2" ||
				!slices.Equal(acts, []string{"register", "route", "acknowledge", "escalate"}) {
				t.Errorf("%s: resolve refused (%v) but the complaint is %s %s L%d with history %v; want ASSIGNED L2 [register route acknowledge escalate]",
					d, status.Code(errs[i]), c.GetStatus(), c.GetPost(), c.GetLevel(), acts)
			}
			// L2 from the L1 deadline Thu 5: Fri 6 (1), Sat 7 (2) → Sat 7 Nov 23:59:59.
			if want := escEndOfDay(2026, 11, 7); !escDue(c).Equal(want) {
				t.Errorf("%s: L2 deadline %s, want %s", d, escFmt(escDue(c)), escFmt(want))
			}
		}
		if escCount(c, "resolve") > 0 && escCount(c, "escalate") > 0 {
			t.Errorf("%s: both resolved and escalated: %v", d, acts)
		}
		escCheckVersions(t, c)
		if got := len(outbox[c.GetId()]); got != len(c.GetHistory()) {
			t.Errorf("%s: %d outbox rows for %d history entries (%v vs %v)", d, got, len(c.GetHistory()), outbox[c.GetId()], acts)
		}
	}
	t.Logf("race outcome: %d resolved by the officer, %d escalated first (resolve refused: %v)", resolved, escalated, refusals)
}

// TestEscalationConcurrentRunsEscalateOnce: several escalation runs at
// once (as several replicas would) escalate each overdue complaint exactly
// once per deadline passed.
func TestEscalationConcurrentRunsEscalateOnce(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	escSetup(t, env)
	const n = 25
	dockets := make([]string, n)
	for i := range dockets {
		dockets[i] = escRegisterNoWait(t, env)
	}
	for _, d := range dockets {
		escWaitRouted(t, env, d)
	}
	// A second replica of the service on the same database. It gets a fake
	// clock of its own, moved past the deadlines while env.Clock (the
	// server's job) stays before them: only the concurrent runs below can
	// escalate, so they must together escalate each complaint exactly once.
	clk := clock.NewFake(env.Clock.Now())
	svc := resolution.New(env.Pool, clk, calendar.Default, testenv.Logger(t), nil)

	const runners, rounds = 8, 3
	// run calls EscalateDue from several goroutines at once (after warming
	// the pool's connections with runs that find nothing due) and returns
	// the sum of what they report.
	run := func(at time.Time) int64 {
		var total atomic.Int64
		start := make(chan struct{})
		var ready, wg sync.WaitGroup
		for range runners {
			wg.Add(1)
			ready.Add(1)
			go func() {
				defer wg.Done()
				if k, err := svc.EscalateDue(context.Background()); err != nil || k != 0 {
					t.Errorf("warm-up EscalateDue: %d, %v; want 0 before the deadline", k, err)
				}
				ready.Done()
				<-start
				for range rounds {
					k, err := svc.EscalateDue(context.Background())
					if err != nil {
						t.Errorf("EscalateDue: %v", err)
					}
					total.Add(int64(k))
				}
			}()
		}
		ready.Wait()
		clk.Set(at)
		close(start)
		wg.Wait()
		return total.Load()
	}

	steps := []struct {
		at      time.Time
		level   int32
		post    string
		due     time.Time
		history []string
	}{
		// L1 from Mon 2 Nov: Tue 3 (1), Wed 4 holiday, Thu 5 (2) → Thu 5 Nov 23:59:59;
		// L2 from it: Fri 6 (1), Sat 7 (2) → Sat 7 Nov 23:59:59.
		{escEndOfDay(2026, 11, 5).Add(time.Second), 2, "PWD-SHIMLA-L2", escEndOfDay(2026, 11, 7),
			[]string{"register", "route", "escalate"}},
		// L3 from Sat 7: Sun 8 off, Mon 9 (1), Tue 10 (2), Wed 11 (3) → Wed 11 Nov 23:59:59.
		{escEndOfDay(2026, 11, 7).Add(time.Second), 3, "PWD-STATE-L3", escEndOfDay(2026, 11, 11),
			[]string{"register", "route", "escalate", "escalate"}},
	}
	for i, s := range steps {
		if got := run(s.at); got != n {
			t.Errorf("the concurrent runs past deadline %d report %d escalations of %d complaints, want exactly %d", i+1, got, n, n)
		}
		outbox := escOutbox(t, env)
		for _, d := range dockets {
			c := escGet(t, env, d)
			if c.GetLevel() != s.level || c.GetStatus() != escAssigned || c.GetPost() != s.post ||
				!slices.Equal(escActions(c), s.history) {
				t.Errorf("%s: %s %s L%d history %v, want ASSIGNED %s L%d %v",
					d, c.GetStatus(), c.GetPost(), c.GetLevel(), escActions(c), s.post, s.level, s.history)
			}
			if !escDue(c).Equal(s.due) {
				t.Errorf("%s: L%d deadline %s, want %s", d, s.level, escFmt(escDue(c)), escFmt(s.due))
			}
			escCheckVersions(t, c)
			if got := escSubjectCount(outbox[c.GetId()], "helpline.complaint.escalated"); got != i+1 {
				t.Errorf("%s: %d escalated events, want %d", d, got, i+1)
			}
		}
		if t.Failed() {
			return
		}
	}
}
