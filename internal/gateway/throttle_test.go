package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/clientaddr"
	"github.com/helpline/helpline/internal/password"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// proxy is the reverse proxy of these tests: an HTTP client connecting
// from 127.0.0.2. The gateway's own gRPC connection comes from 127.0.0.1,
// which is not trusted, so the server believes the address it sends only
// by the process's secret.
var (
	proxy        = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
	proxyClient  = &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	loopbackPeer = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
)

// startBehindProxy starts a server whose REST gateway trusts the proxy.
func startBehindProxy(t *testing.T) (*testenv.Env, rest) {
	env := testenv.StartServerWith(t, func(c *server.Config) {
		c.HTTPAddr = "127.0.0.1:0"
		c.TrustedProxies = proxy
	})
	return env, rest{t: t, base: "http://" + env.Server.HTTPAddr.String(), client: proxyClient}
}

// loginAs posts a login with the given extra headers (X-Forwarded-For: the
// client as the proxy saw it) and returns the HTTP status and how long the
// answer took.
func (r rest) loginAs(headers map[string]string, username, pw string) (int, time.Duration) {
	r.t.Helper()
	b, _ := json.Marshal(map[string]string{"username": username, "password": pw})
	req, err := http.NewRequest("POST", r.base+"/v1/login", bytes.NewReader(b))
	if err != nil {
		r.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := r.client
	if client == nil {
		client = http.DefaultClient
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

func xff(addr string) map[string]string { return map[string]string{"X-Forwarded-For": addr} }

// wantStatus fails unless code is want.
func wantStatus(t *testing.T, what string, code, want int) {
	t.Helper()
	if code != want {
		t.Fatalf("%s: HTTP %d, want %d", what, code, want)
	}
}

// The day-one failure: wrong passwords from one client behind the
// proxy used to lock every REST login out. Now they refuse that client
// only, and fast.
func TestRESTWrongPasswordsFromOneClientDoNotStopAnother(t *testing.T) {
	t.Parallel()
	_, r := startBehindProxy(t)
	attacker, agent := xff("198.51.100.1"), xff("198.51.100.2")
	for i := 1; i <= 60; i++ {
		user := fmt.Sprintf("shift-user-%d", i%6) // 10 each: every pair reaches its limit
		code, _ := r.loginAs(attacker, user, "wrong-password")
		wantStatus(t, fmt.Sprintf("wrong password %d", i), code, http.StatusUnauthorized)
	}
	for i := 1; i <= 10; i++ {
		code, _ := r.loginAs(attacker, "agent1", "wrong-password")
		wantStatus(t, fmt.Sprintf("agent1 wrong password %d", i), code, http.StatusUnauthorized)
	}
	// The pair (attacker, agent1) is refused now, fast...
	// (That no hash is checked for a refusal is tested in services/identity;
	// its time is the deployment rehearsal's to measure, not a test's here.)
	code, _ := r.loginAs(attacker, "agent1", testenv.DemoPassword)
	wantStatus(t, "agent1's right password from the attacker's address", code, http.StatusTooManyRequests)
	// ...and agent1 from the agent's address logs in at once, as does agent2
	// from the attacker's (its address is not over its limit).
	code, _ = r.loginAs(agent, "agent1", testenv.DemoPassword)
	wantStatus(t, "agent1 from another client behind the proxy", code, http.StatusOK)
	code, _ = r.loginAs(attacker, "agent2", testenv.DemoPassword)
	wantStatus(t, "agent2 from the attacker's address", code, http.StatusOK)
}

// Through REST: the pair after 10 failures, the address after 300.
func TestRESTPairAndAddressLimits(t *testing.T) {
	t.Parallel()
	_, r := startBehindProxy(t)
	client := xff("203.0.113.5")
	for i := 1; i <= 10; i++ {
		code, _ := r.loginAs(client, "admin", "wrong-password")
		wantStatus(t, fmt.Sprintf("admin failure %d", i), code, http.StatusUnauthorized)
	}
	code, _ := r.loginAs(client, "admin", testenv.DemoPassword)
	wantStatus(t, "admin after 10 failures", code, http.StatusTooManyRequests)
	code, _ = r.loginAs(xff("203.0.113.6"), "admin", testenv.DemoPassword)
	wantStatus(t, "admin from another client", code, http.StatusOK)

	for i := 11; i <= 299; i++ {
		code, _ := r.loginAs(client, fmt.Sprintf("nobody-%d", i), "wrong-password")
		wantStatus(t, fmt.Sprintf("failure %d", i), code, http.StatusUnauthorized)
	}
	code, _ = r.loginAs(client, "agent1", testenv.DemoPassword)
	wantStatus(t, "agent1 after 299 failures from the address", code, http.StatusOK)
	code, _ = r.loginAs(client, "nobody-300", "wrong-password")
	wantStatus(t, "failure 300", code, http.StatusUnauthorized)
	code, _ = r.loginAs(client, "agent1", testenv.DemoPassword)
	wantStatus(t, "agent1 after 300 failures from the address", code, http.StatusTooManyRequests)
	code, _ = r.loginAs(xff("203.0.113.7"), "agent1", testenv.DemoPassword)
	wantStatus(t, "agent1 from another client", code, http.StatusOK)
}

// 100 failures for agent1 from 100 clients: agent1 from a clean client
// still logs in.
func TestRESTUsernameSlowingDoesNotRefuseACleanClient(t *testing.T) {
	t.Parallel()
	_, r := startBehindProxy(t)
	var wg sync.WaitGroup
	codes := make([]int, 100)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = r.loginAs(xff(fmt.Sprintf("10.20.0.%d", i+1)), "agent1", "wrong-password")
		}()
	}
	wg.Wait()
	for i, c := range codes {
		wantStatus(t, fmt.Sprintf("failure from client %d", i+1), c, http.StatusUnauthorized)
	}
	code, _ := r.loginAs(xff("10.20.0.1"), "agent1", testenv.DemoPassword)
	wantStatus(t, "a client that failed agent1, after 100 failures", code, http.StatusTooManyRequests)
	code, _ = r.loginAs(xff("10.20.1.1"), "agent1", testenv.DemoPassword)
	wantStatus(t, "a clean client", code, http.StatusOK) // never slowed: services/identity tests that
}

// From a client that is not a trusted proxy, X-Forwarded-For, Forwarded
// and a client's own Grpc-Metadata-X-Helpline-Client-Address name no one:
// every attempt is the one address the server sees.
func TestRESTForgedClientAddressIsIgnored(t *testing.T) {
	t.Parallel()
	_, r := startBehindProxy(t)
	r.client = http.DefaultClient // from 127.0.0.1, not the proxy
	for i := 1; i <= 10; i++ {
		forged := map[string]string{
			"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i),
			"Forwarded":       fmt.Sprintf("for=198.51.100.%d", i),
			"Grpc-Metadata-X-Helpline-Client-Address": fmt.Sprintf("198.51.100.%d", i),
			"Grpc-Metadata-X-Helpline-Gateway-Secret": "guess",
		}
		code, _ := r.loginAs(forged, "agent2", "wrong-password")
		wantStatus(t, fmt.Sprintf("failure %d", i), code, http.StatusUnauthorized)
	}
	code, _ := r.loginAs(xff("198.51.100.99"), "agent2", testenv.DemoPassword)
	wantStatus(t, "right password with yet another forged address", code, http.StatusTooManyRequests)
}

// A direct gRPC caller cannot name its address: the metadata the gateway
// sends is believed only from a trusted peer or with this process's secret.
func TestGRPCForgedClientAddressIsIgnored(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t) // trusts no proxy
	for i := 1; i <= 10; i++ {
		ctx := metadata.AppendToOutgoingContext(context.Background(),
			clientaddr.MetadataKey, fmt.Sprintf("198.51.100.%d", i), "x-helpline-gateway-secret", "guess")
		_, err := env.Identity.Login(ctx, &helplinev1.LoginRequest{Username: "agent2", Password: "wrong-password"})
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	ctx := clientaddr.Outgoing(context.Background(), "198.51.100.99")
	_, err := env.Identity.Login(ctx, &helplinev1.LoginRequest{Username: "agent2", Password: testenv.DemoPassword})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("right password with yet another forged address: %v, want RESOURCE_EXHAUSTED", err)
	}

	// From a trusted peer, the same metadata is believed.
	trusting := testenv.StartServerWith(t, func(c *server.Config) { c.TrustedProxies = loopbackPeer })
	for i := 1; i <= 10; i++ {
		_, err := trusting.Identity.Login(clientaddr.Outgoing(context.Background(), "198.51.100.1"),
			&helplinev1.LoginRequest{Username: "agent2", Password: "wrong-password"})
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("trusted: failure %d: %v", i, err)
		}
	}
	_, err = trusting.Identity.Login(clientaddr.Outgoing(context.Background(), "198.51.100.2"),
		&helplinev1.LoginRequest{Username: "agent2", Password: testenv.DemoPassword})
	if err != nil {
		t.Fatalf("trusted: agent2 as another client: %v", err)
	}
}

// Two replicas on one database: failures through one count on the other.
func TestRESTReplicasShareCounters(t *testing.T) {
	t.Parallel()
	env, a := startBehindProxy(t)
	dir, err := os.MkdirTemp("", "helpline-replica-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	replica, err := server.Start(context.Background(), server.Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DatabaseURL: testenv.URL(t, env.Pool), DBMaxConns: 4,
		NATSURL: env.Server.NATSURL, NATSAuth: env.NATSAuth(), DataDir: dir, Services: []string{server.ServiceIdentity},
		Retention: time.Hour, Clock: env.Clock, Password: password.Cheap, TrustedProxies: proxy,
	}, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		replica.Shutdown(ctx)
	})
	b := rest{t: t, base: "http://" + replica.HTTPAddr.String(), client: proxyClient}
	client := xff("203.0.113.9")
	for i := 1; i <= 5; i++ {
		code, _ := a.loginAs(client, "agent1", "wrong-password")
		wantStatus(t, fmt.Sprintf("failure %d on replica A", i), code, http.StatusUnauthorized)
		code, _ = b.loginAs(client, "agent1", "wrong-password")
		wantStatus(t, fmt.Sprintf("failure %d on replica B", i), code, http.StatusUnauthorized)
	}
	code, _ := a.loginAs(client, "agent1", testenv.DemoPassword)
	wantStatus(t, "replica A after 5+5 failures", code, http.StatusTooManyRequests)
	code, _ = b.loginAs(client, "agent1", testenv.DemoPassword)
	wantStatus(t, "replica B after 5+5 failures", code, http.StatusTooManyRequests)
	code, _ = b.loginAs(xff("203.0.113.10"), "agent1", testenv.DemoPassword)
	wantStatus(t, "replica B, another client", code, http.StatusOK)
}
