package routing_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/testenv"
)

var keys atomic.Int64

// register files a complaint and waits until routing has handled it.
func register(t *testing.T, env *testenv.Env, category, district, block, ward string) *helplinev1.Complaint {
	t.Helper()
	ctx := env.Admin
	resp, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: fmt.Sprintf("%s-%d", t.Name(), keys.Add(1)),
		Citizen:        &helplinev1.Citizen{Name: "Sunita Devi", Phone: "94180 55555", Language: "hi"},
		Location:       &helplinev1.Location{DistrictCode: district, BlockCode: block, WardCode: ward},
		CategoryCode:   category,
		Description:    "शिकायत का विवरण",
		Channel:        helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	var c *helplinev1.Complaint
	testenv.Eventually(t, 5*time.Second, "routing of "+resp.GetComplaint().GetDocket(), func() bool {
		got, err := env.Intake.GetComplaint(ctx, &helplinev1.GetComplaintRequest{Docket: resp.GetComplaint().GetDocket()})
		if err != nil {
			t.Fatal(err)
		}
		c = got.GetComplaint()
		return c.GetStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_REGISTERED
	})
	return c
}

func TestRoutingTakesTheMostSpecificRule(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := env.Admin
	// Add a district-level rule between the seeded state-wide rule
	// (JAL_SHAKTI) and the block-level one for Shimla city (URBAN_DEVELOPMENT).
	if _, err := env.Routing.UpsertRoutingRule(ctx, &helplinev1.UpsertRoutingRuleRequest{Rule: &helplinev1.RoutingRule{
		CategoryCode: "JAL_SHAKTI_NO_WATER_SUPPLY", DistrictCode: "SHIMLA", DepartmentCode: "RURAL_DEVELOPMENT",
	}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, category, district, block, ward, department, post string
	}{
		{"state-wide rule", "JAL_SHAKTI_NO_WATER_SUPPLY", "KANGRA", "", "", "JAL_SHAKTI", "JAL_SHAKTI-KANGRA-L1"},
		{"district rule beats state-wide", "JAL_SHAKTI_NO_WATER_SUPPLY", "SHIMLA", "THEOG", "", "RURAL_DEVELOPMENT", "RURAL_DEVELOPMENT-SHIMLA-L1"},
		{"block rule beats district", "JAL_SHAKTI_NO_WATER_SUPPLY", "SHIMLA", "SHIMLA_MC", "SHIMLA_MC_W01", "URBAN_DEVELOPMENT", "URBAN_DEVELOPMENT-SHIMLA-L1"},
		{"ward rule beats the rest", "TOURISM_SPOT_CLEANLINESS", "KANGRA", "DHARAMSHALA_MC", "DHARAMSHALA_MC_W02", "URBAN_DEVELOPMENT", "URBAN_DEVELOPMENT-KANGRA-L1"},
		{"sibling ward keeps the state-wide rule", "TOURISM_SPOT_CLEANLINESS", "KANGRA", "DHARAMSHALA_MC", "DHARAMSHALA_MC_W01", "TOURISM", "TOURISM-KANGRA-L1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := register(t, env, tc.category, tc.district, tc.block, tc.ward)
			if c.GetStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED || c.GetDepartmentCode() != tc.department ||
				c.GetPost() != tc.post || c.GetLevel() != 1 || c.GetSlaDueAt() == nil {
				t.Fatalf("got %s %s %s L%d due %v; want ASSIGNED %s %s L1 with a deadline",
					c.GetStatus(), c.GetDepartmentCode(), c.GetPost(), c.GetLevel(), c.GetSlaDueAt(), tc.department, tc.post)
			}
			if c.GetAssignedOfficer() != toLower(tc.post) {
				t.Fatalf("officer = %q, want the post holder %q", c.GetAssignedOfficer(), toLower(tc.post))
			}
			h := c.GetHistory()
			if len(h) != 2 || h[1].GetAction() != "route" || h[1].GetActor() != "system" || h[1].GetPost() != tc.post {
				t.Fatalf("history = %v", h)
			}
		})
	}
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func TestSLADeadlineSkipsSundaysAndHolidays(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	// Monday 2 Nov 2026 10:00 IST; POWER_OUTAGE-like urgent categories have 2 working days.
	// Add a holiday on Wednesday 4 Nov: the 2 working days after Monday are Tue 3 and Thu 5.
	if _, err := env.Routing.UpsertHoliday(env.Admin, &helplinev1.UpsertHolidayRequest{Holiday: &helplinev1.Holiday{Date: "2026-11-04", Name: "Test holiday"}}); err != nil {
		t.Fatal(err)
	}
	c := register(t, env, "PWD_ROAD_POTHOLES", "MANDI", "", "") // 7 working days at L1
	// Tue 3, Thu 5, Fri 6, Sat 7, (Sun 8 off), Mon 9, Tue 10, Wed 11 → 7th is Wed 11 Nov.
	want := time.Date(2026, 11, 11, 23, 59, 59, 0, time.FixedZone("IST", 19800))
	if got := c.GetSlaDueAt().AsTime(); !got.Equal(want) {
		t.Fatalf("sla_due_at = %v, want %v", got.In(want.Location()), want)
	}
}

func TestNoRuleGoesToUnroutedAndASupervisorAssignsIt(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := env.Admin
	c := register(t, env, "GENERAL_OTHER", "SHIMLA", "THEOG", "")
	if c.GetStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNROUTED || c.GetPost() != "" {
		t.Fatalf("status = %s post %q, want UNROUTED with no post", c.GetStatus(), c.GetPost())
	}
	list, err := env.Routing.ListUnrouted(ctx, &helplinev1.ListUnroutedRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetComplaints()) != 1 || list.GetComplaints()[0].GetDocket() != c.GetDocket() {
		t.Fatalf("unrouted queue = %v", list.GetComplaints())
	}
	// A post of another district is refused, and nothing changes.
	_, err = env.Routing.AssignComplaint(ctx, &helplinev1.AssignComplaintRequest{Docket: c.GetDocket(), Post: "PWD-KANGRA-L1"})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("assign to another district's post: %v, want InvalidArgument", err)
	}
	// A stale version is refused.
	_, err = env.Routing.AssignComplaint(ctx, &helplinev1.AssignComplaintRequest{Docket: c.GetDocket(), CategoryCode: "PWD_ROAD_POTHOLES", ExpectedVersion: 1})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("assign with a stale version: %v, want FailedPrecondition", err)
	}
	env.Clock.Advance(24 * time.Hour)
	got, err := env.Routing.AssignComplaint(ctx, &helplinev1.AssignComplaintRequest{
		Docket: c.GetDocket(), CategoryCode: "PWD_ROAD_POTHOLES", Note: "road complaint", ExpectedVersion: c.GetVersion()})
	if err != nil {
		t.Fatal(err)
	}
	a := got.GetComplaint()
	if a.GetStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED || a.GetPost() != "PWD-SHIMLA-L1" ||
		a.GetCategoryCode() != "PWD_ROAD_POTHOLES" || a.GetDepartmentCode() != "PWD" {
		t.Fatalf("after assign: %s %s %s %s", a.GetStatus(), a.GetPost(), a.GetCategoryCode(), a.GetDepartmentCode())
	}
	// The deadline runs from the assignment (Tue 3 Nov), not the registration.
	want := time.Date(2026, 11, 11, 23, 59, 59, 0, time.FixedZone("IST", 19800))
	if !a.GetSlaDueAt().AsTime().Equal(want) {
		t.Fatalf("sla_due_at = %v, want %v", a.GetSlaDueAt().AsTime(), want)
	}
	// Assigning it again is not in the lifecycle table.
	_, err = env.Routing.AssignComplaint(ctx, &helplinev1.AssignComplaintRequest{Docket: c.GetDocket()})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("second assign: %v, want FailedPrecondition", err)
	}
	list, _ = env.Routing.ListUnrouted(ctx, &helplinev1.ListUnroutedRequest{})
	if len(list.GetComplaints()) != 0 {
		t.Fatalf("unrouted queue still holds %d", len(list.GetComplaints()))
	}
}

func TestDepartmentWithoutAPostInTheDistrictIsUnrouted(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := env.Admin
	if _, err := env.Routing.UpsertDepartment(ctx, &helplinev1.UpsertDepartmentRequest{Department: &helplinev1.Department{Code: "NEW_DEPT", Name: "New Department"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Routing.UpsertCategory(ctx, &helplinev1.UpsertCategoryRequest{Category: &helplinev1.Category{
		Code: "NEW_DEPT_THING", DepartmentCode: "NEW_DEPT", Name: "A thing", SlaDays: []int32{3, 3, 3, 3}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Routing.UpsertRoutingRule(ctx, &helplinev1.UpsertRoutingRuleRequest{Rule: &helplinev1.RoutingRule{
		CategoryCode: "NEW_DEPT_THING", DepartmentCode: "NEW_DEPT"}}); err != nil {
		t.Fatal(err)
	}
	c := register(t, env, "NEW_DEPT_THING", "UNA", "", "")
	if c.GetStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNROUTED {
		t.Fatalf("status = %s, want UNROUTED", c.GetStatus())
	}
	if _, err := env.Routing.UpsertPost(ctx, &helplinev1.UpsertPostRequest{Post: &helplinev1.Post{DepartmentCode: "NEW_DEPT", Level: 1, DistrictCode: "UNA"}}); err != nil {
		t.Fatal(err)
	}
	c = register(t, env, "NEW_DEPT_THING", "UNA", "", "")
	if c.GetStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED || c.GetPost() != "NEW_DEPT-UNA-L1" || c.GetAssignedOfficer() != "" {
		t.Fatalf("got %s %s officer %q, want ASSIGNED to the vacant post NEW_DEPT-UNA-L1", c.GetStatus(), c.GetPost(), c.GetAssignedOfficer())
	}
}

func TestMasterDataRefusals(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := env.Admin
	cases := []struct {
		name  string
		call  func() error
		field string
	}{
		{"category of unknown department", func() error {
			_, err := env.Routing.UpsertCategory(ctx, &helplinev1.UpsertCategoryRequest{Category: &helplinev1.Category{Code: "X", DepartmentCode: "NOPE", Name: "x", SlaDays: []int32{1, 1, 1, 1}}})
			return err
		}, "category.department_code"},
		{"three SLAs", func() error {
			_, err := env.Routing.UpsertCategory(ctx, &helplinev1.UpsertCategoryRequest{Category: &helplinev1.Category{Code: "X", DepartmentCode: "PWD", Name: "x", SlaDays: []int32{1, 1, 1}}})
			return err
		}, "category.sla_days"},
		{"state post with a district", func() error {
			_, err := env.Routing.UpsertPost(ctx, &helplinev1.UpsertPostRequest{Post: &helplinev1.Post{DepartmentCode: "PWD", Level: 3, DistrictCode: "SHIMLA"}})
			return err
		}, "post.district_code"},
		{"second L1 post for a district", func() error {
			_, err := env.Routing.UpsertPost(ctx, &helplinev1.UpsertPostRequest{Post: &helplinev1.Post{Code: "PWD-SHIMLA-L1-B", DepartmentCode: "PWD", Level: 1, DistrictCode: "SHIMLA"}})
			return err
		}, "post.code"},
		{"holder who is not an officer", func() error {
			_, err := env.Routing.UpsertPost(ctx, &helplinev1.UpsertPostRequest{Post: &helplinev1.Post{DepartmentCode: "PWD", Level: 1, DistrictCode: "SHIMLA", HolderUsername: "agent1"}})
			return err
		}, "post.holder_username"},
		{"rule ward outside its block", func() error {
			_, err := env.Routing.UpsertRoutingRule(ctx, &helplinev1.UpsertRoutingRuleRequest{Rule: &helplinev1.RoutingRule{CategoryCode: "PWD_ROAD_POTHOLES", DistrictCode: "SHIMLA", BlockCode: "THEOG", WardCode: "SHIMLA_MC_W01", DepartmentCode: "PWD"}})
			return err
		}, "rule.ward_code"},
		{"rule with an unknown ward and no district", func() error {
			_, err := env.Routing.UpsertRoutingRule(ctx, &helplinev1.UpsertRoutingRuleRequest{Rule: &helplinev1.RoutingRule{CategoryCode: "JAL_SHAKTI_NO_WATER_SUPPLY", WardCode: "TYPO", DepartmentCode: "PWD"}})
			return err
		}, "rule.ward_code"},
		{"rule with a ward and no block", func() error {
			_, err := env.Routing.UpsertRoutingRule(ctx, &helplinev1.UpsertRoutingRuleRequest{Rule: &helplinev1.RoutingRule{CategoryCode: "JAL_SHAKTI_NO_WATER_SUPPLY", DistrictCode: "SHIMLA", WardCode: "SHIMLA_MC_W01", DepartmentCode: "PWD"}})
			return err
		}, "rule.ward_code"},
		{"rule with an unknown ward", func() error {
			_, err := env.Routing.UpsertRoutingRule(ctx, &helplinev1.UpsertRoutingRuleRequest{Rule: &helplinev1.RoutingRule{CategoryCode: "JAL_SHAKTI_NO_WATER_SUPPLY", DistrictCode: "SHIMLA", BlockCode: "THEOG", WardCode: "TYPO", DepartmentCode: "PWD"}})
			return err
		}, "rule.ward_code"},
		{"rule with an unknown district", func() error {
			_, err := env.Routing.UpsertRoutingRule(ctx, &helplinev1.UpsertRoutingRuleRequest{Rule: &helplinev1.RoutingRule{CategoryCode: "JAL_SHAKTI_NO_WATER_SUPPLY", DistrictCode: "TYPO", DepartmentCode: "PWD"}})
			return err
		}, "rule.district_code"},
		{"rule of an unknown department", func() error {
			_, err := env.Routing.UpsertRoutingRule(ctx, &helplinev1.UpsertRoutingRuleRequest{Rule: &helplinev1.RoutingRule{CategoryCode: "JAL_SHAKTI_NO_WATER_SUPPLY", DepartmentCode: "TYPO"}})
			return err
		}, "rule.department_code"},
		{"post of an unknown district", func() error {
			_, err := env.Routing.UpsertPost(ctx, &helplinev1.UpsertPostRequest{Post: &helplinev1.Post{DepartmentCode: "PWD", Level: 1, DistrictCode: "TYPO"}})
			return err
		}, "post.district_code"},
		{"post of an unknown department", func() error {
			_, err := env.Routing.UpsertPost(ctx, &helplinev1.UpsertPostRequest{Post: &helplinev1.Post{DepartmentCode: "TYPO", Level: 3}})
			return err
		}, "post.department_code"},
		{"imported rule with an unknown ward", func() error {
			return importRows(ctx, env, helplinev1.MasterDataKind_MASTER_DATA_KIND_ROUTING_RULES, &helplinev1.MasterDataRow{
				Row: &helplinev1.MasterDataRow_Rule{Rule: &helplinev1.RoutingRule{CategoryCode: "JAL_SHAKTI_NO_WATER_SUPPLY", WardCode: "TYPO", DepartmentCode: "PWD"}}})
		}, "rows[0].ward_code"},
		{"imported post of an unknown district", func() error {
			return importRows(ctx, env, helplinev1.MasterDataKind_MASTER_DATA_KIND_POSTS, &helplinev1.MasterDataRow{
				Row: &helplinev1.MasterDataRow_Post{Post: &helplinev1.Post{DepartmentCode: "PWD", Level: 1, DistrictCode: "TYPO"}}})
		}, "rows[0].district_code"},
		{"imported category of an unknown department", func() error {
			return importRows(ctx, env, helplinev1.MasterDataKind_MASTER_DATA_KIND_CATEGORIES, &helplinev1.MasterDataRow{
				Row: &helplinev1.MasterDataRow_Category{Category: &helplinev1.Category{Code: "X", DepartmentCode: "TYPO", Name: "x", SlaDays: []int32{1, 1, 1, 1}}}})
		}, "rows[0].department_code"},
		{"block moved to another district", func() error {
			_, err := env.Routing.UpsertDistrict(ctx, &helplinev1.UpsertDistrictRequest{District: &helplinev1.District{Code: "KANGRA", Name: "Kangra", Blocks: []*helplinev1.Block{{Code: "THEOG", Name: "Theog"}}}})
			return err
		}, "district.blocks[0].code"},
		{"holiday date", func() error {
			_, err := env.Routing.UpsertHoliday(ctx, &helplinev1.UpsertHolidayRequest{Holiday: &helplinev1.Holiday{Date: "26/01/2026", Name: "x"}})
			return err
		}, "holiday.date"},
	}
	for _, tc := range cases {
		err := tc.call()
		if status.Code(err) != codes.InvalidArgument || !contains(status.Convert(err).Message(), tc.field) {
			t.Errorf("%s: %v, want InvalidArgument naming %s", tc.name, err, tc.field)
		}
	}
	var posts int
	_ = env.Pool.QueryRow(ctx, `SELECT count(*) FROM posts WHERE code LIKE 'PWD-SHIMLA%'`).Scan(&posts)
	if posts != 2 {
		t.Fatalf("PWD Shimla posts = %d after refusals, want the seeded 2", posts)
	}
	rules, err := env.Routing.ListRoutingRules(ctx, &helplinev1.ListRoutingRulesRequest{CategoryCode: "JAL_SHAKTI_NO_WATER_SUPPLY"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.GetRules() {
		if r.GetDepartmentCode() == "PWD" {
			t.Fatalf("a refused rule was stored: %v", r)
		}
	}
}

// importRows imports rows of one kind in one message and returns the
// answer's error.
func importRows(ctx context.Context, env *testenv.Env, kind helplinev1.MasterDataKind, rows ...*helplinev1.MasterDataRow) error {
	stream, err := env.Routing.ImportMasterData(ctx)
	if err != nil {
		return err
	}
	if err := stream.Send(&helplinev1.ImportMasterDataRequest{Kind: kind, Rows: rows}); err != nil {
		return err
	}
	_, err = stream.CloseAndRecv()
	return err
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestUpsertAndListMasterData(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := env.Admin
	d, err := env.Routing.UpsertDistrict(ctx, &helplinev1.UpsertDistrictRequest{District: &helplinev1.District{
		Code: "shimla", Name: "Shimla", NameHi: "शिमला",
		Blocks: []*helplinev1.Block{{Code: "NARKANDA", Name: "Narkanda", Wards: []*helplinev1.Ward{{Code: "NARKANDA_GP_1", Name: "GP Narkanda"}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if d.GetDistrict().GetCode() != "SHIMLA" || len(d.GetDistrict().GetBlocks()) < 2 {
		t.Fatalf("upserted district = %v: want SHIMLA with its seeded blocks and the new one", d.GetDistrict())
	}
	list, err := env.Routing.ListDistricts(ctx, &helplinev1.ListDistrictsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetDistricts()) != 12 {
		t.Fatalf("%d districts, want 12", len(list.GetDistricts()))
	}
	found := false
	for _, dd := range list.GetDistricts() {
		for _, b := range dd.GetBlocks() {
			if b.GetCode() == "NARKANDA" && dd.GetCode() == "SHIMLA" && len(b.GetWards()) == 1 {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("new block with its ward not listed under SHIMLA")
	}
	rules, err := env.Routing.ListRoutingRules(ctx, &helplinev1.ListRoutingRulesRequest{CategoryCode: "TOURISM_SPOT_CLEANLINESS"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.GetRules()) != 2 || rules.GetRules()[1].GetWardCode() != "DHARAMSHALA_MC_W02" || rules.GetRules()[1].GetBlockCode() != "DHARAMSHALA_MC" || rules.GetRules()[1].GetDistrictCode() != "KANGRA" {
		t.Fatalf("rules = %v", rules.GetRules())
	}
	posts, err := env.Routing.ListPosts(ctx, &helplinev1.ListPostsRequest{DepartmentCode: "HEALTH"})
	if err != nil {
		t.Fatal(err)
	}
	if len(posts.GetPosts()) != 12*2+2 {
		t.Fatalf("HEALTH has %d posts, want 26", len(posts.GetPosts()))
	}
	hol, err := env.Routing.ListHolidays(ctx, &helplinev1.ListHolidaysRequest{Year: 2026})
	if err != nil || len(hol.GetHolidays()) == 0 {
		t.Fatalf("holidays: %v %v", hol, err)
	}
}

// TestSensitiveCategoryRoundTrip: a category's sensitive mark is stored by
// UpsertCategory and by the master-data import, cleared by either, and
// listed by ListCategories; the demo seed marks drug peddling and an FIR not
// registered.
func TestSensitiveCategoryRoundTrip(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := env.Admin
	sensitive := func(code string) bool {
		t.Helper()
		list, err := env.Routing.ListCategories(ctx, &helplinev1.ListCategoriesRequest{DepartmentCode: "POLICE"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range list.GetCategories() {
			if c.GetCode() == code {
				return c.GetSensitive()
			}
		}
		t.Fatalf("category %s not listed", code)
		return false
	}
	if !sensitive("POLICE_DRUG_PEDDLING") || !sensitive("POLICE_FIR_NOT_REGISTERED") || sensitive("POLICE_TRAFFIC_PARKING") {
		t.Fatal("the seed's sensitive marks: want drug peddling and FIR not registered, not traffic")
	}

	cat := &helplinev1.Category{Code: "POLICE_STALKING", DepartmentCode: "POLICE", Name: "Stalking", SlaDays: []int32{2, 2, 3, 3}, Sensitive: true}
	resp, err := env.Routing.UpsertCategory(ctx, &helplinev1.UpsertCategoryRequest{Category: cat})
	if err != nil || !resp.GetCategory().GetSensitive() {
		t.Fatalf("upsert: %v %v", resp, err)
	}
	if !sensitive("POLICE_STALKING") {
		t.Fatal("upserted sensitive category listed as not sensitive")
	}
	cat.Sensitive = false
	if _, err := env.Routing.UpsertCategory(ctx, &helplinev1.UpsertCategoryRequest{Category: cat}); err != nil {
		t.Fatal(err)
	}
	if sensitive("POLICE_STALKING") {
		t.Fatal("an upsert without the mark left it sensitive")
	}

	row := func(code string, s bool) *helplinev1.MasterDataRow {
		return &helplinev1.MasterDataRow{Row: &helplinev1.MasterDataRow_Category{Category: &helplinev1.Category{
			Code: code, DepartmentCode: "POLICE", Name: code, SlaDays: []int32{2, 2, 3, 3}, Sensitive: s}}}
	}
	if err := importRows(ctx, env, helplinev1.MasterDataKind_MASTER_DATA_KIND_CATEGORIES,
		row("POLICE_STALKING", true), row("POLICE_NOISE", false)); err != nil {
		t.Fatal(err)
	}
	if !sensitive("POLICE_STALKING") || sensitive("POLICE_NOISE") {
		t.Fatal("imported marks not stored as given")
	}
}
