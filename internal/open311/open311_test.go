package open311_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// The GeoReport v2 field lists (https://wiki.open311.org/GeoReport_v2).
var (
	serviceFields   = []string{"description", "group", "keywords", "metadata", "service_code", "service_name", "type"}
	attributeFields = []string{"code", "datatype", "datatype_description", "description", "order", "required", "values", "variable"}
	requestFields   = []string{"address", "address_id", "agency_responsible", "description", "expected_datetime", "lat", "long",
		"media_url", "requested_datetime", "service_code", "service_name", "service_notice", "service_request_id",
		"status", "status_notes", "updated_datetime", "zipcode"}
)

type client struct {
	t    *testing.T
	base string
	key  string
}

func (c client) call(method, path string, form url.Values) (int, string) {
	c.t.Helper()
	var body io.Reader
	u := c.base + path
	if method == "GET" {
		if form == nil {
			form = url.Values{}
		}
		form.Del("api_key")
		if c.key != "" {
			form.Set("api_key", c.key)
		}
		u += "?" + form.Encode()
	} else {
		form.Del("api_key")
		if c.key != "" {
			form.Set("api_key", c.key)
		}
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func keys(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	slices.Sort(k)
	return k
}

func list(t *testing.T, body string) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("not a JSON list: %s", body)
	}
	return out
}

// apiKey creates an agent user for a client application and issues its key
// (scope OPEN311, as the README has it).
func apiKey(t *testing.T, env *testenv.Env, user string) string {
	_, err := env.Identity.CreateUser(env.Admin, &helplinev1.CreateUserRequest{
		Username: user, DisplayName: "civic app " + user, Role: helplinev1.Role_ROLE_AGENT, Password: "a-long-password-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := env.Identity.IssueToken(env.Admin, &helplinev1.IssueTokenRequest{Username: user, Name: "open311", Scope: helplinev1.TokenScope_TOKEN_SCOPE_OPEN311})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetToken()
}

func TestOpen311(t *testing.T) {
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	base := "http://" + env.Server.HTTPAddr.String() + "/open311/v2"
	app := client{t, base, apiKey(t, env, "civicapp")}
	other := client{t, base, apiKey(t, env, "otherapp")}

	// The service list is public; the same with a key.
	anon := client{t, base, ""}
	if code, body := anon.call("GET", "/services/PWD_ROAD_POTHOLES.json", nil); code != 200 || !strings.Contains(body, "district_code") {
		t.Fatalf("a service definition without a key: %d %s", code, body)
	}
	if code, body := anon.call("GET", "/requests.json", nil); code != 403 {
		t.Fatalf("requests without a key: %d %s", code, body)
	}
	code, body := anon.call("GET", "/services.json", nil)
	if _, keyed := app.call("GET", "/services.json", nil); keyed != body {
		t.Fatal("the service list differs with a key")
	}
	services := list(t, body)
	if code != 200 || len(services) == 0 {
		t.Fatalf("services: %d %s", code, body)
	}
	var pothole map[string]any
	for _, s := range services {
		if !slices.Equal(keys(s), serviceFields) {
			t.Fatalf("service fields %v, want %v", keys(s), serviceFields)
		}
		if s["service_code"] == "PWD_ROAD_POTHOLES" {
			pothole = s
		}
	}
	if pothole == nil || pothole["group"] != "PWD" || pothole["metadata"] != true {
		t.Fatalf("pothole service: %v", pothole)
	}

	code, body = app.call("GET", "/services/PWD_ROAD_POTHOLES.json", nil)
	var def struct {
		Code       string           `json:"service_code"`
		Attributes []map[string]any `json:"attributes"`
	}
	if err := json.Unmarshal([]byte(body), &def); err != nil || code != 200 || def.Code != "PWD_ROAD_POTHOLES" {
		t.Fatalf("service definition: %d %s", code, body)
	}
	district := def.Attributes[0]
	if !slices.Equal(keys(district), attributeFields) || district["code"] != "district_code" || district["required"] != true ||
		!strings.Contains(body, `"key":"SHIMLA"`) {
		t.Fatalf("district attribute: %v", district)
	}
	if code, _ = app.call("GET", "/services/NO_SUCH.json", nil); code != 404 {
		t.Fatalf("unknown service: %d", code)
	}

	var before int
	countAll := func() int {
		var n int
		_ = env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM complaints`).Scan(&n)
		return n
	}
	before = countAll()
	form := url.Values{
		"service_code": {"PWD_ROAD_POTHOLES"}, "description": {"Deep potholes near Theog bazaar"},
		"first_name": {"Ram"}, "last_name": {"Singh"}, "phone": {"98160 12345"}, "email": {"ram@example.org"},
		"address_string": {"Theog bazaar"}, "attribute[block_code]": {"THEOG"},
	}
	code, body = app.call("POST", "/requests.json", form)
	if code != 400 || !strings.Contains(body, "attribute[district_code]") {
		t.Fatalf("no district: %d %s", code, body)
	}
	form.Set("attribute[district_code]", "SHIMLA")
	form.Set("phone", "12")
	if code, body = app.call("POST", "/requests.json", form); code != 400 || !strings.Contains(body, `"phone`) {
		t.Fatalf("bad phone: %d %s", code, body)
	}
	if code, body = (client{t, base, ""}).call("POST", "/requests.json", form); code != 403 {
		t.Fatalf("no api_key: %d %s", code, body)
	}
	if countAll() != before {
		t.Fatal("a refused request was stored")
	}
	form.Set("phone", "98160 12345")
	code, body = app.call("POST", "/requests.json", form)
	created := list(t, body)
	if code != 201 || len(created) != 1 {
		t.Fatalf("create: %d %s", code, body)
	}
	id := created[0]["service_request_id"].(string)
	// A retry with the same content files nothing new.
	code, body = app.call("POST", "/requests.json", form)
	if code != 200 || list(t, body)[0]["service_request_id"] != id || countAll() != before+1 {
		t.Fatalf("retry: %d %s (%d complaints)", code, body, countAll()-before)
	}

	testenv.Eventually(t, 10*time.Second, "routed", func() bool {
		_, body := app.call("GET", "/requests/"+id+".json", nil)
		return strings.Contains(body, "Assigned to")
	})
	code, body = app.call("GET", "/requests/"+id+".json", nil)
	got := list(t, body)
	if code != 200 || len(got) != 1 || !slices.Equal(keys(got[0]), requestFields) {
		t.Fatalf("get: %d %s", code, body)
	}
	sr := got[0]
	if sr["status"] != "open" || sr["service_code"] != "PWD_ROAD_POTHOLES" || sr["description"] != "Deep potholes near Theog bazaar" ||
		sr["agency_responsible"] == "" || sr["expected_datetime"] == "" {
		t.Fatalf("request: %v", sr)
	}
	for _, personal := range []string{"Ram", "Singh", "98160", "9816012345", "ram@example.org"} {
		if strings.Contains(body, personal) {
			t.Fatalf("personal data %q in %s", personal, body)
		}
	}
	// Another application sees the status, not the text.
	if _, body = other.call("GET", "/requests/"+id+".json", nil); strings.Contains(body, "Theog") || !strings.Contains(body, id) {
		t.Fatalf("other application: %s", body)
	}

	code, body = app.call("GET", "/requests.json", url.Values{"status": {"open"}})
	if code != 200 || len(list(t, body)) != 1 {
		t.Fatalf("open requests: %d %s", code, body)
	}
	if _, body = app.call("GET", "/requests.json", url.Values{"status": {"closed"}}); len(list(t, body)) != 0 {
		t.Fatalf("closed requests: %s", body)
	}
	if _, body = other.call("GET", "/requests.json", nil); len(list(t, body)) != 0 {
		t.Fatalf("another application's list: %s", body)
	}
	if code, body = app.call("GET", "/requests.json", url.Values{"start_date": {testenv.Start.AddDate(0, 0, -90).Format(time.DateOnly)}}); code != 200 {
		t.Fatalf("90 days: %d %s", code, body)
	}
	if code, body = app.call("GET", "/requests.json", url.Values{"start_date": {testenv.Start.AddDate(0, 0, -91).Format(time.DateOnly)}}); code != 400 {
		t.Fatalf("91 days: %d %s", code, body)
	}
	old := testenv.Start.AddDate(0, 0, -100).Format(time.RFC3339)
	if code, body = app.call("GET", "/requests.json", url.Values{"start_date": {old}}); code != 400 || !strings.Contains(body, "90 days") {
		t.Fatalf("over 90 days: %d %s", code, body)
	}
	if code, _ = app.call("GET", "/requests/26-0000000-0.json", nil); code != 404 {
		t.Fatalf("unknown id: %d", code)
	}
	if code, _ = app.call("GET", "/requests/"+id+".xml", nil); code != 404 {
		t.Fatalf("xml: %d", code)
	}
}

func TestOpen311RefusesMalformedParameters(t *testing.T) {
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	base := "http://" + env.Server.HTTPAddr.String() + "/open311/v2"
	key := apiKey(t, env, "civicapp")
	valid := "service_code=PWD_ROAD_POTHOLES&description=Potholes&first_name=Asha&phone=9816012345&attribute[district_code]=SHIMLA&api_key=" + key
	var before int
	_ = env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM complaints`).Scan(&before)
	cases := []struct{ name, method, path, body, param string }{
		{"duplicate service_code", "POST", "/requests.json", valid + "&service_code=HEALTH_X", "service_code"},
		{"duplicate api_key", "GET", "/requests.json?api_key=" + key + "&api_key=" + key, "", "api_key"},
		{"lat=NaN", "POST", "/requests.json", valid + "&lat=NaN&long=77.1", "lat"},
		{"lat not a number", "POST", "/requests.json", valid + "&lat=north&long=77.1", "lat"},
		{"lat out of range", "POST", "/requests.json", valid + "&lat=91&long=77.1", "lat"},
		{"long out of range", "POST", "/requests.json", valid + "&lat=31.1&long=-181", "long"},
		{"long infinite", "POST", "/requests.json", valid + "&lat=31.1&long=Inf", "long"},
		{"lat without long", "POST", "/requests.json", valid + "&lat=31.1", "long"},
		{"invalid UTF-8 in a form parameter", "POST", "/requests.json", valid + "&description=ab%FF", "description"},
		{"invalid UTF-8 in a query parameter", "GET", "/requests.json?api_key=" + key + "&status=ab%FF", "", "status"},
		{"invalid UTF-8 in a path parameter", "GET", "/requests/%FF.json?api_key=" + key, "", "id"},
		{"invalid UTF-8 in a service code", "GET", "/services/%FF.json", "", "code"},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), tc.param) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.name, resp.StatusCode, b, tc.param)
		}
	}
	var after int
	_ = env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM complaints`).Scan(&after)
	if after != before {
		t.Fatalf("%d complaints registered by refused requests", after-before)
	}
	// In range, the request goes through.
	req, _ := http.NewRequest("POST", base+"/requests.json", strings.NewReader(valid+"&lat=31.1&long=77.17"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("valid coordinates: %d %s", resp.StatusCode, b)
	}
}
