//go:build hostile

package hostile

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/docket"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// httpCall sends a request with an optional bearer token and form body, and
// returns the status and body.
func httpCall(t *testing.T, method, u, token string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOpen311KeyOnTheWholeAPI: an Open311 application's api_key used as a
// bearer token on /v1 and over gRPC, against a complaint an agent
// registered (name, phone, address, description): every read, search and
// follow-up is refused, while the same key still files and reads its own
// requests through Open311.
func TestOpen311KeyOnTheWholeAPI(t *testing.T) {
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	after := "not measured (the test stopped early)"
	defer func() {
		record(t, "Open311 api_key as a bearer token on /v1 and gRPC",
			"reads any complaint with name, full phone, address, description; searches by phone; adds follow-ups to others' complaints", after)
	}()
	base := "http://" + env.Server.HTTPAddr.String()
	if _, err := env.Identity.CreateUser(env.Admin, &helplinev1.CreateUserRequest{Username: "civicapp", Role: helplinev1.Role_ROLE_AGENT, Password: "a-long-password-1"}); err != nil {
		t.Fatal(err)
	}
	tok, err := env.Identity.IssueToken(env.Admin, &helplinev1.IssueTokenRequest{Username: "civicapp", Name: "open311", Scope: helplinev1.TokenScope_TOKEN_SCOPE_OPEN311})
	if err != nil {
		t.Fatal(err)
	}
	key := tok.GetToken()
	reg, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: "hostile-scope",
		Citizen:        &helplinev1.Citizen{Name: "Kamla Devi", Phone: "9418055555", Language: "hi"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG", Address: "Mall Road"},
		CategoryCode:   "PWD_ROAD_POTHOLES",
		Description:    "Deep potholes near the Ridge",
		Channel:        helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatal(err)
	}
	dkt := reg.GetComplaint().GetDocket()

	var got []string
	rest := []struct{ name, method, path string }{
		{"GET /v1/complaints/{docket}", "GET", "/v1/complaints/" + dkt},
		{"GET /v1/complaints?phone=", "GET", "/v1/complaints?phone=9418055555"},
		{"POST follow-up", "POST", "/v1/complaints/" + dkt + "/follow-ups"},
		{"GET /v1/whoami", "GET", "/v1/whoami"},
	}
	for _, c := range rest {
		var code int
		var body string
		if c.method == "POST" {
			req, _ := http.NewRequest("POST", base+c.path, strings.NewReader(`{"note":"again"}`))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code, body = resp.StatusCode, string(b)
		} else {
			code, body = httpCall(t, c.method, base+c.path, key, nil)
		}
		if code != http.StatusForbidden || strings.Contains(body, "Kamla") || strings.Contains(body, "9418055555") {
			t.Errorf("%s with the Open311 key: %d %s, want 403 without personal data", c.name, code, body)
		}
		got = append(got, fmt.Sprintf("%d", code))
	}
	ctx := testenv.WithToken(context.Background(), key)
	_, gerr := env.Intake.GetComplaint(ctx, &helplinev1.GetComplaintRequest{Docket: dkt})
	_, serr := env.Intake.SearchComplaints(ctx, &helplinev1.SearchComplaintsRequest{Phone: "9418055555"})
	_, ferr := env.Intake.AddFollowUp(ctx, &helplinev1.AddFollowUpRequest{Docket: dkt, Note: "again"})
	for name, err := range map[string]error{"GetComplaint": gerr, "SearchComplaints": serr, "AddFollowUp": ferr} {
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("gRPC %s with the Open311 key: %v, want PERMISSION_DENIED", name, err)
		}
	}

	// Open311 itself keeps working with the key: file a request, read it back.
	o := base + "/open311/v2"
	code, body := httpCall(t, "POST", o+"/requests.json", "", url.Values{
		"api_key": {key}, "service_code": {"PWD_ROAD_POTHOLES"}, "attribute[district_code]": {"SHIMLA"},
		"first_name": {"Asha"}, "phone": {"9876543210"}, "description": {"Streetlight out"},
	})
	var created []struct {
		ID string `json:"service_request_id"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil || code/100 != 2 || len(created) != 1 {
		t.Fatalf("Open311 POST requests.json with the key: %d %s", code, body)
	}
	code, body = httpCall(t, "GET", o+"/requests/"+created[0].ID+".json?api_key="+url.QueryEscape(key), "", nil)
	if code != http.StatusOK || !strings.Contains(body, "Streetlight out") {
		t.Errorf("Open311 GET of its own request: %d %s", code, body)
	}
	code2, body2 := httpCall(t, "GET", o+"/requests/"+dkt+".json?api_key="+url.QueryEscape(key), "", nil)
	if code2 != http.StatusOK || strings.Contains(body2, "Kamla") || strings.Contains(body2, "Mall Road") || strings.Contains(body2, "Ridge") {
		t.Errorf("Open311 GET of an agent's complaint: %d %s, want its status without personal data", code2, body2)
	}
	after = fmt.Sprintf("/v1 get, search by phone, follow-up, whoami: %s; gRPC: PERMISSION_DENIED; Open311 file+read own: %d", strings.Join(got, ","), code)
}

// TestStatusPageWalk: dockets are sequential with a computable check
// digit; a walker asks the public status page for every one of them. With
// the per-complaint secret, a docket alone (or with a wrong secret) answers
// exactly as an unknown docket; only the secret of the QR code's link opens
// its page.
func TestStatusPageWalk(t *testing.T) {
	env := testenv.StartServerWith(t, func(c *server.Config) {
		c.HTTPAddr = "127.0.0.1:0"
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} // a fresh address per walked docket
	})
	after := "not measured (the test stopped early)"
	defer func() {
		record(t, "walking the public status page by sequential dockets",
			"any docket shows category, department, district and exact times (446 lookups/s from 20 addresses)", after)
	}()
	base := "http://" + env.Server.HTTPAddr.String()
	var tokens, dockets []string
	for i := range 3 {
		reg, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
			IdempotencyKey: fmt.Sprintf("hostile-walk-%d", i),
			Citizen:        &helplinev1.Citizen{Name: "Kamla Devi", Phone: "9418055555"},
			Location:       &helplinev1.Location{DistrictCode: "SHIMLA"},
			CategoryCode:   "PWD_ROAD_POTHOLES", Description: "potholes", Channel: helplinev1.Channel_CHANNEL_PHONE,
		})
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, reg.GetComplaint().GetStatusToken())
		dockets = append(dockets, reg.GetComplaint().GetDocket())
	}
	seq := func(i int) string { d, _ := docket.Format(2026, int64(i)); return d }
	lookup := func(i int, d, q string) (int, string) {
		req, _ := http.NewRequest("GET", base+"/console/status.json?docket="+d+q, nil)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.%d.%d", i/250, i%250+1))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, unknown := lookup(0, seq(9_999_999), "")
	shown := 0
	for i := 1; i <= 50; i++ {
		for _, q := range []string{"", "&token=" + strings.Repeat("0", 32)} {
			code, body := lookup(i, seq(i), q)
			if code != http.StatusNotFound || body != unknown {
				shown++
				t.Errorf("docket %d without its secret (%q): %d %s, want as an unknown docket", i, q, code, body)
			}
		}
	}
	opened := 0
	for i, tok := range tokens {
		if code, body := lookup(100+i, dockets[i], "&token="+tok); code == http.StatusOK && strings.Contains(body, "PWD_ROAD_POTHOLES") {
			opened++
		}
	}
	if opened != len(tokens) {
		t.Errorf("only %d of %d pages opened with their own secret", opened, len(tokens))
	}
	after = fmt.Sprintf("100 walked lookups (50 dockets, no or wrong secret): %d shown, all others as an unknown docket; %d/%d opened with their own secret", shown, opened, len(tokens))
}

// TestQRCodeFlood: the QR endpoint drew a PNG for any number of requests.
func TestQRCodeFlood(t *testing.T) {
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	after := "not measured (the test stopped early)"
	defer func() {
		record(t, "QR code flood from one address", "no limit", after)
	}()
	u := "http://" + env.Server.HTTPAddr.String() + "/console/qr.png?docket=26-0000001-0&token=" + strings.Repeat("a", 32)
	limited := 0
	for range 200 {
		code, _ := httpCall(t, "GET", u, "", nil)
		if code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < 50 {
		t.Errorf("200 QR codes from one address: %d limited, want at least 50", limited)
	}
	after = fmt.Sprintf("200 QR codes from one address: %d answered 429", limited)
}
