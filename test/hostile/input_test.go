//go:build hostile

package hostile

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/testenv"
)

// refusal describes a gRPC error as its code and message.
func refusal(err error) string {
	if err == nil {
		return "accepted"
	}
	s := status.Convert(err)
	return fmt.Sprintf("%s %q", s.Code(), s.Message())
}

// TestInputUnknownWardInARoutingRule: a routing rule naming a ward that
// does not exist (and no district or block) must be refused, naming the
// field, and the category's state-wide rule must stay.
func TestInputUnknownWardInARoutingRule(t *testing.T) {
	env := testenv.StartServer(t)
	const category = "JAL_SHAKTI_NO_WATER_SUPPLY"
	rule := &helplinev1.RoutingRule{CategoryCode: category, WardCode: "TYPO", DepartmentCode: "PWD"}
	_, err := env.Routing.UpsertRoutingRule(env.Admin, &helplinev1.UpsertRoutingRuleRequest{Rule: rule})
	stream, serr := env.Routing.ImportMasterData(env.Admin)
	if serr != nil {
		t.Fatal(serr)
	}
	if serr := stream.Send(&helplinev1.ImportMasterDataRequest{Kind: helplinev1.MasterDataKind_MASTER_DATA_KIND_ROUTING_RULES,
		Rows: []*helplinev1.MasterDataRow{{Row: &helplinev1.MasterDataRow_Rule{Rule: rule}}}}); serr != nil {
		t.Fatal(serr)
	}
	_, ierr := stream.CloseAndRecv()
	record(t, "routing rule with wardCode TYPO (upsert and master-data import)",
		"accepted; replaced the category's state-wide rule",
		"upsert: "+refusal(err)+"; import: "+refusal(ierr))
	for name, e := range map[string]error{"upsert": err, "import": ierr} {
		if status.Code(e) != codes.InvalidArgument || !strings.Contains(status.Convert(e).Message(), "ward_code") {
			t.Errorf("%s: %v, want InvalidArgument naming ward_code", name, e)
		}
	}
	rules, err := env.Routing.ListRoutingRules(env.Admin, &helplinev1.ListRoutingRulesRequest{CategoryCode: category})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.GetRules() {
		if r.GetDistrictCode() == "" && r.GetDepartmentCode() != "JAL_SHAKTI" {
			t.Errorf("state-wide rule is now %v", r)
		}
	}
}

// TestInputRegistrationRenamesAnotherCitizen: a second caller registering
// with a known phone must not change the name and language of that
// citizen's earlier complaints.
func TestInputRegistrationRenamesAnotherCitizen(t *testing.T) {
	env := testenv.StartServer(t)
	reg := func(key, name, lang string) string {
		resp, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
			IdempotencyKey: key,
			Citizen:        &helplinev1.Citizen{Name: name, Phone: "98160 55210", Language: lang},
			Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG"},
			CategoryCode:   "PWD_ROAD_POTHOLES",
			Description:    "सड़क पर गड्ढे",
			Channel:        helplinev1.Channel_CHANNEL_PHONE,
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetComplaint().GetDocket()
	}
	first := reg("rename-1", "राम कुमार", "hi")
	reg("rename-2", "Impostor", "en")
	got, err := env.Intake.GetComplaint(env.Admin, &helplinev1.GetComplaintRequest{Docket: first})
	if err != nil {
		t.Fatal(err)
	}
	c := got.GetComplaint().GetCitizen()
	record(t, "second registration with a known phone, another name and language",
		"overwrote the citizen's name and language on all their complaints",
		fmt.Sprintf("first complaint still %s, %s", c.GetName(), c.GetLanguage()))
	if c.GetName() != "राम कुमार" || c.GetLanguage() != "hi" {
		t.Errorf("first complaint's citizen = %v, want राम कुमार, hi", c)
	}
}
