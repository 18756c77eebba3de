//go:build hostile

package hostile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/server"
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

// startHTTP starts a server with its HTTP edge (REST, Open311, console).
func startHTTP(t *testing.T) (*testenv.Env, string) {
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	return env, "http://" + env.Server.HTTPAddr.String()
}

// send sends body as is (with a bearer token when given) and returns the
// status and the answer's body.
func send(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" && method == "POST" && strings.Contains(url, "/open311/") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// TestInputRESTParameters: invalid UTF-8 in REST path and query
// parameters, with and without a token, and data after the JSON body.
func TestInputRESTParameters(t *testing.T) {
	env, base := startHTTP(t)
	token := login(t, env, "agent1")
	cases := []struct{ name, method, path, token, body, field string }{
		{"?text=ab%FF", "GET", "/v1/complaints?text=ab%FF", token, "", "text"},
		{"?text=ab%FF, no token", "GET", "/v1/complaints?text=ab%FF", "", "", "text"},
		{"/v1/complaints/%FF", "GET", "/v1/complaints/%FF", token, "", "docket"},
		{"/v1/complaints/%FF, no token", "GET", "/v1/complaints/%FF", "", "", "docket"},
		{"{valid JSON}garbage", "POST", "/v1/complaints", token, `{"idempotencyKey":"h-trail","citizen":{"name":"x","phone":"9816012345"},"location":{"districtCode":"SHIMLA"},"categoryCode":"PWD_ROAD_POTHOLES","description":"x","channel":"CHANNEL_PHONE"}garbage`, "body"},
	}
	var got []string
	for _, tc := range cases {
		code, body := send(t, tc.method, base+tc.path, tc.token, tc.body)
		got = append(got, fmt.Sprintf("%s: %d", tc.name, code))
		if code != 400 || !strings.Contains(body, tc.field) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.name, code, body, tc.field)
		}
	}
	record(t, "REST: invalid UTF-8 in path and query parameters; {valid JSON}garbage",
		"500 \"error while marshaling\"; trailing garbage accepted", strings.Join(got, "; ")+" (each naming the parameter)")
}

// login returns a token of the demo user username.
func login(t *testing.T, env *testenv.Env, username string) string {
	t.Helper()
	resp, err := env.Identity.Login(context.Background(), &helplinev1.LoginRequest{Username: username, Password: testenv.DemoPassword})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetToken()
}

// TestInputEmptyNote: an empty follow-up note and an empty officer's note
// are refused, naming note, and nothing is stored.
func TestInputEmptyNote(t *testing.T) {
	env := testenv.StartServer(t)
	resp, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: "empty-note",
		Citizen:        &helplinev1.Citizen{Name: "राम कुमार", Phone: "98160 55211", Language: "hi"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG"},
		CategoryCode:   "PWD_ROAD_POTHOLES",
		Description:    "सड़क पर गड्ढे",
		Channel:        helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatal(err)
	}
	d := resp.GetComplaint().GetDocket()
	_, fu := env.Intake.AddFollowUp(env.Agent, &helplinev1.AddFollowUpRequest{Docket: d, Note: "  "})
	_, note := env.Resolution.AddNote(env.As("supervisor"), &helplinev1.AddNoteRequest{Docket: d, Note: ""})
	record(t, "empty follow-up note (AddFollowUp) and empty note (AddNote)", "follow-up stored with an empty note",
		"AddFollowUp: "+refusal(fu)+"; AddNote: "+refusal(note))
	for name, e := range map[string]error{"AddFollowUp": fu, "AddNote": note} {
		if status.Code(e) != codes.InvalidArgument || !strings.Contains(status.Convert(e).Message(), "note") {
			t.Errorf("%s: %v, want InvalidArgument naming note", name, e)
		}
	}
	got, err := env.Intake.GetComplaint(env.Admin, &helplinev1.GetComplaintRequest{Docket: d})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetComplaint().GetFollowUpCount() != 0 {
		t.Errorf("follow-up count = %d after refusals", got.GetComplaint().GetFollowUpCount())
	}
}

// TestInputOpen311Parameters: duplicate parameters, lat=NaN, non-numeric
// or out-of-range coordinates and invalid UTF-8 in Open311 parameters.
func TestInputOpen311Parameters(t *testing.T) {
	env, base := startHTTP(t)
	base += "/open311/v2"
	key := login(t, env, "agent1")
	valid := "service_code=PWD_ROAD_POTHOLES&description=Potholes&first_name=Asha&phone=9816012345&attribute[district_code]=SHIMLA&api_key=" + key
	cases := []struct{ name, method, path, body, param string }{
		{"service_code twice", "POST", "/requests.json", valid + "&service_code=PWD_ROAD_POTHOLES", "service_code"},
		{"lat=NaN", "POST", "/requests.json", valid + "&lat=NaN&long=77.1", "lat"},
		{"lat=north", "POST", "/requests.json", valid + "&lat=north&long=77.1", "lat"},
		{"long=200", "POST", "/requests.json", valid + "&lat=31.1&long=200", "long"},
		{"status=ab%FF", "GET", "/requests.json?api_key=" + key + "&status=ab%FF", "", "status"},
		{"/requests/%FF.json", "GET", "/requests/%FF.json?api_key=" + key, "", "id"},
	}
	var got []string
	for _, tc := range cases {
		code, body := send(t, tc.method, base+tc.path, "", tc.body)
		got = append(got, fmt.Sprintf("%s: %d", tc.name, code))
		if code != 400 || !strings.Contains(body, tc.param) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.name, code, body, tc.param)
		}
	}
	record(t, "Open311: duplicate parameters, lat=NaN, bad coordinates, invalid UTF-8",
		"accepted silently; invalid UTF-8: 500 \"error while marshaling\"", strings.Join(got, "; ")+" (each naming the parameter)")
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestInputNoPhoneInLogs captures every log line (debug level up) of a
// server while a complaint is registered over gRPC and REST, refused once,
// and its notification sent, then looks for the citizen's phone number.
func TestInputNoPhoneInLogs(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := testenv.StartServerLogging(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" }, log)
	const phone = "9816055212"
	req := &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: "phone-in-logs",
		Citizen:        &helplinev1.Citizen{Name: "राम कुमार", Phone: "98160 55212", Language: "hi"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG"},
		CategoryCode:   "PWD_ROAD_POTHOLES",
		Description:    "सड़क पर गड्ढे",
		Channel:        helplinev1.Channel_CHANNEL_PHONE,
	}
	resp, err := env.Intake.RegisterComplaint(env.Agent, req)
	if err != nil {
		t.Fatal(err)
	}
	req.Location.DistrictCode = "NOWHERE"
	req.IdempotencyKey = "phone-in-logs-2"
	_, _ = env.Intake.RegisterComplaint(env.Agent, req)
	base := "http://" + env.Server.HTTPAddr.String()
	send(t, "POST", base+"/v1/complaints", login(t, env, "agent1"), `{"idempotencyKey":"phone-in-logs-3","citizen":{"name":"x","phone":"`+phone+`"},"location":{"districtCode":"SHIMLA"},"categoryCode":"PWD_ROAD_POTHOLES","description":"x","channel":"CHANNEL_PHONE"}`)
	send(t, "GET", base+"/v1/complaints?phone="+phone, login(t, env, "agent1"), "")
	testenv.Eventually(t, 10*time.Second, "the registration's notification sent", func() bool {
		var n int
		_ = env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM notifications n JOIN complaints c ON c.id = n.complaint_id
			WHERE c.docket = $1 AND n.status = 'SENT'`, resp.GetComplaint().GetDocket()).Scan(&n)
		return n > 0
	})
	out := logs.String()
	lines, leaks := strings.Count(out, "\n"), 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(strings.ReplaceAll(l, " ", ""), phone) {
			leaks++
			t.Errorf("log line with the full phone number: %s", l)
		}
	}
	if !strings.Contains(out, "98xxxxx212") {
		t.Errorf("no masked phone in the logs: did the notification's log line run?\n%s", out)
	}
	record(t, "full phone number in the server's log lines (registration, refusal, search, notification)",
		"the notifier's log line carried the full phone number",
		fmt.Sprintf("%d of %d log lines carry it; the notifier logs 98xxxxx212", leaks, lines))
}

// TestInputAPIAnswerHeaders: every API answer (REST, Open311, the
// console's API endpoints; answers and refusals) says no-store and nosniff.
func TestInputAPIAnswerHeaders(t *testing.T) {
	env, base := startHTTP(t)
	token := login(t, env, "agent1")
	paths := []struct{ path, token string }{
		{"/v1/complaints?phone=9816012345", token},
		{"/v1/complaints/%FF", token},
		{"/v1/complaints/26-0000001-8", ""},
		{"/v1/whoami", token},
		{"/open311/v2/services.json", ""},
		{"/open311/v2/requests.json?api_key=" + token, ""},
		{"/open311/v2/requests.json", ""},
		{"/console/status.json?docket=26-0000001-8", ""},
	}
	var missing []string
	for _, p := range paths {
		req, _ := http.NewRequest("GET", base+p.path, nil)
		if p.token != "" {
			req.Header.Set("Authorization", "Bearer "+p.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			missing = append(missing, fmt.Sprintf("%s (%d)", p.path, resp.StatusCode))
			t.Errorf("GET %s: %d, Cache-Control %q, X-Content-Type-Options %q", p.path, resp.StatusCode,
				resp.Header.Get("Cache-Control"), resp.Header.Get("X-Content-Type-Options"))
		}
	}
	record(t, "API answers with personal data: caching and sniffing headers",
		"no Cache-Control: no-store, no X-Content-Type-Options: nosniff",
		fmt.Sprintf("%d of %d REST, Open311 and console API answers lack them", len(missing), len(paths)))
}

// TestInputMetricsOnTheirOwnAddress: with -metrics-addr set, /metrics is
// served there and not on the (public) HTTP address.
func TestInputMetricsOnTheirOwnAddress(t *testing.T) {
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr, c.MetricsAddr = "127.0.0.1:0", "127.0.0.1:0" })
	public, _ := send(t, "GET", "http://"+env.Server.HTTPAddr.String()+"/metrics", "", "")
	own, body := send(t, "GET", "http://"+env.Server.MetricsAddr.String()+"/metrics", "", "")
	record(t, "GET /metrics without a login on the public HTTP address",
		"200: the metrics to anyone", fmt.Sprintf("with -metrics-addr: %d on the HTTP address, %d on its own address", public, own))
	if public != 404 || own != 200 || !strings.Contains(body, "# TYPE") {
		t.Fatalf("/metrics: %d on the HTTP address, %d on its own (%.80s), want 404 and 200", public, own, body)
	}
}
