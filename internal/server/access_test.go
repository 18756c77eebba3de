package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/auth"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clientaddr"
	"github.com/helpline/helpline/internal/docket"
	"github.com/helpline/helpline/internal/testenv"
)

// identities are the callers of the access matrix: nobody, each role, and
// officers inside and outside the test complaint's department and district.
var identities = []struct {
	user    string
	role    caller.Role
	inScope bool // for officers: sees a PWD complaint in Shimla
}{
	{"", "", false},
	{"agent1", caller.Agent, true},
	{"supervisor", caller.Supervisor, true},
	{"admin", caller.Admin, true},
	{"pwd-shimla-l1", caller.Officer, true},
	{"pwd-state-l3", caller.Officer, true},
	{"health-shimla-l1", caller.Officer, false},
	{"pwd-kangra-l1", caller.Officer, false},
}

// accessCase is a valid request to an RPC and the code a permitted caller
// in scope gets; scoped RPCs answer NOT_FOUND to officers out of scope.
type accessCase struct {
	roles  []caller.Role
	req    func(user string) proto.Message
	ok     codes.Code
	scoped bool
	// holder: an officer must hold the complaint's post (pwd-shimla-l1).
	holder bool
	// decider: an officer must hold a state post of the department (pwd-state-l3).
	decider bool
}

// Who may call what, written out here independently of auth.Policy.
var (
	everyone    = []caller.Role{caller.Agent, caller.Officer, caller.Supervisor, caller.Admin}
	admins      = []caller.Role{caller.Admin}
	agents      = []caller.Role{caller.Agent}
	officers    = []caller.Role{caller.Officer}
	registrars  = []caller.Role{caller.Agent, caller.Admin}
	supervisors = []caller.Role{caller.Supervisor, caller.Admin}
	noters      = []caller.Role{caller.Officer, caller.Supervisor}
	deciders    = []caller.Role{caller.Officer, caller.Supervisor, caller.Admin}
	// feedbackReaders see the feedback-call queue.
	feedbackReaders = []caller.Role{caller.Agent, caller.Supervisor, caller.Admin}
	statsReaders    = []caller.Role{caller.Officer, caller.Supervisor, caller.Admin}
)

// stale is an expected_version the complaint never has.
const stale = 999

// missingDocket is well formed but names no complaint.
var missingDocket = func() string { d, _ := docket.Format(2026, 9_999_999); return d }()

func registerRequest(key string) *helplinev1.RegisterComplaintRequest {
	return &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: key,
		Citizen:        &helplinev1.Citizen{Name: "Kamla Devi", Phone: "94180 55555", Language: "hi"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG"},
		CategoryCode:   "PWD_ROAD_POTHOLES",
		Description:    "सड़क टूटी है",
		Channel:        helplinev1.Channel_CHANNEL_PHONE,
	}
}

func fixed(m proto.Message) func(string) proto.Message {
	return func(string) proto.Message { return m }
}

func accessCases(docket string) map[string]accessCase {
	return map[string]accessCase{
		"/helpline.v1.IdentityService/WhoAmI":        {roles: everyone, req: fixed(&helplinev1.WhoAmIRequest{}), ok: codes.OK},
		"/helpline.v1.IdentityService/CreateUser":    {roles: admins, req: fixed(&helplinev1.CreateUserRequest{Username: "matrix-user", Role: helplinev1.Role_ROLE_AGENT, Password: "a-long-password"}), ok: codes.OK},
		"/helpline.v1.IdentityService/ListUsers":     {roles: admins, req: fixed(&helplinev1.ListUsersRequest{}), ok: codes.OK},
		"/helpline.v1.IdentityService/DisableUser":   {roles: admins, req: fixed(&helplinev1.DisableUserRequest{Username: "agent2"}), ok: codes.OK},
		"/helpline.v1.IdentityService/ResetPassword": {roles: admins, req: fixed(&helplinev1.ResetPasswordRequest{Username: "agent2", NewPassword: "another-long-password"}), ok: codes.OK},
		"/helpline.v1.IdentityService/IssueToken":    {roles: admins, req: fixed(&helplinev1.IssueTokenRequest{Username: "supervisor", Name: "matrix"}), ok: codes.OK},
		"/helpline.v1.IdentityService/RevokeToken":   {roles: everyone, req: fixed(&helplinev1.RevokeTokenRequest{Token: "hl_not-a-token"}), ok: codes.NotFound},
		// A new password that breaks the rules: refused after the access check, changing nothing.
		"/helpline.v1.IdentityService/ChangePassword": {roles: everyone, req: fixed(&helplinev1.ChangePasswordRequest{OldPassword: testenv.DemoPassword, NewPassword: "short"}), ok: codes.InvalidArgument},

		"/helpline.v1.IntakeService/RegisterComplaint": {roles: registrars, req: func(u string) proto.Message { return registerRequest("matrix-" + u) }, ok: codes.OK},
		"/helpline.v1.IntakeService/GetComplaint":      {roles: everyone, req: fixed(&helplinev1.GetComplaintRequest{Docket: docket}), ok: codes.OK, scoped: true},
		"/helpline.v1.IntakeService/SearchComplaints":  {roles: everyone, req: fixed(&helplinev1.SearchComplaintsRequest{Docket: docket}), ok: codes.OK},
		"/helpline.v1.IntakeService/AddFollowUp":       {roles: agents, req: fixed(&helplinev1.AddFollowUpRequest{Docket: docket, Note: "called again"}), ok: codes.OK, scoped: true},

		"/helpline.v1.RoutingService/UpsertDistrict":   {roles: admins, req: fixed(&helplinev1.UpsertDistrictRequest{District: &helplinev1.District{Code: "SHIMLA", Name: "Shimla", NameHi: "शिमला"}}), ok: codes.OK},
		"/helpline.v1.RoutingService/ListDistricts":    {roles: everyone, req: fixed(&helplinev1.ListDistrictsRequest{}), ok: codes.OK},
		"/helpline.v1.RoutingService/UpsertDepartment": {roles: admins, req: fixed(&helplinev1.UpsertDepartmentRequest{Department: &helplinev1.Department{Code: "MATRIX", Name: "Matrix"}}), ok: codes.OK},
		"/helpline.v1.RoutingService/ListDepartments":  {roles: everyone, req: fixed(&helplinev1.ListDepartmentsRequest{}), ok: codes.OK},
		"/helpline.v1.RoutingService/UpsertCategory":   {roles: admins, req: fixed(&helplinev1.UpsertCategoryRequest{Category: &helplinev1.Category{Code: "MATRIX_X", DepartmentCode: "PWD", Name: "x", SlaDays: []int32{1, 2, 3, 4}}}), ok: codes.OK},
		"/helpline.v1.RoutingService/ListCategories":   {roles: everyone, req: fixed(&helplinev1.ListCategoriesRequest{}), ok: codes.OK},
		"/helpline.v1.RoutingService/ImportMasterData": {roles: admins, ok: codes.OK, req: fixed(&helplinev1.ImportMasterDataRequest{
			Kind: helplinev1.MasterDataKind_MASTER_DATA_KIND_HOLIDAYS,
			Rows: []*helplinev1.MasterDataRow{{Row: &helplinev1.MasterDataRow_Holiday{Holiday: &helplinev1.Holiday{Date: "2026-08-15", Name: "Independence Day"}}}}})},
		"/helpline.v1.RoutingService/UpsertPost":        {roles: admins, req: fixed(&helplinev1.UpsertPostRequest{Post: &helplinev1.Post{DepartmentCode: "PWD", Level: 1, DistrictCode: "SHIMLA", HolderUsername: "pwd-shimla-l1"}}), ok: codes.OK},
		"/helpline.v1.RoutingService/ListPosts":         {roles: everyone, req: fixed(&helplinev1.ListPostsRequest{}), ok: codes.OK},
		"/helpline.v1.RoutingService/UpsertRoutingRule": {roles: admins, req: fixed(&helplinev1.UpsertRoutingRuleRequest{Rule: &helplinev1.RoutingRule{CategoryCode: "MATRIX_X", DepartmentCode: "PWD"}}), ok: codes.OK},
		"/helpline.v1.RoutingService/ListRoutingRules":  {roles: everyone, req: fixed(&helplinev1.ListRoutingRulesRequest{}), ok: codes.OK},
		"/helpline.v1.RoutingService/UpsertHoliday":     {roles: admins, req: fixed(&helplinev1.UpsertHolidayRequest{Holiday: &helplinev1.Holiday{Date: "2026-12-25", Name: "Christmas"}}), ok: codes.OK},
		"/helpline.v1.RoutingService/ListHolidays":      {roles: everyone, req: fixed(&helplinev1.ListHolidaysRequest{}), ok: codes.OK},
		"/helpline.v1.RoutingService/UpsertLine":        {roles: admins, req: fixed(&helplinev1.UpsertLineRequest{Line: &helplinev1.Line{Code: "1100", Name: "CM Sewa Sankalp"}}), ok: codes.OK},
		"/helpline.v1.RoutingService/ListLines":         {roles: everyone, req: fixed(&helplinev1.ListLinesRequest{}), ok: codes.OK},
		"/helpline.v1.RoutingService/ListUnrouted":      {roles: supervisors, req: fixed(&helplinev1.ListUnroutedRequest{}), ok: codes.OK},
		// The complaint is ASSIGNED already: assigning is not in the lifecycle.
		"/helpline.v1.RoutingService/AssignComplaint": {roles: supervisors, req: fixed(&helplinev1.AssignComplaintRequest{Docket: docket}), ok: codes.FailedPrecondition, scoped: true},

		"/helpline.v1.SatisfactionService/ListPendingFeedback": {roles: feedbackReaders, req: fixed(&helplinev1.ListPendingFeedbackRequest{}), ok: codes.OK},
		// The complaint is not RESOLVED: no feedback call can be recorded.
		"/helpline.v1.SatisfactionService/RecordFeedback": {roles: agents, scoped: true, ok: codes.FailedPrecondition,
			req: fixed(&helplinev1.RecordFeedbackRequest{Docket: docket, Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_NOT_REACHABLE})},

		"/helpline.v1.StatsService/GetResolutionStats": {roles: statsReaders, ok: codes.OK,
			req: fixed(&helplinev1.GetResolutionStatsRequest{GroupBy: helplinev1.StatsGrouping_STATS_GROUPING_DEPARTMENT})},
		"/helpline.v1.StatsService/GetPendencyAging": {roles: statsReaders, ok: codes.OK,
			req: fixed(&helplinev1.GetPendencyAgingRequest{GroupBy: helplinev1.StatsGrouping_STATS_GROUPING_DISTRICT})},
		"/helpline.v1.StatsService/GetDepartmentGrades": {roles: statsReaders, ok: codes.OK, req: fixed(&helplinev1.GetDepartmentGradesRequest{})},
		"/helpline.v1.StatsService/ExportComplaints":    {roles: statsReaders, ok: codes.OK, req: fixed(&helplinev1.ExportComplaintsRequest{})},

		"/helpline.v1.ResolutionService/ListAssignedComplaints": {roles: officers, req: fixed(&helplinev1.ListAssignedComplaintsRequest{}), ok: codes.OK},
		// The commands carry a stale expected_version: whoever gets past the
		// access checks is refused with FAILED_PRECONDITION and nothing changes.
		"/helpline.v1.ResolutionService/AcknowledgeComplaint": {roles: officers, scoped: true, holder: true, ok: codes.FailedPrecondition,
			req: fixed(&helplinev1.AcknowledgeComplaintRequest{Docket: docket, ExpectedVersion: stale})},
		"/helpline.v1.ResolutionService/AddNote": {roles: noters, scoped: true, holder: true, ok: codes.FailedPrecondition,
			req: fixed(&helplinev1.AddNoteRequest{Docket: docket, Note: "n", ExpectedVersion: stale})},
		"/helpline.v1.ResolutionService/RequestInformation": {roles: officers, scoped: true, holder: true, ok: codes.FailedPrecondition,
			req: fixed(&helplinev1.RequestInformationRequest{Docket: docket, Note: "n", ExpectedVersion: stale})},
		"/helpline.v1.ResolutionService/ResumeComplaint": {roles: officers, scoped: true, holder: true, ok: codes.FailedPrecondition,
			req: fixed(&helplinev1.ResumeComplaintRequest{Docket: docket, ExpectedVersion: stale})},
		"/helpline.v1.ResolutionService/ResolveComplaint": {roles: officers, scoped: true, holder: true, ok: codes.FailedPrecondition,
			req: fixed(&helplinev1.ResolveComplaintRequest{Docket: docket, ActionTakenReport: "done", ExpectedVersion: stale})},
		"/helpline.v1.ResolutionService/ReturnComplaint": {roles: officers, scoped: true, holder: true, ok: codes.FailedPrecondition,
			req: fixed(&helplinev1.ReturnComplaintRequest{Docket: docket, Reason: "r", ExpectedVersion: stale})},
		"/helpline.v1.ResolutionService/TransferComplaint": {roles: noters, scoped: true, holder: true, ok: codes.FailedPrecondition,
			req: fixed(&helplinev1.TransferComplaintRequest{Docket: docket, CategoryCode: "JAL_SHAKTI_NO_WATER_SUPPLY", ExpectedVersion: stale})},
		"/helpline.v1.ResolutionService/ProposeSpecialClosure": {roles: officers, scoped: true, holder: true, ok: codes.FailedPrecondition,
			req: fixed(&helplinev1.ProposeSpecialClosureRequest{Docket: docket, Reason: helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_POLICY_MATTER, Note: "n", ExpectedVersion: stale})},
		"/helpline.v1.ResolutionService/DecideSpecialClosure": {roles: deciders, scoped: true, decider: true, ok: codes.FailedPrecondition,
			req: fixed(&helplinev1.DecideSpecialClosureRequest{Docket: docket, ExpectedVersion: stale})},
		"/helpline.v1.ResolutionService/LinkComplaints": {roles: noters, scoped: true, ok: codes.NotFound,
			req: fixed(&helplinev1.LinkComplaintsRequest{Docket: docket, LinkedDocket: missingDocket})},
	}
}

// responseFor returns an empty response message for a method's request.
func responseFor(method string, req proto.Message) proto.Message {
	name := strings.TrimSuffix(string(req.ProtoReflect().Descriptor().FullName()), "Request") + "Response"
	mt, err := protoregistryFind(name)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", method, err))
	}
	return mt
}

func TestEveryRPCWithEveryRole(t *testing.T) {
	env := testenv.StartServer(t)
	c := registerAndRoute(t, env)
	cases := accessCases(c.GetDocket())

	methods := env.Server.Methods()
	for _, m := range methods {
		if auth.Public[m] {
			continue
		}
		if _, ok := auth.Policy[m]; !ok {
			t.Errorf("%s has no entry in the access policy", m)
		}
		if _, ok := cases[m]; !ok {
			t.Errorf("%s has no case in this test", m)
		}
	}
	ctxs := map[string]context.Context{"": context.Background()}
	for _, id := range identities[1:] {
		ctxs[id.user] = env.As(id.user)
	}
	for _, m := range methods {
		tc, ok := cases[m]
		if !ok {
			continue
		}
		for _, id := range identities {
			want := tc.ok
			switch {
			case id.user == "":
				want = codes.Unauthenticated
			case !slices.Contains(tc.roles, id.role):
				want = codes.PermissionDenied
			case tc.scoped && id.role == caller.Officer && !id.inScope:
				want = codes.NotFound
			case tc.holder && id.role == caller.Officer && id.user != "pwd-shimla-l1":
				want = codes.PermissionDenied
			case tc.decider && id.role == caller.Officer && id.user != "pwd-state-l3":
				want = codes.PermissionDenied
			}
			req := tc.req(id.user)
			err := call(ctxs[id.user], env.Conn, m, req)
			if got := status.Code(err); got != want {
				t.Errorf("%s as %q: %v, want %s", m[strings.LastIndex(m, "/")+1:], id.user, err, want)
			}
		}
	}
}

// TestOneTimePasswordTokenAllowsOnlyChangePassword walks every RPC with the
// token of an administrator's first login with a one-time password: every
// one but ChangePassword is PERMISSION_DENIED "password change required",
// whatever the role (admin) would allow.
func TestOneTimePasswordTokenAllowsOnlyChangePassword(t *testing.T) {
	env := testenv.StartServer(t)
	c := registerAndRoute(t, env)
	cases := accessCases(c.GetDocket())
	const oneTime = "one-time-for-the-matrix"
	if _, err := env.Identity.CreateUser(env.Admin, &helplinev1.CreateUserRequest{Username: "new-admin", Role: helplinev1.Role_ROLE_ADMIN, Password: oneTime}); err != nil {
		t.Fatal(err)
	}
	resp, err := env.Identity.Login(context.Background(), &helplinev1.LoginRequest{Username: "new-admin", Password: oneTime})
	if err != nil || !resp.GetPasswordChangeRequired() {
		t.Fatalf("first login: %v, change required %v", err, resp.GetPasswordChangeRequired())
	}
	ctx := testenv.WithToken(context.Background(), resp.GetToken())
	walked := 0
	for _, m := range env.Server.Methods() {
		tc, ok := cases[m]
		if !ok {
			continue
		}
		walked++
		err := call(ctx, env.Conn, m, tc.req("new-admin"))
		if strings.HasSuffix(m, "/ChangePassword") {
			if got := status.Code(err); got != codes.InvalidArgument {
				t.Errorf("ChangePassword with the restricted token: %v, want the new password's refusal", err)
			}
			continue
		}
		if st := status.Convert(err); st.Code() != codes.PermissionDenied || st.Message() != "password change required" {
			t.Errorf("%s with the restricted token: %v, want PERMISSION_DENIED \"password change required\"", m[strings.LastIndex(m, "/")+1:], err)
		}
	}
	if walked < len(auth.Policy) {
		t.Errorf("walked %d RPCs of the %d in the policy", walked, len(auth.Policy))
	}
}

// open311Methods are the RPCs the Open311 adapter makes with an
// application's key, written out here independently of auth.Scopes.
var open311Methods = []string{
	"/helpline.v1.IdentityService/WhoAmI",
	"/helpline.v1.IntakeService/RegisterComplaint",
	"/helpline.v1.IntakeService/GetComplaint",
	"/helpline.v1.IntakeService/SearchComplaints",
	"/helpline.v1.RoutingService/ListCategories",
	"/helpline.v1.RoutingService/ListDepartments",
	"/helpline.v1.RoutingService/ListDistricts",
}

// TestOpen311KeyOpensNothingOverGRPC walks every RPC over gRPC directly with
// an Open311 application's key (scope OPEN311, user of role agent), with and
// without a forged x-helpline-via: every one is PERMISSION_DENIED, even
// those the Open311 adapter itself makes with the key (which its own tests
// show working), and even those the agent role allows.
func TestOpen311KeyOpensNothingOverGRPC(t *testing.T) {
	env := testenv.StartServer(t)
	c := registerAndRoute(t, env)
	cases := accessCases(c.GetDocket())
	if _, err := env.Identity.CreateUser(env.Admin, &helplinev1.CreateUserRequest{Username: "civic-app", Role: helplinev1.Role_ROLE_AGENT, Password: "a-long-password-1"}); err != nil {
		t.Fatal(err)
	}
	tok, err := env.Identity.IssueToken(env.Admin, &helplinev1.IssueTokenRequest{Username: "civic-app", Name: "open311", Scope: helplinev1.TokenScope_TOKEN_SCOPE_OPEN311})
	if err != nil {
		t.Fatal(err)
	}
	if got := auth.Scopes[caller.Open311Scope].Methods; !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(open311Methods))) {
		t.Errorf("the OPEN311 scope allows %v, want %v", got, open311Methods)
	}
	plain := testenv.WithToken(context.Background(), tok.GetToken())
	forged := metadata.AppendToOutgoingContext(plain, clientaddr.ViaKey, clientaddr.ViaOpen311)
	walked := 0
	for _, m := range env.Server.Methods() {
		tc, ok := cases[m]
		if !ok {
			continue
		}
		walked++
		for name, ctx := range map[string]context.Context{"plain": plain, "forged via": forged} {
			err := call(ctx, env.Conn, m, tc.req("civic-app"))
			if st := status.Convert(err); st.Code() != codes.PermissionDenied || !strings.Contains(st.Message(), "Open311") {
				t.Errorf("%s with the Open311 key (%s): %v, want PERMISSION_DENIED naming Open311", m[strings.LastIndex(m, "/")+1:], name, err)
			}
		}
	}
	if walked < len(auth.Policy) {
		t.Errorf("walked %d RPCs of the %d in the policy", walked, len(auth.Policy))
	}
	_, err = env.Identity.IssueToken(env.Admin, &helplinev1.IssueTokenRequest{Username: "civic-app", Name: "x", Scope: helplinev1.TokenScope(99)})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("IssueToken with an unknown scope: %v, want INVALID_ARGUMENT", err)
	}
}

func registerAndRoute(t *testing.T, env *testenv.Env) *helplinev1.Complaint {
	t.Helper()
	resp, err := env.Intake.RegisterComplaint(env.Agent, registerRequest("scope-"+t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	var c *helplinev1.Complaint
	testenv.Eventually(t, 5*time.Second, "routing", func() bool {
		got, err := env.Intake.GetComplaint(env.Agent, &helplinev1.GetComplaintRequest{Docket: resp.GetComplaint().GetDocket()})
		if err != nil {
			t.Fatal(err)
		}
		c = got.GetComplaint()
		return c.GetStatus() == helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED
	})
	if c.GetPost() != "PWD-SHIMLA-L1" {
		t.Fatalf("routed to %s", c.GetPost())
	}
	return c
}

// TestOfficersSeeOnlyTheirDepartmentAndJurisdiction is the acceptance walk
// of the access issue: agent1 registers a public-works complaint in Shimla.
func TestOfficersSeeOnlyTheirDepartmentAndJurisdiction(t *testing.T) {
	env := testenv.StartServer(t)
	c := registerAndRoute(t, env)
	get := func(user string) (*helplinev1.Complaint, error) {
		r, err := env.Intake.GetComplaint(env.As(user), &helplinev1.GetComplaintRequest{Docket: c.GetDocket()})
		return r.GetComplaint(), err
	}
	queue := func(user string) []*helplinev1.Complaint {
		r, err := env.Resolution.ListAssignedComplaints(env.As(user), &helplinev1.ListAssignedComplaintsRequest{})
		if err != nil {
			t.Fatalf("queue of %s: %v", user, err)
		}
		return r.GetComplaints()
	}
	search := func(user string) int {
		r, err := env.Intake.SearchComplaints(env.As(user), &helplinev1.SearchComplaintsRequest{Text: "सड़क"})
		if err != nil {
			t.Fatalf("search as %s: %v", user, err)
		}
		return len(r.GetComplaints())
	}

	q := queue("pwd-shimla-l1")
	if len(q) != 1 || q[0].GetDocket() != c.GetDocket() || q[0].GetCitizen().GetPhone() != "94xxxxx555" {
		t.Fatalf("pwd-shimla-l1 queue = %v, want the complaint with the phone masked", q)
	}
	for user, want := range map[string]string{
		"pwd-shimla-l1": "94xxxxx555", "pwd-state-l3": "94xxxxx555", "supervisor": "94xxxxx555",
		"agent1": "+919418055555", "admin": "+919418055555",
	} {
		got, err := get(user)
		if err != nil || got.GetCitizen().GetPhone() != want {
			t.Errorf("%s reads phone %q (%v), want %q", user, got.GetCitizen().GetPhone(), err, want)
		}
	}
	for _, user := range []string{"health-shimla-l1", "pwd-kangra-l1", "pwd-mandi-l2", "health-state-l3"} {
		if _, err := get(user); status.Code(err) != codes.NotFound {
			t.Errorf("%s reading another department's or district's complaint: %v, want NotFound", user, err)
		}
		if n := search(user); n != 0 {
			t.Errorf("%s finds %d complaints by search, want 0", user, n)
		}
		if n := len(queue(user)); n != 0 {
			t.Errorf("%s has %d in their queue", user, n)
		}
	}
	for _, user := range []string{"pwd-shimla-l1", "pwd-state-l3", "agent1"} {
		if n := search(user); n != 1 {
			t.Errorf("%s finds %d complaints by search, want 1", user, n)
		}
	}
	if len(queue("pwd-state-l3")) != 0 {
		t.Error("the L3 post's queue holds an L1 complaint")
	}
	_, err := env.Routing.UpsertDepartment(env.Agent, &helplinev1.UpsertDepartmentRequest{Department: &helplinev1.Department{Code: "X", Name: "X"}})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("agent1 calling an admin RPC: %v, want PermissionDenied", err)
	}
	_, err = env.Intake.GetComplaint(context.Background(), &helplinev1.GetComplaintRequest{Docket: c.GetDocket()})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v, want Unauthenticated", err)
	}
}

// call invokes a unary or server-streaming method and returns its error (a
// client-streaming method takes one message the way a unary one does).
func call(ctx context.Context, conn *grpc.ClientConn, method string, req proto.Message) error {
	if !strings.HasSuffix(method, "/ExportComplaints") {
		return conn.Invoke(ctx, method, req, responseFor(method, req))
	}
	st, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, method)
	if err != nil {
		return err
	}
	if err := st.SendMsg(req); err != nil {
		return err
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	for {
		if err := st.RecvMsg(&helplinev1.ExportComplaintsResponse{}); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
