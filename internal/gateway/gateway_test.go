package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/password"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// rest is a JSON client of one test server's HTTP address.
type rest struct {
	t    *testing.T
	base string
	// client is http.DefaultClient when nil.
	client *http.Client
}

func (r rest) do(method, path, token string, body any) (int, map[string]any) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.base+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
		r.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
	}
	return resp.StatusCode, out
}

func startREST(t *testing.T) (*testenv.Env, rest) {
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	return env, rest{t: t, base: "http://" + env.Server.HTTPAddr.String()}
}

func (r rest) login(user string) string {
	code, out := r.do("POST", "/v1/login", "", map[string]any{"username": user, "password": testenv.DemoPassword})
	if code != 200 {
		r.t.Fatalf("login %s: %d %v", user, code, out)
	}
	return out["token"].(string)
}

func count(t *testing.T, env *testenv.Env) int {
	var n int
	if err := env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM complaints`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRESTRegisterReadBackAndErrors(t *testing.T) {
	env, r := startREST(t)
	agent := r.login("agent1")
	reg := map[string]any{
		"idempotencyKey": "rest-1",
		"citizen":        map[string]any{"name": "राम सिंह", "phone": "98160 12345"},
		"location":       map[string]any{"districtCode": "SHIMLA", "blockCode": "THEOG"},
		"categoryCode":   "PWD_ROAD_POTHOLES",
		"description":    "ठियोग बाज़ार के पास सड़क पर गड्ढे",
		"channel":        "CHANNEL_WEB",
	}
	code, out := r.do("POST", "/v1/complaints", agent, reg)
	if code != 200 {
		t.Fatalf("register: %d %v", code, out)
	}
	docket := out["complaint"].(map[string]any)["docket"].(string)

	code, out = r.do("GET", "/v1/complaints/"+docket, agent, nil)
	if code != 200 {
		t.Fatalf("get: %d %v", code, out)
	}
	c := out["complaint"].(map[string]any)
	if c["description"] != reg["description"] || c["citizen"].(map[string]any)["phone"] != "+919816012345" {
		t.Fatalf("read back %v", c)
	}
	if h, _ := c["history"].([]any); len(h) == 0 {
		t.Fatalf("no history in %v", c)
	}

	// The same key and content is the same complaint.
	code, out = r.do("POST", "/v1/complaints", agent, reg)
	if code != 200 || out["replayed"] != true || out["complaint"].(map[string]any)["docket"] != docket {
		t.Fatalf("replay: %d %v", code, out)
	}

	before := count(t, env)
	bad := map[string]any{"idempotencyKey": "rest-2", "citizen": map[string]any{"name": "x"}}
	code, out = r.do("POST", "/v1/complaints", agent, bad)
	if code != 400 || !strings.Contains(out["message"].(string), "citizen.phone") {
		t.Fatalf("bad input: %d %v", code, out)
	}
	code, out = r.do("POST", "/v1/complaints", agent, map[string]any{"idempotencyKey": "rest-3", "bogus": 1})
	if code != 400 || !strings.Contains(out["message"].(string), "bogus") {
		t.Fatalf("unknown field: %d %v", code, out)
	}
	if count(t, env) != before {
		t.Fatal("a refused request stored a complaint")
	}

	if code, _ = r.do("GET", "/v1/complaints/"+docket, "", nil); code != 401 {
		t.Fatalf("no token: %d, want 401", code)
	}
	if code, _ = r.do("GET", "/v1/complaints/"+docket, r.login("health-kangra-l1"), nil); code != 404 {
		t.Fatalf("officer out of scope: %d, want 404", code)
	}
	if code, _ = r.do("GET", "/v1/stats/export?fromDate=2026-11-01&toDate=2026-11-30", agent, nil); code != 403 {
		t.Fatalf("agent export: %d, want 403", code)
	}
	// An officer's masked view through REST.
	testenv.Eventually(t, 10*time.Second, "routed", func() bool {
		_, out := r.do("GET", "/v1/complaints/"+docket, agent, nil)
		return out["complaint"].(map[string]any)["post"] == "PWD-SHIMLA-L1"
	})
	officer := r.login("pwd-shimla-l1")
	code, out = r.do("POST", "/v1/complaints/"+docket+"/acknowledge", officer, map[string]any{"note": "on it"})
	if code != 200 || out["complaint"].(map[string]any)["status"] != "COMPLAINT_STATUS_IN_PROGRESS" {
		t.Fatalf("acknowledge: %d %v", code, out)
	}
	if p := out["complaint"].(map[string]any)["citizen"].(map[string]any)["phone"]; p != "98xxxxx345" {
		t.Fatalf("officer sees phone %v", p)
	}
}

// TestOpenAPIDescribesEveryRPC: every RPC with an HTTP rule is in /openapi.json.
func TestOpenAPIDescribesEveryRPC(t *testing.T) {
	_, r := startREST(t)
	resp, err := http.Get(r.base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Swagger string                               `json:"swagger"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.Swagger != "2.0" {
		t.Fatalf("openapi.json: %v %q", err, doc.Swagger)
	}
	ops := map[string]bool{}
	for _, methods := range doc.Paths {
		for _, op := range methods {
			ops[op["operationId"].(string)] = true
		}
	}
	n := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("helpline.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				md := sd.Methods().Get(j)
				rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
				if rule == nil {
					t.Errorf("%s has no HTTP rule", md.FullName())
					continue
				}
				n++
				if id := string(sd.Name()) + "_" + string(md.Name()); !ops[id] {
					t.Errorf("%s is not in /openapi.json", id)
				}
			}
		}
		return true
	})
	if n < 45 {
		t.Fatalf("only %d RPCs found", n)
	}
}

// TestRESTForServicesOfAnotherProcess: a process running only identity
// serves REST for intake, run by another process, at its REST target.
func TestRESTForServicesOfAnotherProcess(t *testing.T) {
	env := testenv.StartServer(t)
	dir, err := os.MkdirTemp("", "helpline-rest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	front, err := server.Start(context.Background(), server.Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DatabaseURL: testenv.URL(t, env.Pool), DBMaxConns: 4,
		NATSURL: env.Server.NATSURL, NATSAuth: env.NATSAuth(), DataDir: dir, Services: []string{server.ServiceIdentity},
		Retention: time.Hour, Clock: env.Clock, Password: password.Cheap,
		RESTTargets: map[string]string{server.ServiceIntake: env.Server.GRPCAddr.String()},
	}, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		front.Shutdown(ctx)
	})
	r := rest{t: t, base: "http://" + front.HTTPAddr.String()}
	agent := r.login("agent1")
	code, out := r.do("POST", "/v1/complaints", agent, map[string]any{
		"idempotencyKey": "front-1", "citizen": map[string]any{"name": "Asha", "phone": "9816012345"},
		"location": map[string]any{"districtCode": "MANDI"}, "categoryCode": "PWD_ROAD_POTHOLES",
		"description": "pothole", "channel": "CHANNEL_WEB",
	})
	if code != 200 || out["complaint"].(map[string]any)["docket"] == "" {
		t.Fatalf("register through the front process: %d %v", code, out)
	}
	if code, _ := r.do("GET", "/v1/worklist", agent, nil); code != 404 {
		t.Fatalf("a service with no target: %d, want 404", code)
	}
}

// raw sends body as is and returns the status and the answer's message.
func (r rest) raw(method, path, token, body string) (int, string) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Message string }
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out.Message
}

func TestRESTRefusesMalformedParameters(t *testing.T) {
	t.Parallel()
	env, r := startREST(t)
	agent := r.login("agent1")
	before := count(t, env)
	cases := []struct {
		name, method, path, token, body, field string
	}{
		{"invalid UTF-8 in a query parameter", "GET", "/v1/complaints?text=ab%FF", agent, "", "text"},
		{"invalid UTF-8 in a query parameter, no token", "GET", "/v1/complaints?text=ab%FF", "", "", "text"},
		{"invalid UTF-8 in a path parameter", "GET", "/v1/complaints/%FF", agent, "", "docket"},
		{"invalid UTF-8 in a path parameter, no token", "GET", "/v1/complaints/%FF", "", "", "docket"},
		{"data after the JSON body", "POST", "/v1/complaints", agent,
			`{"idempotencyKey":"trail-1","citizen":{"name":"x","phone":"9816012345"},"location":{"districtCode":"SHIMLA"},"categoryCode":"PWD_ROAD_POTHOLES","description":"x","channel":"CHANNEL_PHONE"}garbage`, "body"},
		{"a second JSON value after the body", "POST", "/v1/complaints", agent,
			`{"idempotencyKey":"trail-2","citizen":{"name":"x","phone":"9816012345"},"location":{"districtCode":"SHIMLA"},"categoryCode":"PWD_ROAD_POTHOLES","description":"x","channel":"CHANNEL_PHONE"}{}`, "body"},
	}
	for _, tc := range cases {
		code, msg := r.raw(tc.method, tc.path, tc.token, tc.body)
		if code != 400 || !strings.Contains(msg, tc.field) {
			t.Errorf("%s: %d %q, want 400 naming %s", tc.name, code, msg, tc.field)
		}
	}
	if n := count(t, env); n != before {
		t.Fatalf("%d complaints registered by refused requests", n-before)
	}
	// Trailing white space is not data.
	if code, msg := r.raw("POST", "/v1/complaints", agent,
		`{"idempotencyKey":"trail-3","citizen":{"name":"x","phone":"9816012345"},"location":{"districtCode":"SHIMLA"},"categoryCode":"PWD_ROAD_POTHOLES","description":"x","channel":"CHANNEL_PHONE"}`+"\n"); code != 200 {
		t.Fatalf("body with a trailing newline: %d %s", code, msg)
	}
}
