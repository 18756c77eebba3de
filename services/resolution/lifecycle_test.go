package resolution_test

// Lifecycle tests of the ResolutionService (issue 4): every row of the
// DESIGN.md lifecycle table this issue owns is driven through the real gRPC
// RPCs as the right users, every pair the table does not allow is refused
// and changes nothing, and a hold pauses the SLA clock. Helpers are prefixed
// "lc" because another file of this package is written at the same time.

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/docket"
	"github.com/helpline/helpline/internal/testenv"
)

// The demo users and master data the tests rely on (internal/seed).
const (
	lcHolder     = "pwd-shimla-l1" // holds PWD-SHIMLA-L1
	lcHolderL2   = "pwd-shimla-l2" // holds PWD-SHIMLA-L2
	lcStateL3    = "pwd-state-l3"  // holds PWD-STATE-L3
	lcSupervisor = "supervisor"
	lcAgent      = "agent1"
	lcJalHolder  = "jal_shakti-shimla-l1"

	lcPothole    = "PWD_ROAD_POTHOLES"          // PWD, SLA 7/5/5/3 working days
	lcWater      = "JAL_SHAKTI_NO_WATER_SUPPLY" // JAL_SHAKTI, SLA 2/2/3/3
	lcOther      = "GENERAL_OTHER"              // no routing rule: UNROUTED
	lcPostL1     = "PWD-SHIMLA-L1"
	lcPostL2     = "PWD-SHIMLA-L2"
	lcPostL3     = "PWD-STATE-L3"
	lcJalPostL1  = "JAL_SHAKTI-SHIMLA-L1"
	lcPWD        = "PWD"
	lcJalShakti  = "JAL_SHAKTI"
	lcSubjectPre = "helpline.complaint."
)

// Status enums, short.
const (
	lcRegistered = helplinev1.ComplaintStatus_COMPLAINT_STATUS_REGISTERED
	lcUnrouted   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNROUTED
	lcAssigned   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED
	lcInProgress = helplinev1.ComplaintStatus_COMPLAINT_STATUS_IN_PROGRESS
	lcOnHold     = helplinev1.ComplaintStatus_COMPLAINT_STATUS_ON_HOLD
	lcResolved   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_RESOLVED
	lcReopened   = helplinev1.ComplaintStatus_COMPLAINT_STATUS_REOPENED
	lcClosed     = helplinev1.ComplaintStatus_COMPLAINT_STATUS_CLOSED
)

var lcKeys atomic.Int64

// lcIST is a wall-clock time in India.
func lcIST(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, clock.IST)
}

// lcEndOfDay is 23:59:59 IST of a November 2026 day (an SLA deadline).
func lcEndOfDay(m time.Month, d int) time.Time { return lcIST(2026, m, d, 23, 59, 59) }

// lcRoleOf is the role of a demo user.
func lcRoleOf(user string) helplinev1.Role {
	switch {
	case user == "admin":
		return helplinev1.Role_ROLE_ADMIN
	case user == lcSupervisor:
		return helplinev1.Role_ROLE_SUPERVISOR
	case strings.HasPrefix(user, "agent"):
		return helplinev1.Role_ROLE_AGENT
	}
	return helplinev1.Role_ROLE_OFFICER
}

func lcIsOfficer(user string) bool { return lcRoleOf(user) == helplinev1.Role_ROLE_OFFICER }

// lcRegister registers a complaint in Shimla / Theog as agent1 and waits
// until routing has taken it out of REGISTERED.
func lcRegister(t *testing.T, env *testenv.Env, category string) *helplinev1.Complaint {
	t.Helper()
	key := fmt.Sprintf("lc-%s-%d", t.Name(), lcKeys.Add(1))
	resp, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: key,
		Citizen:        &helplinev1.Citizen{Name: "Kamla Devi", Phone: "94180 55555", Language: "hi"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG", Locality: "Theog bazaar"},
		CategoryCode:   category,
		Description:    "सड़क पर बड़े गड्ढे हैं / no water since a week",
		Channel:        helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatalf("RegisterComplaint: %v", err)
	}
	d := resp.GetComplaint().GetDocket()
	var c *helplinev1.Complaint
	testenv.Eventually(t, 10*time.Second, "routing of "+d, func() bool {
		c = lcGet(t, env, d)
		return c.GetStatus() != lcRegistered
	})
	return c
}

// lcRouted registers a potholes complaint and checks that it reached
// PWD-SHIMLA-L1 (ASSIGNED, level 1, 7 working days from registration).
func lcRouted(t *testing.T, env *testenv.Env) *helplinev1.Complaint {
	t.Helper()
	c := lcRegister(t, env, lcPothole)
	if c.GetStatus() != lcAssigned || c.GetPost() != lcPostL1 || c.GetLevel() != 1 || c.GetDepartmentCode() != lcPWD || c.GetAssignedOfficer() != lcHolder {
		t.Fatalf("routed complaint %s: status %s post %q level %d department %q officer %q; want ASSIGNED at %s L1 PWD held by %s",
			c.GetDocket(), c.GetStatus(), c.GetPost(), c.GetLevel(), c.GetDepartmentCode(), c.GetAssignedOfficer(), lcPostL1, lcHolder)
	}
	return c
}

// lcGet reads a complaint with its history as admin (who sees everything, unmasked).
func lcGet(t *testing.T, env *testenv.Env, d string) *helplinev1.Complaint {
	t.Helper()
	resp, err := env.Intake.GetComplaint(env.Admin, &helplinev1.GetComplaintRequest{Docket: d})
	if err != nil {
		t.Fatalf("GetComplaint(%s): %v", d, err)
	}
	return resp.GetComplaint()
}

// lcSQL runs a statement that puts a complaint in a state no RPC of this
// issue reaches (REGISTERED, REOPENED, ...).
func lcSQL(t *testing.T, env *testenv.Env, q string, args ...any) {
	t.Helper()
	tag, err := env.Pool.Exec(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if tag.RowsAffected() != 1 {
		t.Fatalf("%s: %d rows, want 1", q, tag.RowsAffected())
	}
}

// lcEvents returns the outbox events of a complaint, oldest first.
func lcEvents(t *testing.T, env *testenv.Env, complaintID int64) []*helplinev1.ComplaintEvent {
	t.Helper()
	rows, err := env.Pool.Query(context.Background(), `SELECT subject, payload FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []*helplinev1.ComplaintEvent
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
		if ev.GetComplaintId() != complaintID {
			continue
		}
		if subject != lcSubjectPre+ev.GetType() {
			t.Errorf("outbox subject %q for an event of type %q", subject, ev.GetType())
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// lcSnap is everything that must stay the same when a command is refused.
type lcSnap struct {
	c       *helplinev1.Complaint // as admin, with history
	version int64
	status  string
	history int
	outbox  int
}

func lcTake(t *testing.T, env *testenv.Env, d string) lcSnap {
	t.Helper()
	s := lcSnap{c: lcGet(t, env, d)}
	ctx := context.Background()
	if err := env.Pool.QueryRow(ctx, `SELECT version, status FROM complaints WHERE docket = $1`, d).Scan(&s.version, &s.status); err != nil {
		t.Fatal(err)
	}
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM complaint_history WHERE complaint_id = $1`, s.c.GetId()).Scan(&s.history); err != nil {
		t.Fatal(err)
	}
	s.outbox = len(lcEvents(t, env, s.c.GetId()))
	return s
}

// lcRefused asserts err has code (naming field, when given, in both the
// message and the BadRequest details) and that the complaint is unchanged:
// same version, status, history rows, outbox rows and every field.
func lcRefused(t *testing.T, env *testenv.Env, before lcSnap, err error, code codes.Code, field string) {
	t.Helper()
	st, ok := status.FromError(err)
	if err == nil || !ok || st.Code() != code {
		t.Errorf("%s: got %v, want %s", before.c.GetDocket(), err, code)
	}
	if field != "" && ok {
		if !strings.Contains(st.Message(), field) {
			t.Errorf("message %q does not name the field %q", st.Message(), field)
		}
		named := false
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				for _, v := range br.GetFieldViolations() {
					named = named || v.GetField() == field
				}
			}
		}
		if !named {
			t.Errorf("details of %v carry no field violation for %q", err, field)
		}
	}
	after := lcTake(t, env, before.c.GetDocket())
	if after.version != before.version || after.status != before.status || after.history != before.history || after.outbox != before.outbox {
		t.Errorf("refused command changed %s: version %d→%d, status %s→%s, history rows %d→%d, outbox rows %d→%d",
			before.c.GetDocket(), before.version, after.version, before.status, after.status,
			before.history, after.history, before.outbox, after.outbox)
	}
	if !proto.Equal(before.c, after.c) {
		t.Errorf("refused command changed %s:\nbefore %v\nafter  %v", before.c.GetDocket(), before.c, after.c)
	}
}

// lcStep is one expected transition.
type lcStep struct {
	action   complaint.Action
	actor    string
	from, to helplinev1.ComplaintStatus
}

// lcTransition checks the reply of a successful command against before
// (read with lcGet just before it): the new status, version+1, a new
// history entry with the action, actor, role and from/to status and a
// snapshot equal to the complaint's fields, updated_at from the fake clock,
// and exactly one outbox event of the table's type for the new version. It
// returns the complaint as read afterwards, with history.
func lcTransition(t *testing.T, env *testenv.Env, before, reply *helplinev1.Complaint, err error, s lcStep) *helplinev1.Complaint {
	t.Helper()
	if err != nil {
		t.Fatalf("%s %s by %s: %v", s.action, before.GetDocket(), s.actor, err)
	}
	if before.GetStatus() != s.from {
		t.Fatalf("test setup: %s is %s before %s, want %s", before.GetDocket(), before.GetStatus(), s.action, s.from)
	}
	now := env.Clock.Now()
	wantVersion := before.GetVersion() + 1
	if reply.GetDocket() != before.GetDocket() || reply.GetStatus() != s.to || reply.GetVersion() != wantVersion {
		t.Errorf("%s reply: docket %s status %s version %d; want %s %s version %d",
			s.action, reply.GetDocket(), reply.GetStatus(), reply.GetVersion(), before.GetDocket(), s.to, wantVersion)
	}
	after := lcGet(t, env, before.GetDocket())
	if after.GetStatus() != s.to || after.GetVersion() != wantVersion {
		t.Errorf("%s: stored status %s version %d; want %s version %d", s.action, after.GetStatus(), after.GetVersion(), s.to, wantVersion)
	}
	if !after.GetUpdatedAt().AsTime().Equal(now) {
		t.Errorf("%s: updated_at %v, want the clock's %v", s.action, after.GetUpdatedAt().AsTime(), now)
	}
	// The reply shows what was stored.
	if reply.GetPost() != after.GetPost() || reply.GetLevel() != after.GetLevel() || reply.GetDepartmentCode() != after.GetDepartmentCode() ||
		reply.GetCategoryCode() != after.GetCategoryCode() || !proto.Equal(reply.GetSlaDueAt(), after.GetSlaDueAt()) ||
		reply.GetFollowUpCount() != after.GetFollowUpCount() || reply.GetSpecialClosurePending() != after.GetSpecialClosurePending() ||
		reply.GetClosure() != after.GetClosure() || reply.GetAssignedOfficer() != after.GetAssignedOfficer() {
		t.Errorf("%s: reply %v differs from the stored complaint %v", s.action, reply, after)
	}
	if got, want := len(after.GetHistory()), len(before.GetHistory())+1; got != want {
		t.Fatalf("%s: %d history entries, want %d", s.action, got, want)
	}
	h := after.GetHistory()[len(after.GetHistory())-1]
	if h.GetVersion() != wantVersion || h.GetAction() != string(s.action) || h.GetFromStatus() != s.from || h.GetToStatus() != s.to ||
		h.GetActor() != s.actor || h.GetActorRole() != lcRoleOf(s.actor) || !h.GetAt().AsTime().Equal(now) {
		t.Errorf("%s: history entry %v; want version %d action %s %s→%s by %s (%s) at %v",
			s.action, h, wantVersion, s.action, s.from, s.to, s.actor, lcRoleOf(s.actor), now)
	}
	if h.GetDepartmentCode() != after.GetDepartmentCode() || h.GetCategoryCode() != after.GetCategoryCode() || h.GetPost() != after.GetPost() ||
		h.GetLevel() != after.GetLevel() || !proto.Equal(h.GetSlaDueAt(), after.GetSlaDueAt()) {
		t.Errorf("%s: history snapshot (department %q category %q post %q level %d due %v) differs from the complaint (%q %q %q %d %v)",
			s.action, h.GetDepartmentCode(), h.GetCategoryCode(), h.GetPost(), h.GetLevel(), h.GetSlaDueAt().AsTime(),
			after.GetDepartmentCode(), after.GetCategoryCode(), after.GetPost(), after.GetLevel(), after.GetSlaDueAt().AsTime())
	}
	var events []*helplinev1.ComplaintEvent
	for _, ev := range lcEvents(t, env, after.GetId()) {
		if ev.GetVersion() >= wantVersion {
			events = append(events, ev)
		}
	}
	if len(events) != 1 {
		t.Fatalf("%s: %d outbox events at or after version %d, want 1", s.action, len(events), wantVersion)
	}
	ev := events[0]
	if ev.GetVersion() != wantVersion || ev.GetType() != complaint.Table[s.action].Event || ev.GetAction() != string(s.action) ||
		ev.GetActor().GetUsername() != s.actor || ev.GetFromStatus() != s.from || ev.GetSnapshot().GetStatus() != s.to ||
		ev.GetSnapshot().GetPost() != after.GetPost() || ev.GetSnapshot().GetLevel() != after.GetLevel() ||
		ev.GetSnapshot().GetDepartmentCode() != after.GetDepartmentCode() || ev.GetSnapshot().GetCategoryCode() != after.GetCategoryCode() ||
		!proto.Equal(ev.GetSnapshot().GetSlaDueAt(), after.GetSlaDueAt()) || !ev.GetAt().AsTime().Equal(now) {
		t.Errorf("%s: outbox event %v does not describe the change", s.action, ev)
	}
	return after
}

// lcSameAssignment asserts that post, level, department, category and
// deadline did not change.
func lcSameAssignment(t *testing.T, before, after *helplinev1.Complaint) {
	t.Helper()
	if before.GetPost() != after.GetPost() || before.GetLevel() != after.GetLevel() || before.GetDepartmentCode() != after.GetDepartmentCode() ||
		before.GetCategoryCode() != after.GetCategoryCode() || !proto.Equal(before.GetSlaDueAt(), after.GetSlaDueAt()) ||
		before.GetAssignedOfficer() != after.GetAssignedOfficer() {
		t.Errorf("%s: assignment changed from %q L%d %q %q due %v to %q L%d %q %q due %v", before.GetDocket(),
			before.GetPost(), before.GetLevel(), before.GetDepartmentCode(), before.GetCategoryCode(), before.GetSlaDueAt().AsTime(),
			after.GetPost(), after.GetLevel(), after.GetDepartmentCode(), after.GetCategoryCode(), after.GetSlaDueAt().AsTime())
	}
}

// lcAssignedTo asserts the complaint's assignment.
func lcAssignedTo(t *testing.T, c *helplinev1.Complaint, post, officer, dept, category string, level int32, due time.Time) {
	t.Helper()
	if c.GetPost() != post || c.GetAssignedOfficer() != officer || c.GetDepartmentCode() != dept || c.GetCategoryCode() != category ||
		c.GetLevel() != level || c.GetSlaDueAt() == nil || !c.GetSlaDueAt().AsTime().Equal(due) {
		t.Errorf("%s: at %q (%q) %q %q L%d due %v; want %q (%q) %q %q L%d due %v", c.GetDocket(),
			c.GetPost(), c.GetAssignedOfficer(), c.GetDepartmentCode(), c.GetCategoryCode(), c.GetLevel(), lcTime(c.GetSlaDueAt()),
			post, officer, dept, category, level, due.In(clock.IST))
	}
}

// lcUnassigned asserts that a returned complaint has no post, department, level or deadline.
func lcUnassigned(t *testing.T, c *helplinev1.Complaint) {
	t.Helper()
	if c.GetPost() != "" || c.GetAssignedOfficer() != "" || c.GetDepartmentCode() != "" || c.GetLevel() != 0 || c.GetSlaDueAt() != nil || c.GetSpecialClosurePending() {
		t.Errorf("%s: returned complaint still at %q (%q) %q L%d due %v proposal %v", c.GetDocket(),
			c.GetPost(), c.GetAssignedOfficer(), c.GetDepartmentCode(), c.GetLevel(), lcTime(c.GetSlaDueAt()), c.GetSpecialClosurePending())
	}
}

func lcTime(ts *timestamppb.Timestamp) any {
	if ts == nil {
		return "none"
	}
	return ts.AsTime().In(clock.IST)
}

// lcAction is one command of the lifecycle called through its RPC by a user
// who may perform it (the post holder for officer actions, the supervisor
// for assign and decide, agent1 for follow-ups).
type lcAction struct {
	name   string
	action complaint.Action
	user   string
	call   func(ctx context.Context, env *testenv.Env, d string, version int64) (*helplinev1.Complaint, error)
}

var lcActions = []lcAction{
	{"acknowledge", complaint.Acknowledge, lcHolder, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Resolution.AcknowledgeComplaint(ctx, &helplinev1.AcknowledgeComplaintRequest{Docket: d, Note: "site visit planned", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"request_information", complaint.RequestInformation, lcHolder, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Resolution.RequestInformation(ctx, &helplinev1.RequestInformationRequest{Docket: d, Note: "which kilometre stone?", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"resume", complaint.Resume, lcHolder, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Resolution.ResumeComplaint(ctx, &helplinev1.ResumeComplaintRequest{Docket: d, Note: "found it myself", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"resolve", complaint.Resolve, lcHolder, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Resolution.ResolveComplaint(ctx, &helplinev1.ResolveComplaintRequest{Docket: d, ActionTakenReport: "Potholes filled with premix.", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"return", complaint.Return, lcHolder, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Resolution.ReturnComplaint(ctx, &helplinev1.ReturnComplaintRequest{Docket: d, Reason: "a private road, not PWD's", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"transfer_by_officer", complaint.Transfer, lcHolder, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Resolution.TransferComplaint(ctx, &helplinev1.TransferComplaintRequest{Docket: d, CategoryCode: lcWater, Note: "a water main burst", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"transfer_by_supervisor", complaint.Transfer, lcSupervisor, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Resolution.TransferComplaint(ctx, &helplinev1.TransferComplaintRequest{Docket: d, CategoryCode: lcWater, Note: "a water main burst", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"propose_special_closure", complaint.ProposeSpecial, lcHolder, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Resolution.ProposeSpecialClosure(ctx, &helplinev1.ProposeSpecialClosureRequest{Docket: d,
			Reason: helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_POLICY_MATTER, Note: "needs a new road budget", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"approve_special_closure", complaint.ApproveSpecial, lcSupervisor, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Resolution.DecideSpecialClosure(ctx, &helplinev1.DecideSpecialClosureRequest{Docket: d, Approve: true, Note: "agreed", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"reject_special_closure", complaint.RejectSpecial, lcSupervisor, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Resolution.DecideSpecialClosure(ctx, &helplinev1.DecideSpecialClosureRequest{Docket: d, Approve: false, Note: "do the work", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"note_by_officer", complaint.Note, lcHolder, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Resolution.AddNote(ctx, &helplinev1.AddNoteRequest{Docket: d, Note: "JE informed", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"note_by_supervisor", complaint.Note, lcSupervisor, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Resolution.AddNote(ctx, &helplinev1.AddNoteRequest{Docket: d, Note: "watch this one", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"follow_up", complaint.FollowUp, lcAgent, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Intake.AddFollowUp(ctx, &helplinev1.AddFollowUpRequest{Docket: d, Note: "citizen called again", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"follow_up_with_information", complaint.ProvideInformation, lcAgent, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Intake.AddFollowUp(ctx, &helplinev1.AddFollowUpRequest{Docket: d, Note: "near km stone 12", ProvidesInformation: true, ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
	{"assign", complaint.Assign, lcSupervisor, func(ctx context.Context, env *testenv.Env, d string, v int64) (*helplinev1.Complaint, error) {
		r, err := env.Routing.AssignComplaint(ctx, &helplinev1.AssignComplaintRequest{Docket: d, Note: "PWD's", ExpectedVersion: v})
		return r.GetComplaint(), err
	}},
}

func lcFind(name string) lcAction {
	for _, a := range lcActions {
		if a.name == name {
			return a
		}
	}
	panic("no action " + name)
}

// lcDo runs a named action as its user and fails the test on error.
func lcDo(t *testing.T, env *testenv.Env, name, d string) *helplinev1.Complaint {
	t.Helper()
	a := lcFind(name)
	c, err := a.call(env.As(a.user), env, d, 0)
	if err != nil {
		t.Fatalf("%s on %s as %s: %v", name, d, a.user, err)
	}
	return c
}

// lcBuild returns a potholes complaint in state, at PWD-SHIMLA-L1 whenever
// the state has a post. RPCs build every state they can reach; REGISTERED
// and REOPENED (reached only by routing and feedback) are set by SQL on a
// routed complaint, keeping its post.
func lcBuild(t *testing.T, env *testenv.Env, state helplinev1.ComplaintStatus) *helplinev1.Complaint {
	t.Helper()
	c := lcRouted(t, env)
	d := c.GetDocket()
	switch state {
	case lcAssigned:
	case lcRegistered:
		lcSQL(t, env, `UPDATE complaints SET status = 'REGISTERED' WHERE docket = $1`, d)
	case lcReopened:
		lcSQL(t, env, `UPDATE complaints SET status = 'REOPENED', reopen_count = 1 WHERE docket = $1`, d)
	case lcUnrouted:
		lcDo(t, env, "return", d)
	case lcInProgress:
		lcDo(t, env, "acknowledge", d)
	case lcOnHold:
		lcDo(t, env, "acknowledge", d)
		lcDo(t, env, "request_information", d)
	case lcResolved:
		lcDo(t, env, "acknowledge", d)
		lcDo(t, env, "resolve", d)
	case lcClosed:
		lcDo(t, env, "propose_special_closure", d)
		lcDo(t, env, "approve_special_closure", d)
	default:
		t.Fatalf("cannot build %s", state)
	}
	c = lcGet(t, env, d)
	if c.GetStatus() != state {
		t.Fatalf("built %s in %s, want %s", d, c.GetStatus(), state)
	}
	return c
}

// TestLifecycleActionsCoverTheTable keeps lcActions in step with
// complaint.Table: every action a person performs in this issue has an RPC
// here (feedback comes with the satisfaction issue; register, route,
// escalate and link are tested elsewhere or below).
func TestLifecycleActionsCoverTheTable(t *testing.T) {
	t.Parallel()
	elsewhere := map[complaint.Action]bool{
		complaint.Register: true, complaint.Route: true, complaint.RouteNone: true, complaint.Escalate: true, complaint.Link: true,
		complaint.FeedbackSatisfied: true, complaint.FeedbackNotSatisfied: true, complaint.FeedbackUnreachable: true, complaint.FeedbackExpire: true,
	}
	for action := range complaint.Table {
		if elsewhere[action] {
			continue
		}
		found := false
		for _, a := range lcActions {
			found = found || a.action == action
		}
		if !found {
			t.Errorf("lifecycle action %q has no RPC in lcActions", action)
		}
	}
}

// TestLifecycleWorkAndResolve walks one complaint ASSIGNED → IN_PROGRESS →
// ON_HOLD → (agent brings the information) IN_PROGRESS → ON_HOLD → (officer
// resumes) IN_PROGRESS → RESOLVED, and acknowledges a REOPENED complaint.
func TestLifecycleWorkAndResolve(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	officer, agent := env.As(lcHolder), env.As(lcAgent)

	c := lcRouted(t, env)
	d := c.GetDocket()
	// Registered Monday 2 Nov 10:00: 7 working days (Sunday 8 Nov is off) → Tuesday 10 Nov.
	lcAssignedTo(t, c, lcPostL1, lcHolder, lcPWD, lcPothole, 1, lcEndOfDay(time.November, 10))

	ack, err := env.Resolution.AcknowledgeComplaint(officer, &helplinev1.AcknowledgeComplaintRequest{Docket: d, Note: "JE will visit", ExpectedVersion: c.GetVersion()})
	next := lcTransition(t, env, c, ack.GetComplaint(), err, lcStep{complaint.Acknowledge, lcHolder, lcAssigned, lcInProgress})
	lcSameAssignment(t, c, next)
	if h := next.GetHistory()[len(next.GetHistory())-1]; h.GetNote() != "JE will visit" {
		t.Errorf("acknowledge note %q", h.GetNote())
	}
	c = next

	ri, err := env.Resolution.RequestInformation(officer, &helplinev1.RequestInformationRequest{Docket: d, Note: "Which kilometre stone?", ExpectedVersion: c.GetVersion()})
	next = lcTransition(t, env, c, ri.GetComplaint(), err, lcStep{complaint.RequestInformation, lcHolder, lcInProgress, lcOnHold})
	lcSameAssignment(t, c, next)
	if next.GetOverdue() {
		t.Errorf("a complaint on hold is overdue")
	}
	c = next

	fu, err := env.Intake.AddFollowUp(agent, &helplinev1.AddFollowUpRequest{Docket: d, Note: "near km stone 12", ProvidesInformation: true, ExpectedVersion: c.GetVersion()})
	next = lcTransition(t, env, c, fu.GetComplaint(), err, lcStep{complaint.ProvideInformation, lcAgent, lcOnHold, lcInProgress})
	if next.GetFollowUpCount() != c.GetFollowUpCount()+1 {
		t.Errorf("follow_up_count %d after the information came, want %d", next.GetFollowUpCount(), c.GetFollowUpCount()+1)
	}
	lcSameAssignment(t, c, next) // no time passed on hold: the deadline stays
	c = next

	ri, err = env.Resolution.RequestInformation(officer, &helplinev1.RequestInformationRequest{Docket: d, Note: "A photo, please", ExpectedVersion: c.GetVersion()})
	c = lcTransition(t, env, c, ri.GetComplaint(), err, lcStep{complaint.RequestInformation, lcHolder, lcInProgress, lcOnHold})

	rs, err := env.Resolution.ResumeComplaint(officer, &helplinev1.ResumeComplaintRequest{Docket: d, Note: "JE took one", ExpectedVersion: c.GetVersion()})
	next = lcTransition(t, env, c, rs.GetComplaint(), err, lcStep{complaint.Resume, lcHolder, lcOnHold, lcInProgress})
	lcSameAssignment(t, c, next)
	if next.GetFollowUpCount() != c.GetFollowUpCount() {
		t.Errorf("resume changed follow_up_count")
	}
	c = next

	const atr = "पैच वर्क पूरा: potholes filled with premix on 2 Nov."
	res, err := env.Resolution.ResolveComplaint(officer, &helplinev1.ResolveComplaintRequest{Docket: d, ActionTakenReport: atr, ExpectedVersion: c.GetVersion()})
	next = lcTransition(t, env, c, res.GetComplaint(), err, lcStep{complaint.Resolve, lcHolder, lcInProgress, lcResolved})
	lcSameAssignment(t, c, next)
	if res.GetComplaint().GetActionTakenReport() != atr || next.GetActionTakenReport() != atr {
		t.Errorf("action_taken_report: reply %q, stored %q; want %q", res.GetComplaint().GetActionTakenReport(), next.GetActionTakenReport(), atr)
	}
	if next.GetResolvedAt() == nil || !next.GetResolvedAt().AsTime().Equal(env.Clock.Now()) {
		t.Errorf("resolved_at %v, want the clock's %v", lcTime(next.GetResolvedAt()), env.Clock.Now())
	}
	if next.GetClosedAt() != nil || next.GetClosure() != helplinev1.Closure_CLOSURE_UNSPECIFIED {
		t.Errorf("a resolved complaint is closed: %v %v", next.GetClosedAt(), next.GetClosure())
	}
	if h := next.GetHistory()[len(next.GetHistory())-1]; !strings.Contains(h.GetNote(), atr) {
		t.Errorf("resolve history note %q does not carry the ATR", h.GetNote())
	}

	t.Run("acknowledge REOPENED", func(t *testing.T) {
		c := lcBuild(t, env, lcReopened)
		ack, err := env.Resolution.AcknowledgeComplaint(officer, &helplinev1.AcknowledgeComplaintRequest{Docket: c.GetDocket(), ExpectedVersion: c.GetVersion()})
		next := lcTransition(t, env, c, ack.GetComplaint(), err, lcStep{complaint.Acknowledge, lcHolder, lcReopened, lcInProgress})
		lcSameAssignment(t, c, next)
		if next.GetReopenCount() != 1 {
			t.Errorf("reopen_count %d, want 1", next.GetReopenCount())
		}
	})
}

// TestLifecycleReturnTransferAssign returns complaints to the unrouted
// queue, assigns unrouted ones, and transfers complaints to another
// category; assignments and transfers start a fresh L1 deadline counted
// from the fake clock's now.
func TestLifecycleReturnTransferAssign(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	officer, supervisor := env.As(lcHolder), env.As(lcSupervisor)

	// Build everything on Monday 2 Nov, then act on Tuesday 3 Nov 11:30 so
	// that a fresh deadline is visibly counted from then, not from registration.
	assigned := []*helplinev1.Complaint{lcBuild(t, env, lcAssigned), lcBuild(t, env, lcAssigned), lcBuild(t, env, lcAssigned)}
	inProgress := []*helplinev1.Complaint{lcBuild(t, env, lcInProgress), lcBuild(t, env, lcInProgress)}
	reopened := []*helplinev1.Complaint{lcBuild(t, env, lcReopened), lcBuild(t, env, lcReopened)}
	other := lcRegister(t, env, lcOther)
	if other.GetStatus() != lcUnrouted {
		t.Fatalf("%s with no routing rule is %s, want UNROUTED", lcOther, other.GetStatus())
	}
	lcUnassigned(t, other)
	env.Clock.Set(lcIST(2026, time.November, 3, 11, 30, 0))
	// Fresh deadlines from Tuesday 3 Nov: water L1 = 2 working days → Thursday 5 Nov;
	// potholes L1 = 7 working days (4,5,6,7, Sunday 8 off, 9,10,11) → Wednesday 11 Nov.
	waterDue, potholeDue := lcEndOfDay(time.November, 5), lcEndOfDay(time.November, 11)

	var returned []*helplinev1.Complaint
	for _, c := range []*helplinev1.Complaint{assigned[0], inProgress[0], reopened[0]} {
		t.Run("return from "+c.GetStatus().String(), func(t *testing.T) {
			r, err := env.Resolution.ReturnComplaint(officer, &helplinev1.ReturnComplaintRequest{Docket: c.GetDocket(), Reason: "a private road, not PWD's", ExpectedVersion: c.GetVersion()})
			next := lcTransition(t, env, c, r.GetComplaint(), err, lcStep{complaint.Return, lcHolder, c.GetStatus(), lcUnrouted})
			lcUnassigned(t, next)
			if next.GetCategoryCode() != lcPothole {
				t.Errorf("return changed the category to %q", next.GetCategoryCode())
			}
			if h := next.GetHistory()[len(next.GetHistory())-1]; !strings.Contains(h.GetNote(), "a private road") {
				t.Errorf("return history note %q does not carry the reason", h.GetNote())
			}
			// The officer's queue no longer has it, and they can no longer see it.
			q, err := env.Resolution.ListAssignedComplaints(officer, &helplinev1.ListAssignedComplaintsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range q.GetComplaints() {
				if x.GetDocket() == c.GetDocket() {
					t.Errorf("returned complaint still in %s's queue", lcHolder)
				}
			}
			if _, err := env.Intake.GetComplaint(officer, &helplinev1.GetComplaintRequest{Docket: c.GetDocket()}); status.Code(err) != codes.NotFound {
				t.Errorf("%s reads a returned complaint: %v, want NotFound", lcHolder, err)
			}
			returned = append(returned, next)
		})
	}

	t.Run("assign unrouted by supervisor", func(t *testing.T) {
		if len(returned) == 0 {
			t.Skip("no returned complaint")
		}
		c := returned[0]
		r, err := env.Routing.AssignComplaint(supervisor, &helplinev1.AssignComplaintRequest{Docket: c.GetDocket(), Note: "it is PWD's after all", ExpectedVersion: c.GetVersion()})
		next := lcTransition(t, env, c, r.GetComplaint(), err, lcStep{complaint.Assign, lcSupervisor, lcUnrouted, lcAssigned})
		lcAssignedTo(t, next, lcPostL1, lcHolder, lcPWD, lcPothole, 1, potholeDue)
	})

	t.Run("assign unrouted with a new category", func(t *testing.T) {
		c := lcGet(t, env, other.GetDocket())
		r, err := env.Routing.AssignComplaint(supervisor, &helplinev1.AssignComplaintRequest{Docket: c.GetDocket(), CategoryCode: lcWater, ExpectedVersion: c.GetVersion()})
		next := lcTransition(t, env, c, r.GetComplaint(), err, lcStep{complaint.Assign, lcSupervisor, lcUnrouted, lcAssigned})
		lcAssignedTo(t, next, lcJalPostL1, lcJalHolder, lcJalShakti, lcWater, 1, waterDue)
	})

	transfer := func(t *testing.T, c *helplinev1.Complaint, user string) *helplinev1.Complaint {
		t.Helper()
		r, err := env.Resolution.TransferComplaint(env.As(user), &helplinev1.TransferComplaintRequest{Docket: c.GetDocket(), CategoryCode: lcWater, Note: "a water main burst under the road", ExpectedVersion: c.GetVersion()})
		next := lcTransition(t, env, c, r.GetComplaint(), err, lcStep{complaint.Transfer, user, c.GetStatus(), lcAssigned})
		lcAssignedTo(t, next, lcJalPostL1, lcJalHolder, lcJalShakti, lcWater, 1, waterDue)
		if next.GetSpecialClosurePending() || next.GetSpecialClosure() != nil {
			t.Errorf("transfer kept a special closure proposal: %v", next.GetSpecialClosure())
		}
		return next
	}
	t.Run("transfer ASSIGNED by officer", func(t *testing.T) {
		next := transfer(t, assigned[1], lcHolder)
		// The new department's officer works it; the old one no longer sees it.
		if _, err := env.Intake.GetComplaint(officer, &helplinev1.GetComplaintRequest{Docket: next.GetDocket()}); status.Code(err) != codes.NotFound {
			t.Errorf("%s reads a complaint transferred to JAL_SHAKTI: %v, want NotFound", lcHolder, err)
		}
		ack, err := env.Resolution.AcknowledgeComplaint(env.As(lcJalHolder), &helplinev1.AcknowledgeComplaintRequest{Docket: next.GetDocket()})
		lcTransition(t, env, next, ack.GetComplaint(), err, lcStep{complaint.Acknowledge, lcJalHolder, lcAssigned, lcInProgress})
	})
	t.Run("transfer IN_PROGRESS by supervisor", func(t *testing.T) { transfer(t, inProgress[1], lcSupervisor) })
	t.Run("transfer REOPENED by officer", func(t *testing.T) { transfer(t, reopened[1], lcHolder) })
	t.Run("transfer with a pending proposal, from L2", func(t *testing.T) {
		// Put the complaint at L2 (as an escalation would) with a proposal pending.
		c := assigned[2]
		lcSQL(t, env, `UPDATE complaints SET post_id = (SELECT id FROM posts WHERE code = $2), level = 2 WHERE docket = $1`, c.GetDocket(), lcPostL2)
		c = lcGet(t, env, c.GetDocket())
		p, err := env.Resolution.ProposeSpecialClosure(env.As(lcHolderL2), &helplinev1.ProposeSpecialClosureRequest{Docket: c.GetDocket(),
			Reason: helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_NOT_A_GRIEVANCE, Note: "a suggestion"})
		c = lcTransition(t, env, c, p.GetComplaint(), err, lcStep{complaint.ProposeSpecial, lcHolderL2, lcAssigned, lcAssigned})
		next := transfer(t, c, lcHolderL2)
		if next.GetLevel() != 1 {
			t.Errorf("a transfer from L2 lands at L%d, want L1", next.GetLevel())
		}
	})
}

// TestLifecycleSpecialClosure proposes, rejects and approves special
// closures; the proposer never decides.
func TestLifecycleSpecialClosure(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	officer := env.As(lcHolder)
	propose := func(t *testing.T, c *helplinev1.Complaint, user string, reason helplinev1.SpecialClosureReason, dup string) *helplinev1.Complaint {
		t.Helper()
		r, err := env.Resolution.ProposeSpecialClosure(env.As(user), &helplinev1.ProposeSpecialClosureRequest{
			Docket: c.GetDocket(), Reason: reason, DuplicateOf: dup, Note: "see the file", ExpectedVersion: c.GetVersion()})
		next := lcTransition(t, env, c, r.GetComplaint(), err, lcStep{complaint.ProposeSpecial, user, c.GetStatus(), c.GetStatus()})
		lcSameAssignment(t, c, next)
		sc := next.GetSpecialClosure()
		if !next.GetSpecialClosurePending() || sc.GetProposedBy() != user || sc.GetNote() != "see the file" || sc.GetDuplicateOf() != dup || sc.GetReason() == "" {
			t.Errorf("after proposing: pending %v, proposal %v", next.GetSpecialClosurePending(), sc)
		}
		return next
	}
	decide := func(t *testing.T, c *helplinev1.Complaint, user string, approve bool) *helplinev1.Complaint {
		t.Helper()
		r, err := env.Resolution.DecideSpecialClosure(env.As(user), &helplinev1.DecideSpecialClosureRequest{Docket: c.GetDocket(), Approve: approve, ExpectedVersion: c.GetVersion()})
		action, to := complaint.RejectSpecial, c.GetStatus()
		if approve {
			action, to = complaint.ApproveSpecial, lcClosed
		}
		next := lcTransition(t, env, c, r.GetComplaint(), err, lcStep{action, user, c.GetStatus(), to})
		lcSameAssignment(t, c, next)
		if next.GetSpecialClosurePending() {
			t.Errorf("the proposal is still pending after the decision")
		}
		if approve {
			if next.GetClosure() != helplinev1.Closure_CLOSURE_SPECIAL || next.GetClosedAt() == nil || !next.GetClosedAt().AsTime().Equal(env.Clock.Now()) {
				t.Errorf("approved: closure %s closed_at %v; want SPECIAL at %v", next.GetClosure(), lcTime(next.GetClosedAt()), env.Clock.Now())
			}
		} else if next.GetSpecialClosure() != nil || next.GetClosure() != helplinev1.Closure_CLOSURE_UNSPECIFIED || next.GetClosedAt() != nil {
			t.Errorf("rejected: proposal %v closure %s closed_at %v", next.GetSpecialClosure(), next.GetClosure(), lcTime(next.GetClosedAt()))
		}
		return next
	}

	t.Run("the L1 proposer cannot decide; L3 rejects, supervisor approves", func(t *testing.T) {
		c := lcBuild(t, env, lcAssigned)
		c = propose(t, c, lcHolder, helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_POLICY_MATTER, "")
		for _, approve := range []bool{true, false} {
			snap := lcTake(t, env, c.GetDocket())
			_, err := env.Resolution.DecideSpecialClosure(officer, &helplinev1.DecideSpecialClosureRequest{Docket: c.GetDocket(), Approve: approve})
			lcRefused(t, env, snap, err, codes.PermissionDenied, "")
		}
		// Proposing again while one is pending is refused.
		snap := lcTake(t, env, c.GetDocket())
		_, err := env.Resolution.ProposeSpecialClosure(officer, &helplinev1.ProposeSpecialClosureRequest{Docket: c.GetDocket(),
			Reason: helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_SUB_JUDICE, Note: "also in court"})
		lcRefused(t, env, snap, err, codes.FailedPrecondition, "")

		c = decide(t, c, lcStateL3, false)
		// Deciding again, with nothing pending, is refused.
		for _, user := range []string{lcSupervisor, lcStateL3} {
			snap := lcTake(t, env, c.GetDocket())
			_, err := env.Resolution.DecideSpecialClosure(env.As(user), &helplinev1.DecideSpecialClosureRequest{Docket: c.GetDocket(), Approve: true})
			lcRefused(t, env, snap, err, codes.FailedPrecondition, "")
		}
		c = propose(t, c, lcHolder, helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_SUB_JUDICE, "")
		decide(t, c, lcSupervisor, true)
	})

	t.Run("IN_PROGRESS approved by L3", func(t *testing.T) {
		c := lcBuild(t, env, lcInProgress)
		c = propose(t, c, lcHolder, helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_NOT_A_GRIEVANCE, "")
		decide(t, c, lcStateL3, true)
	})

	t.Run("REOPENED rejected by supervisor", func(t *testing.T) {
		c := lcBuild(t, env, lcReopened)
		c = propose(t, c, lcHolder, helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_POLICY_MATTER, "")
		decide(t, c, lcSupervisor, false)
	})

	t.Run("DUPLICATE names an existing docket", func(t *testing.T) {
		orig := lcBuild(t, env, lcAssigned)
		c := lcBuild(t, env, lcAssigned)
		missing, err := docket.Format(2026, 9_999_999)
		if err != nil {
			t.Fatal(err)
		}
		// The docket of orig with a misheard (wrong) check digit.
		od := orig.GetDocket()
		misheard := od[:len(od)-1] + string(rune('0'+(od[len(od)-1]-'0'+1)%10))
		for _, dup := range []string{"", missing, c.GetDocket(), misheard, "not a docket"} {
			snap := lcTake(t, env, c.GetDocket())
			_, err := env.Resolution.ProposeSpecialClosure(officer, &helplinev1.ProposeSpecialClosureRequest{Docket: c.GetDocket(),
				Reason: helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_DUPLICATE, DuplicateOf: dup, Note: "same pothole"})
			lcRefused(t, env, snap, err, codes.InvalidArgument, "duplicate_of")
		}
		c = propose(t, c, lcHolder, helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_DUPLICATE, orig.GetDocket())
		decide(t, c, lcSupervisor, true)
	})

	t.Run("an L3 proposer cannot decide either", func(t *testing.T) {
		// Put the complaint at the state post (as escalation would) so that
		// pwd-state-l3 holds it and proposes; its own L3 rank does not let it decide.
		c := lcBuild(t, env, lcAssigned)
		lcSQL(t, env, `UPDATE complaints SET post_id = (SELECT id FROM posts WHERE code = $2), level = 3 WHERE docket = $1`, c.GetDocket(), lcPostL3)
		c = lcGet(t, env, c.GetDocket())
		c = propose(t, c, lcStateL3, helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_POLICY_MATTER, "")
		for _, user := range []string{lcStateL3, lcHolder} { // the proposer; an L1 officer of the department
			snap := lcTake(t, env, c.GetDocket())
			_, err := env.Resolution.DecideSpecialClosure(env.As(user), &helplinev1.DecideSpecialClosureRequest{Docket: c.GetDocket(), Approve: true})
			lcRefused(t, env, snap, err, codes.PermissionDenied, "")
		}
		decide(t, c, lcSupervisor, true)
	})
}

// TestLifecycleNotesFollowUpsAndLinks: notes by the post holder and the
// supervisor and follow-ups by an agent in every state but CLOSED keep the
// state; links show on both complaints.
func TestLifecycleNotesFollowUpsAndLinks(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	for _, state := range []helplinev1.ComplaintStatus{lcRegistered, lcUnrouted, lcAssigned, lcInProgress, lcOnHold, lcResolved, lcReopened} {
		t.Run(state.String(), func(t *testing.T) {
			c := lcBuild(t, env, state)
			users := []string{lcSupervisor}
			if state != lcUnrouted { // an unrouted complaint has no post holder
				users = append(users, lcHolder)
			}
			for _, user := range users {
				note := "note by " + user
				r, err := env.Resolution.AddNote(env.As(user), &helplinev1.AddNoteRequest{Docket: c.GetDocket(), Note: note, ExpectedVersion: c.GetVersion()})
				next := lcTransition(t, env, c, r.GetComplaint(), err, lcStep{complaint.Note, user, state, state})
				lcSameAssignment(t, c, next)
				if h := next.GetHistory()[len(next.GetHistory())-1]; h.GetNote() != note {
					t.Errorf("note history entry says %q, want %q", h.GetNote(), note)
				}
				c = next
			}
			for i := 0; i < 2; i++ {
				r, err := env.Intake.AddFollowUp(env.As(lcAgent), &helplinev1.AddFollowUpRequest{Docket: c.GetDocket(), Note: "called again", ExpectedVersion: c.GetVersion()})
				next := lcTransition(t, env, c, r.GetComplaint(), err, lcStep{complaint.FollowUp, lcAgent, state, state})
				lcSameAssignment(t, c, next)
				if next.GetFollowUpCount() != c.GetFollowUpCount()+1 {
					t.Errorf("follow_up_count %d, want %d", next.GetFollowUpCount(), c.GetFollowUpCount()+1)
				}
				c = next
			}
		})
	}

	t.Run("link", func(t *testing.T) {
		a, b := lcBuild(t, env, lcAssigned), lcBuild(t, env, lcInProgress)
		r, err := env.Resolution.LinkComplaints(env.As(lcHolder), &helplinev1.LinkComplaintsRequest{Docket: a.GetDocket(), LinkedDocket: b.GetDocket(), Note: "same stretch of road"})
		na := lcTransition(t, env, a, r.GetComplaint(), err, lcStep{complaint.Link, lcHolder, lcAssigned, lcAssigned})
		if got := na.GetLinkedDockets(); len(got) != 1 || got[0] != b.GetDocket() {
			t.Errorf("%s linked_dockets %v, want [%s]", a.GetDocket(), got, b.GetDocket())
		}
		// b gained its own entry in the same transaction.
		nb := lcTransition(t, env, b, lcGet(t, env, b.GetDocket()), nil, lcStep{complaint.Link, lcHolder, lcInProgress, lcInProgress})
		if got := nb.GetLinkedDockets(); len(got) != 1 || got[0] != a.GetDocket() {
			t.Errorf("%s linked_dockets %v, want [%s]", b.GetDocket(), got, a.GetDocket())
		}
		lcSameAssignment(t, a, na)
		lcSameAssignment(t, b, nb)
		for _, pair := range [][2]string{{a.GetDocket(), b.GetDocket()}, {b.GetDocket(), a.GetDocket()}} {
			sa, sb := lcTake(t, env, pair[0]), lcTake(t, env, pair[1])
			_, err := env.Resolution.LinkComplaints(env.As(lcHolder), &helplinev1.LinkComplaintsRequest{Docket: pair[0], LinkedDocket: pair[1]})
			lcRefused(t, env, sa, err, codes.FailedPrecondition, "")
			lcRefused(t, env, sb, err, codes.FailedPrecondition, "")
		}
	})
}

// TestLifecycleRefusesWhatTheTableDoesNotAllow builds a complaint in every
// state and calls every action whose row in complaint.Table does not list
// that state (or whose guard refuses it: deciding with nothing proposed),
// as a user allowed to act: FAILED_PRECONDITION and nothing changes.
func TestLifecycleRefusesWhatTheTableDoesNotAllow(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)

	type built struct {
		label string
		state complaint.Status
		c     *helplinev1.Complaint
		// held: the complaint has a post held by pwd-shimla-l1. An unrouted
		// complaint has none, so no officer can see it: NOT_FOUND.
		held bool
	}
	var builds []built
	for _, s := range complaint.AllStatuses {
		c := lcBuild(t, env, complaint.StatusProto(s))
		builds = append(builds, built{string(s), s, c, s != complaint.Unrouted})
	}
	// An UNROUTED complaint that kept its post (set by SQL) lets the post
	// holder's commands reach the lifecycle table itself.
	held := lcRouted(t, env)
	lcSQL(t, env, `UPDATE complaints SET status = 'UNROUTED' WHERE docket = $1`, held.GetDocket())
	builds = append(builds, built{"UNROUTED_with_post", complaint.Unrouted, lcGet(t, env, held.GetDocket()), true})

	tested := map[string]int{}
	for _, b := range builds {
		for _, a := range lcActions {
			rule := complaint.Table[a.action]
			// Every complaint here has no proposal pending.
			refused := !rule.Allows(b.state) || (rule.Guard != nil && rule.Guard(&complaint.Record{Status: b.state}) != "")
			want := codes.FailedPrecondition
			if !b.held && lcIsOfficer(a.user) {
				refused, want = true, codes.NotFound
			}
			if !refused {
				continue
			}
			tested[a.name]++
			t.Run(b.label+"/"+a.name, func(t *testing.T) {
				snap := lcTake(t, env, b.c.GetDocket())
				_, err := a.call(env.As(a.user), env, b.c.GetDocket(), 0)
				lcRefused(t, env, snap, err, want, "")
			})
		}
	}
	for _, a := range lcActions {
		if tested[a.name] == 0 {
			t.Errorf("action %s was never refused: the matrix is wrong", a.name)
		}
	}
	// Spot checks that the matrix follows DESIGN.md, not just itself.
	for _, x := range []struct {
		action complaint.Action
		state  complaint.Status
		allow  bool
	}{
		{complaint.Acknowledge, complaint.Assigned, true}, {complaint.Acknowledge, complaint.Reopened, true}, {complaint.Acknowledge, complaint.InProgress, false},
		{complaint.Resolve, complaint.InProgress, true}, {complaint.Resolve, complaint.OnHold, false}, {complaint.Resolve, complaint.Assigned, false},
		{complaint.Return, complaint.OnHold, false}, {complaint.Transfer, complaint.Resolved, false}, {complaint.Assign, complaint.Assigned, false},
		{complaint.FollowUp, complaint.Closed, false}, {complaint.Note, complaint.Closed, false}, {complaint.Note, complaint.Resolved, true},
		{complaint.ProvideInformation, complaint.InProgress, false}, {complaint.ProposeSpecial, complaint.OnHold, false},
	} {
		if complaint.Table[x.action].Allows(x.state) != x.allow {
			t.Errorf("complaint.Table: %s from %s allowed = %v, DESIGN.md says %v", x.action, x.state, !x.allow, x.allow)
		}
	}
}

// TestLifecycleStaleVersion: every command with a stale (or future)
// expected_version is refused and changes nothing; with the current one it
// goes through.
func TestLifecycleStaleVersion(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	from := map[string]helplinev1.ComplaintStatus{
		"acknowledge": lcAssigned, "request_information": lcInProgress, "resume": lcOnHold, "resolve": lcInProgress,
		"return": lcAssigned, "transfer_by_officer": lcInProgress, "transfer_by_supervisor": lcReopened,
		"propose_special_closure": lcAssigned, "approve_special_closure": lcAssigned, "reject_special_closure": lcInProgress,
		"note_by_officer": lcResolved, "note_by_supervisor": lcOnHold, "follow_up": lcInProgress,
		"follow_up_with_information": lcOnHold, "assign": lcUnrouted,
	}
	for _, a := range lcActions {
		t.Run(a.name, func(t *testing.T) {
			state, ok := from[a.name]
			if !ok {
				t.Fatalf("no state for %s", a.name)
			}
			c := lcBuild(t, env, state)
			if a.action == complaint.ApproveSpecial || a.action == complaint.RejectSpecial {
				lcDo(t, env, "propose_special_closure", c.GetDocket())
				c = lcGet(t, env, c.GetDocket())
			}
			ctx := env.As(a.user)
			for _, v := range []int64{c.GetVersion() - 1, c.GetVersion() + 1} {
				snap := lcTake(t, env, c.GetDocket())
				_, err := a.call(ctx, env, c.GetDocket(), v)
				lcRefused(t, env, snap, err, codes.FailedPrecondition, "")
			}
			rule := complaint.Table[a.action]
			r, err := a.call(ctx, env, c.GetDocket(), c.GetVersion())
			lcTransition(t, env, c, r, err, lcStep{a.action, a.user, state, complaint.StatusProto(rule.Next(complaint.StatusFromProto(state)))})
		})
	}

	// Commands on one complaint are serialized: of concurrent acknowledgements
	// one wins and the others find it IN_PROGRESS; of concurrent notes with the
	// same expected_version one wins and the others find the version stale.
	t.Run("concurrent commands", func(t *testing.T) {
		for _, name := range []string{"acknowledge", "note_by_officer"} {
			c := lcBuild(t, env, lcAssigned)
			a := lcFind(name)
			ctx := env.As(a.user)
			const n = 8
			errs := make(chan error, n)
			start := make(chan struct{})
			for i := 0; i < n; i++ {
				go func() {
					<-start
					_, err := a.call(ctx, env, c.GetDocket(), c.GetVersion())
					errs <- err
				}()
			}
			close(start)
			ok := 0
			for i := 0; i < n; i++ {
				err := <-errs
				switch status.Code(err) {
				case codes.OK:
					ok++
				case codes.FailedPrecondition:
				default:
					t.Errorf("concurrent %s: %v", name, err)
				}
			}
			after := lcGet(t, env, c.GetDocket())
			if ok != 1 || after.GetVersion() != c.GetVersion()+1 || len(after.GetHistory()) != len(c.GetHistory())+1 {
				t.Errorf("concurrent %s: %d succeeded, version %d→%d, history %d→%d; want exactly one",
					name, ok, c.GetVersion(), after.GetVersion(), len(c.GetHistory()), len(after.GetHistory()))
			}
		}
	})
}

// TestLifecycleOfficerScope: an officer of the department who does not hold
// the complaint's post gets PERMISSION_DENIED; an officer of another
// department or district gets NOT_FOUND; nothing changes either way.
func TestLifecycleOfficerScope(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	c := lcBuild(t, env, lcInProgress)
	other := lcBuild(t, env, lcAssigned)
	officerActions := []string{"acknowledge", "request_information", "resume", "resolve", "return", "transfer_by_officer", "propose_special_closure", "note_by_officer"}
	for _, user := range []string{lcStateL3, lcHolderL2} {
		for _, name := range officerActions {
			t.Run(user+"/"+name, func(t *testing.T) {
				snap := lcTake(t, env, c.GetDocket())
				_, err := lcFind(name).call(env.As(user), env, c.GetDocket(), 0)
				lcRefused(t, env, snap, err, codes.PermissionDenied, "")
			})
		}
	}
	t.Run(lcStateL3+"/acknowledge an L1 complaint", func(t *testing.T) {
		snap := lcTake(t, env, other.GetDocket())
		_, err := env.Resolution.AcknowledgeComplaint(env.As(lcStateL3), &helplinev1.AcknowledgeComplaintRequest{Docket: other.GetDocket()})
		lcRefused(t, env, snap, err, codes.PermissionDenied, "")
	})
	for _, user := range []string{"health-shimla-l1", "pwd-kangra-l1", "jal_shakti-state-l3"} {
		for _, name := range append(officerActions, "approve_special_closure", "reject_special_closure") {
			t.Run(user+"/"+name, func(t *testing.T) {
				snap := lcTake(t, env, c.GetDocket())
				_, err := lcFind(name).call(env.As(user), env, c.GetDocket(), 0)
				lcRefused(t, env, snap, err, codes.NotFound, "")
			})
		}
		t.Run(user+"/link", func(t *testing.T) {
			snap := lcTake(t, env, c.GetDocket())
			_, err := env.Resolution.LinkComplaints(env.As(user), &helplinev1.LinkComplaintsRequest{Docket: c.GetDocket(), LinkedDocket: other.GetDocket()})
			lcRefused(t, env, snap, err, codes.NotFound, "")
		})
	}
}

// TestLifecycleInputIsValidated: a refused input is INVALID_ARGUMENT naming
// the field, and nothing is stored.
func TestLifecycleInputIsValidated(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	c := lcBuild(t, env, lcInProgress)
	d := c.GetDocket()
	officer := env.As(lcHolder)
	long := strings.Repeat("ग", 4001)
	cases := []struct {
		name  string
		field string
		call  func() error
	}{
		{"resolve without an ATR", "action_taken_report", func() error {
			_, err := env.Resolution.ResolveComplaint(officer, &helplinev1.ResolveComplaintRequest{Docket: d})
			return err
		}},
		{"resolve with a blank ATR", "action_taken_report", func() error {
			_, err := env.Resolution.ResolveComplaint(officer, &helplinev1.ResolveComplaintRequest{Docket: d, ActionTakenReport: " \n\t "})
			return err
		}},
		{"resolve with an ATR over 4,000 characters", "action_taken_report", func() error {
			_, err := env.Resolution.ResolveComplaint(officer, &helplinev1.ResolveComplaintRequest{Docket: d, ActionTakenReport: long})
			return err
		}},
		{"resolve with a bidi override in the ATR", "action_taken_report", func() error {
			_, err := env.Resolution.ResolveComplaint(officer, &helplinev1.ResolveComplaintRequest{Docket: d, ActionTakenReport: "done \u202e enod"})
			return err
		}},
		{"return without a reason", "reason", func() error {
			_, err := env.Resolution.ReturnComplaint(officer, &helplinev1.ReturnComplaintRequest{Docket: d})
			return err
		}},
		{"transfer without a category", "category_code", func() error {
			_, err := env.Resolution.TransferComplaint(officer, &helplinev1.TransferComplaintRequest{Docket: d})
			return err
		}},
		{"transfer to an unknown category", "category_code", func() error {
			_, err := env.Resolution.TransferComplaint(officer, &helplinev1.TransferComplaintRequest{Docket: d, CategoryCode: "NO_SUCH_CATEGORY"})
			return err
		}},
		{"transfer to its own category", "category_code", func() error {
			_, err := env.Resolution.TransferComplaint(officer, &helplinev1.TransferComplaintRequest{Docket: d, CategoryCode: lcPothole})
			return err
		}},
		{"propose without a reason", "reason", func() error {
			_, err := env.Resolution.ProposeSpecialClosure(officer, &helplinev1.ProposeSpecialClosureRequest{Docket: d, Note: "n"})
			return err
		}},
		{"propose DUPLICATE without duplicate_of", "duplicate_of", func() error {
			_, err := env.Resolution.ProposeSpecialClosure(officer, &helplinev1.ProposeSpecialClosureRequest{Docket: d, Reason: helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_DUPLICATE, Note: "n"})
			return err
		}},
		{"propose without a note", "note", func() error {
			_, err := env.Resolution.ProposeSpecialClosure(officer, &helplinev1.ProposeSpecialClosureRequest{Docket: d, Reason: helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_POLICY_MATTER})
			return err
		}},
		{"request information without a note", "note", func() error {
			_, err := env.Resolution.RequestInformation(officer, &helplinev1.RequestInformationRequest{Docket: d})
			return err
		}},
		{"note without a note", "note", func() error {
			_, err := env.Resolution.AddNote(officer, &helplinev1.AddNoteRequest{Docket: d})
			return err
		}},
		{"negative expected_version", "expected_version", func() error {
			_, err := env.Resolution.AcknowledgeComplaint(officer, &helplinev1.AcknowledgeComplaintRequest{Docket: d, ExpectedVersion: -1})
			return err
		}},
		{"docket with a wrong check digit", "docket", func() error {
			bad := d[:len(d)-1] + string(rune('0'+(d[len(d)-1]-'0'+1)%10))
			_, err := env.Resolution.ResolveComplaint(officer, &helplinev1.ResolveComplaintRequest{Docket: bad, ActionTakenReport: "done"})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := lcTake(t, env, d)
			lcRefused(t, env, snap, tc.call(), codes.InvalidArgument, tc.field)
		})
	}
}

// TestLifecycleHoldPausesTheSLAClock: the days a complaint spends ON_HOLD do
// not count against its deadline; resuming moves the deadline later by the
// working days on hold (Sundays and listed holidays are not working days:
// in November 2026, Diwali falls on Sunday 8 Nov and Guru Nanak Jayanti on
// Tuesday 24 Nov).
func TestLifecycleHoldPausesTheSLAClock(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	officer, agent := env.As(lcHolder), env.As(lcAgent)
	// Three potholes complaints, all registered Monday 2 Nov 10:00 and due
	// at the end of Tuesday 10 Nov (7 working days: 3,4,5,6,7, Sun 8 off, 9,10).
	due := lcEndOfDay(time.November, 10)
	var cs []*helplinev1.Complaint
	for i := 0; i < 3; i++ {
		c := lcBuild(t, env, lcInProgress)
		if !c.GetSlaDueAt().AsTime().Equal(due) {
			t.Fatalf("%s due %v, want %v", c.GetDocket(), lcTime(c.GetSlaDueAt()), due)
		}
		cs = append(cs, c)
	}
	hold := func(c *helplinev1.Complaint) *helplinev1.Complaint {
		t.Helper()
		r, err := env.Resolution.RequestInformation(officer, &helplinev1.RequestInformationRequest{Docket: c.GetDocket(), Note: "site photo?"})
		next := lcTransition(t, env, c, r.GetComplaint(), err, lcStep{complaint.RequestInformation, lcHolder, lcInProgress, lcOnHold})
		lcSameAssignment(t, c, next) // the deadline stays while the clock is paused
		return next
	}
	wantDue := func(c *helplinev1.Complaint, want time.Time) {
		t.Helper()
		if c.GetSlaDueAt() == nil || !c.GetSlaDueAt().AsTime().Equal(want) {
			t.Errorf("%s due %v after resuming, want %v", c.GetDocket(), lcTime(c.GetSlaDueAt()), want.In(clock.IST))
		}
		h := c.GetHistory()[len(c.GetHistory())-1]
		if h.GetSlaDueAt() == nil || !h.GetSlaDueAt().AsTime().Equal(want) {
			t.Errorf("%s: history snapshot due %v, want %v", c.GetDocket(), lcTime(h.GetSlaDueAt()), want.In(clock.IST))
		}
	}

	// Monday 2 Nov 10:00: all three go on hold.
	a, b, long := hold(cs[0]), hold(cs[1]), hold(cs[2])

	// Thursday 5 Nov 10:00, three calendar days and three working days later
	// (Tue 3, Wed 4, Thu 5): the officer resumes a. Due Tue 10 Nov + 3 working
	// days = Fri 13 Nov (Wed 11, Thu 12, Fri 13).
	env.Clock.Set(lcIST(2026, time.November, 5, 10, 0, 0))
	r, err := env.Resolution.ResumeComplaint(officer, &helplinev1.ResumeComplaintRequest{Docket: a.GetDocket()})
	a = lcTransition(t, env, a, r.GetComplaint(), err, lcStep{complaint.Resume, lcHolder, lcOnHold, lcInProgress})
	wantDue(a, lcEndOfDay(time.November, 13))
	if before, after := due, a.GetSlaDueAt().AsTime(); after.Sub(before) != 3*24*time.Hour {
		t.Errorf("the deadline moved by %v, want 3 days (no Sunday or holiday in 11-13 Nov)", after.Sub(before))
	}

	// Wednesday 11 Nov 16:00: the agent brings b's information. On hold
	// Tue 3 .. Wed 11 = 8 working days (3,4,5,6,7, Sun 8 Diwali off, 9,10,11):
	// due Tue 10 Nov + 8 = Thu 19 Nov (11,12,13,14, Sun 15 off, 16,17,18,19).
	env.Clock.Set(lcIST(2026, time.November, 11, 16, 0, 0))
	f, err := env.Intake.AddFollowUp(agent, &helplinev1.AddFollowUpRequest{Docket: b.GetDocket(), Note: "photo sent on WhatsApp", ProvidesInformation: true})
	b = lcTransition(t, env, b, f.GetComplaint(), err, lcStep{complaint.ProvideInformation, lcAgent, lcOnHold, lcInProgress})
	wantDue(b, lcEndOfDay(time.November, 19))
	if b.GetFollowUpCount() != 1 {
		t.Errorf("follow_up_count %d, want 1", b.GetFollowUpCount())
	}

	// Wednesday 25 Nov 09:00: the officer resumes the third. On hold Tue 3 ..
	// Wed 25 Nov: 23 days less Sundays 8, 15, 22 and Guru Nanak Jayanti on
	// Tue 24 = 19 working days. Due Tue 10 Nov + 19 working days, skipping
	// Sundays 15, 22, 29 and Tue 24: 11,12,13,14,16,17,18,19,20,21,23,25,26,
	// 27,28,30 Nov, 1,2,3 Dec → Thursday 3 Dec.
	env.Clock.Set(lcIST(2026, time.November, 25, 9, 0, 0))
	r, err = env.Resolution.ResumeComplaint(officer, &helplinev1.ResumeComplaintRequest{Docket: long.GetDocket()})
	long = lcTransition(t, env, long, r.GetComplaint(), err, lcStep{complaint.Resume, lcHolder, lcOnHold, lcInProgress})
	wantDue(long, lcIST(2026, time.December, 3, 23, 59, 59))
	if long.GetOverdue() {
		t.Errorf("%s is overdue right after resuming", long.GetDocket())
	}
	// A resumed complaint that is not yet due is not escalated (the job runs every 50ms).
	time.Sleep(200 * time.Millisecond)
	if got := lcGet(t, env, long.GetDocket()); got.GetLevel() != 1 || got.GetVersion() != long.GetVersion() {
		t.Errorf("%s changed after resuming: level %d version %d", long.GetDocket(), got.GetLevel(), got.GetVersion())
	}
}
