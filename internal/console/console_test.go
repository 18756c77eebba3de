package console_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	docketpkg "github.com/helpline/helpline/internal/docket"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestConsoleEndpoints: the files with their security headers, QR codes,
// the public status (nothing personal) and the change stream's login.
func TestConsoleEndpoints(t *testing.T) {
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	base := "http://" + env.Server.HTTPAddr.String()

	resp, body := get(t, base+"/console/")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `<script src="app.js">`) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("/console/: %d %v", resp.StatusCode, resp.Header)
	}
	for _, f := range []string{"app.js", "screens.js", "i18n.js", "charts.js", "app.css", "fonts/fonts.css", "fonts/noto-sans-devanagari-devanagari-400-normal.woff2"} {
		if resp, _ := get(t, base+"/console/"+f); resp.StatusCode != 200 {
			t.Errorf("%s: %d", f, resp.StatusCode)
		}
	}
	if resp, _ := get(t, base+"/"); resp.Request.URL.Path != "/console/" {
		t.Errorf("/ does not lead to the console: %s", resp.Request.URL)
	}

	reg, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: "console-1", Citizen: &helplinev1.Citizen{Name: "Asha Devi", Phone: "9816012345"},
		Location: &helplinev1.Location{DistrictCode: "KANGRA"}, CategoryCode: "PWD_ROAD_POTHOLES",
		Description: "pothole near the temple", Channel: helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatal(err)
	}
	docket := reg.GetComplaint().GetDocket()
	token := reg.GetComplaint().GetStatusToken()
	if len(token) != 32 {
		t.Fatalf("RegisterComplaint gave the agent the status token %q", token)
	}
	if got, err := env.Intake.GetComplaint(env.Agent, &helplinev1.GetComplaintRequest{Docket: docket}); err != nil || got.GetComplaint().GetStatusToken() != token {
		t.Fatalf("GetComplaint's status token: %v %q, want %q", err, got.GetComplaint().GetStatusToken(), token)
	}
	if resp, _ := get(t, base+"/console/qr.png?docket="+docket); resp.StatusCode != 400 {
		t.Fatalf("qr without the secret: %d", resp.StatusCode)
	}
	resp, body = get(t, base+"/console/qr.png?docket="+docket+"&token="+token)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(body, []byte("\x89PNG")) {
		t.Fatalf("qr: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := get(t, base+"/console/qr.png?docket=<script>"); resp.StatusCode != 400 {
		t.Fatalf("qr of junk: %d", resp.StatusCode)
	}

	// Without the secret, or with a wrong one, the answer is an unknown docket's.
	missing, _ := docketpkg.Format(2026, 9_999_999)
	_, unknown := get(t, base+"/console/status.json?docket="+missing+"&token="+token)
	for _, q := range []string{"", "&token=", "&token=" + strings.Repeat("0", 32), "&token=" + token[:31]} {
		resp, body := get(t, base+"/console/status.json?docket="+docket+q)
		if resp.StatusCode != 404 || string(body) != string(unknown) {
			t.Fatalf("status with token %q: %d %s, want as an unknown docket: 404 %s", q, resp.StatusCode, body, unknown)
		}
	}
	resp, body = get(t, base+"/console/status.json?docket="+url.QueryEscape(strings.ReplaceAll(docket, "-", " "))+"&token="+token)
	var st map[string]any
	if err := json.Unmarshal(body, &st); err != nil || resp.StatusCode != 200 || st["docket"] != docket || st["category"] != "Potholes on road" {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}
	for _, personal := range []string{"Asha", "9816012345", "98160", "temple"} {
		if strings.Contains(string(body), personal) {
			t.Fatalf("the public status shows %q: %s", personal, body)
		}
	}
	// Dates, never times.
	for _, k := range []string{"registeredAt", "updatedAt"} {
		if v, _ := st[k].(string); v != "2026-11-02" {
			t.Errorf("status %s = %v, want the date 2026-11-02 alone", k, st[k])
		}
	}
	if v, ok := st["slaDueAt"].(string); st["slaDueAt"] != nil && (!ok || len(v) != len("2026-11-02")) {
		t.Errorf("status slaDueAt = %v, want a date alone", st["slaDueAt"])
	}
	if resp, _ := get(t, base+"/console/status.json?docket=26-0000099-1"); resp.StatusCode != 404 && resp.StatusCode != 400 {
		t.Fatalf("unknown docket: %d", resp.StatusCode)
	}
	if resp, body := get(t, base+"/console/status.json?docket=26-0000001-0"); resp.StatusCode != 400 || !strings.Contains(string(body), "check digit") {
		t.Fatalf("misheard digit: %d %s", resp.StatusCode, body)
	}
	// Docket numbers are sequential: one address may look up only so many a minute.
	limited := false
	for i := 0; i < 40 && !limited; i++ {
		resp, _ := get(t, base+"/console/status.json?docket="+docket)
		limited = resp.StatusCode == 429
	}
	if !limited {
		t.Fatal("40 status lookups in a row were never limited")
	}
	if resp, _ := get(t, base+"/console/changes?token=nope"); resp.StatusCode != 401 {
		t.Fatalf("change stream without a valid token: %d", resp.StatusCode)
	}
}

// TestStatusOfASensitiveComplaintShowsOnlyTheDepartment: the status page of
// a complaint in a sensitive category (drug peddling) names its department
// but neither the category nor the district; an ordinary complaint's page,
// from the same district, still names both.
func TestStatusOfASensitiveComplaintShowsOnlyTheDepartment(t *testing.T) {
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	base := "http://" + env.Server.HTTPAddr.String()
	status := func(category string) (map[string]any, string) {
		t.Helper()
		reg, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
			IdempotencyKey: "sensitive-" + category, Citizen: &helplinev1.Citizen{Name: "Asha Devi", Phone: "9816012345"},
			Location: &helplinev1.Location{DistrictCode: "KANGRA"}, CategoryCode: category,
			Description: "near the bus stand", Channel: helplinev1.Channel_CHANNEL_PHONE,
		})
		if err != nil {
			t.Fatal(err)
		}
		docket, token := reg.GetComplaint().GetDocket(), reg.GetComplaint().GetStatusToken()
		// Wait for routing over gRPC: status lookups are rate-limited.
		testenv.Eventually(t, 5*time.Second, "routing of "+docket, func() bool {
			got, err := env.Intake.GetComplaint(env.Agent, &helplinev1.GetComplaintRequest{Docket: docket})
			if err != nil {
				t.Fatal(err)
			}
			return got.GetComplaint().GetDepartmentCode() != ""
		})
		resp, body := get(t, base+"/console/status.json?docket="+docket+"&token="+token)
		var st map[string]any
		if err := json.Unmarshal(body, &st); err != nil || resp.StatusCode != 200 {
			t.Fatalf("status of %s: %d %s", docket, resp.StatusCode, body)
		}
		return st, string(body)
	}

	st, body := status("POLICE_DRUG_PEDDLING")
	if st["departmentCode"] != "POLICE" || st["department"] == nil || st["department"] == "" {
		t.Fatalf("sensitive complaint's status lacks its department: %s", body)
	}
	for _, k := range []string{"categoryCode", "category", "categoryHi", "districtCode"} {
		if _, ok := st[k]; ok {
			t.Errorf("sensitive complaint's status shows %s: %s", k, body)
		}
	}
	for _, leak := range []string{"DRUG", "Drug", "chitta", "चिट्टा", "KANGRA", "Kangra"} {
		if strings.Contains(body, leak) {
			t.Errorf("sensitive complaint's status contains %q: %s", leak, body)
		}
	}

	st, body = status("POLICE_TRAFFIC_PARKING")
	if st["categoryCode"] != "POLICE_TRAFFIC_PARKING" || st["districtCode"] != "KANGRA" || st["departmentCode"] != "POLICE" {
		t.Fatalf("ordinary complaint's status: %s, want its category, district and department", body)
	}
}
