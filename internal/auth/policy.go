package auth

import (
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clientaddr"
)

// Public methods need no token.
var Public = map[string]bool{
	"/helpline.v1.IdentityService/Login":                             true,
	"/grpc.health.v1.Health/Check":                                   true,
	"/grpc.health.v1.Health/Watch":                                   true,
	"/grpc.health.v1.Health/List":                                    true,
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      true,
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": true,
}

// ScopeRule is what a limited token scope allows.
type ScopeRule struct {
	// Methods are the only RPCs the scope allows (each still subject to Policy).
	Methods []string
	// Refusal is the PERMISSION_DENIED message for every other RPC.
	Refusal string
	// Via, when set, is the only adapter of this process (or of a trusted
	// Helpline process) the scope's tokens work through (clientaddr.Via):
	// a call made directly over gRPC or through /v1 is refused.
	Via string
}

// Scopes limits tokens of a scope to a few RPCs, whatever their user's role
// allows. A scope missing here (caller.FullScope) is limited by Policy alone.
var Scopes = map[caller.Scope]ScopeRule{
	caller.PasswordChangeScope: {
		Methods: []string{"/helpline.v1.IdentityService/ChangePassword"},
		Refusal: "password change required",
	},
	// An Open311 application's key opens the Open311 API only: the calls
	// its adapter makes, and only when the adapter makes them.
	caller.Open311Scope: {
		Methods: []string{
			"/helpline.v1.IdentityService/WhoAmI",
			"/helpline.v1.IntakeService/RegisterComplaint",
			"/helpline.v1.IntakeService/GetComplaint",
			"/helpline.v1.IntakeService/SearchComplaints",
			"/helpline.v1.RoutingService/ListCategories",
			"/helpline.v1.RoutingService/ListDepartments",
			"/helpline.v1.RoutingService/ListDistricts",
		},
		Refusal: "an Open311 application key opens only the Open311 API (/open311/v2)",
		Via:     clientaddr.ViaOpen311,
	},
}

var (
	agent      = caller.Agent
	officer    = caller.Officer
	supervisor = caller.Supervisor
	admin      = caller.Admin
	everyone   = []caller.Role{agent, officer, supervisor, admin}
	adminOnly  = []caller.Role{admin}
)

// Policy is who may call each RPC. An RPC missing here is refused to
// everyone, and a test fails: every RPC is born with a policy entry.
// Row-level scoping (an officer sees only their posts' department and
// jurisdiction) is applied by the services on top of this table.
var Policy = map[string][]caller.Role{
	"/helpline.v1.IdentityService/WhoAmI":         everyone,
	"/helpline.v1.IdentityService/ChangePassword": everyone,
	"/helpline.v1.IdentityService/CreateUser":     adminOnly,
	"/helpline.v1.IdentityService/ListUsers":      adminOnly,
	"/helpline.v1.IdentityService/DisableUser":    adminOnly,
	"/helpline.v1.IdentityService/ResetPassword":  adminOnly,
	"/helpline.v1.IdentityService/IssueToken":     adminOnly,
	"/helpline.v1.IdentityService/RevokeToken":    everyone,

	"/helpline.v1.IntakeService/RegisterComplaint": {agent, admin},
	"/helpline.v1.IntakeService/GetComplaint":      everyone,
	"/helpline.v1.IntakeService/SearchComplaints":  everyone,
	"/helpline.v1.IntakeService/AddFollowUp":       {agent},

	"/helpline.v1.RoutingService/UpsertDistrict":    adminOnly,
	"/helpline.v1.RoutingService/ListDistricts":     everyone,
	"/helpline.v1.RoutingService/UpsertDepartment":  adminOnly,
	"/helpline.v1.RoutingService/ListDepartments":   everyone,
	"/helpline.v1.RoutingService/UpsertCategory":    adminOnly,
	"/helpline.v1.RoutingService/ListCategories":    everyone,
	"/helpline.v1.RoutingService/UpsertPost":        adminOnly,
	"/helpline.v1.RoutingService/ImportMasterData":  adminOnly,
	"/helpline.v1.RoutingService/ListPosts":         everyone,
	"/helpline.v1.RoutingService/UpsertRoutingRule": adminOnly,
	"/helpline.v1.RoutingService/ListRoutingRules":  everyone,
	"/helpline.v1.RoutingService/UpsertHoliday":     adminOnly,
	"/helpline.v1.RoutingService/ListHolidays":      everyone,
	"/helpline.v1.RoutingService/UpsertLine":        adminOnly,
	"/helpline.v1.RoutingService/ListLines":         everyone,
	"/helpline.v1.RoutingService/ListUnrouted":      {supervisor, admin},
	"/helpline.v1.RoutingService/AssignComplaint":   {supervisor, admin},

	"/helpline.v1.ResolutionService/ListAssignedComplaints": {officer},
	"/helpline.v1.ResolutionService/AcknowledgeComplaint":   {officer},
	"/helpline.v1.ResolutionService/AddNote":                {officer, supervisor},
	"/helpline.v1.ResolutionService/RequestInformation":     {officer},
	"/helpline.v1.ResolutionService/ResumeComplaint":        {officer},
	"/helpline.v1.ResolutionService/ResolveComplaint":       {officer},
	"/helpline.v1.ResolutionService/ReturnComplaint":        {officer},
	"/helpline.v1.ResolutionService/TransferComplaint":      {officer, supervisor},
	"/helpline.v1.ResolutionService/ProposeSpecialClosure":  {officer},
	"/helpline.v1.ResolutionService/DecideSpecialClosure":   {officer, supervisor, admin},
	"/helpline.v1.ResolutionService/LinkComplaints":         {officer, supervisor},

	"/helpline.v1.SatisfactionService/ListPendingFeedback": {agent, supervisor, admin},
	"/helpline.v1.SatisfactionService/RecordFeedback":      {agent},

	"/helpline.v1.StatsService/GetResolutionStats":  {officer, supervisor, admin},
	"/helpline.v1.StatsService/GetPendencyAging":    {officer, supervisor, admin},
	"/helpline.v1.StatsService/GetDepartmentGrades": {officer, supervisor, admin},
	"/helpline.v1.StatsService/ExportComplaints":    {officer, supervisor, admin},
}
