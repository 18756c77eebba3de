package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/helpline/helpline/internal/natsbus"
	"github.com/helpline/helpline/internal/testcert"
	"github.com/helpline/helpline/internal/testenv"
)

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// node starts one cluster node in-process with the command's own options.
func node(t *testing.T, name, cluster, routes string, sec security) *server.Server {
	t.Helper()
	opts, err := options("127.0.0.1:0", t.TempDir(), name, cluster, routes, "helpline-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := sec.apply(opts); err != nil {
		t.Fatal(err)
	}
	opts.NoLog = true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatalf("%s not ready", name)
	}
	return srv
}

// TestRefusesToRunWithoutAPassword: no password, no server.
func TestRefusesToRunWithoutAPassword(t *testing.T) {
	t.Setenv("HELPLINE_NATS_PASSWORD", "")
	err := run([]string{"-addr", "127.0.0.1:0", "-store", t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "HELPLINE_NATS_PASSWORD") {
		t.Fatalf("started without a password: %v", err)
	}
	if err := run([]string{"-store", t.TempDir(), "-password", "x", "-tls-cert", "c.pem"}); err == nil || !strings.Contains(err.Error(), "-tls-key") {
		t.Errorf("-tls-cert without -tls-key: %v", err)
	}
}

// TestClusterWithAuthentication: two nodes whose routes authenticate (and,
// in the second case, use mutual TLS) form a cluster; a client without the
// password is refused, one with it (over TLS verified against the CA when
// the nodes serve TLS) is served.
func TestClusterWithAuthentication(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "nats-test")
	cert, key := filepath.Join(dir, "node.pem"), filepath.Join(dir, "node.key")
	ca.Issue(t, cert, key, "127.0.0.1", "localhost")
	for _, tc := range []struct {
		name string
		sec  security
	}{
		{"password", security{user: "helpline", password: "s3cret/with:odd@chars"}},
		{"password and TLS", security{user: "helpline", password: "s3cret", cert: cert, key: key, ca: ca.File}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c1, c2 := freePort(t), freePort(t)
			routes := c1 + "," + c2
			n1 := node(t, "n1", c1, routes, tc.sec)
			n2 := node(t, "n2", c2, routes, tc.sec)
			testenv.Eventually(t, 10*time.Second, "the authenticated route", func() bool {
				return n1.NumRoutes() > 0 && n2.NumRoutes() > 0
			})
			url := n1.ClientURL()
			var tlsOpt []nats.Option
			if tc.sec.cert != "" {
				tlsOpt = append(tlsOpt, nats.RootCAs(ca.File))
			}
			if nc, err := nats.Connect(url, append(tlsOpt, nats.Timeout(2*time.Second))...); err == nil {
				nc.Close()
				t.Fatal("a client without credentials was served")
			} else if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization") {
				t.Fatalf("refused, but not for authorization: %v", err)
			}
			if nc, err := nats.Connect(url, append(tlsOpt, nats.UserInfo(tc.sec.user, "wrong"), nats.Timeout(2*time.Second))...); err == nil {
				nc.Close()
				t.Fatal("a client with a wrong password was served")
			}
			auth := natsbus.ClientAuth{User: tc.sec.user, Password: tc.sec.password}
			if tc.sec.cert != "" {
				auth.CA = ca.File
				if nc, err := nats.Connect(url, nats.UserInfo(tc.sec.user, tc.sec.password), nats.Timeout(2*time.Second)); err == nil {
					if !nc.TLSRequired() {
						t.Error("a node with -tls-cert does not require TLS")
					}
					nc.Close()
				}
			}
			nc, err := natsbus.Connect(url, "test", auth, testenv.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			// A message published on n1 reaches a subscriber on n2: the route carries traffic.
			nc2, err := natsbus.Connect(n2.ClientURL(), "test2", auth, testenv.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer nc2.Close()
			sub, err := nc2.SubscribeSync("hello")
			if err != nil {
				t.Fatal(err)
			}
			_ = nc2.Flush()
			testenv.Eventually(t, 5*time.Second, "a message across the route", func() bool {
				_ = nc.Publish("hello", []byte("x"))
				_, err := sub.NextMsg(100 * time.Millisecond)
				return err == nil
			})
		})
	}
}

// TestPasswordFromTheEnvironment: HELPLINE_NATS_PASSWORD is -password's
// default, and the README's table says so.
func TestPasswordFromTheEnvironment(t *testing.T) {
	t.Setenv("HELPLINE_NATS_PASSWORD", "from-env")
	// With the password from the environment, the start gets past it and
	// fails later, at a bad -monitor.
	if err := run([]string{"-addr", "127.0.0.1:0", "-store", t.TempDir(), "-monitor", "nowhere"}); err == nil || !strings.Contains(err.Error(), "-monitor") {
		t.Errorf("with HELPLINE_NATS_PASSWORD set: %v", err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "| `HELPLINE_NATS_PASSWORD` | `helpline-nats -password` |") {
		t.Error("README: the Configuration table has no row for helpline-nats -password")
	}
}
