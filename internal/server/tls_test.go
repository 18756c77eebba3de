package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/password"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testcert"
	"github.com/helpline/helpline/internal/testenv"
)

// startTLS starts every service on the database at dbURL, with TLS from
// certFile and keyFile, adjusted by opt.
func startTLS(t *testing.T, dbURL, certFile, keyFile string, opt func(*server.Config)) *server.Server {
	t.Helper()
	cfg := server.Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		DatabaseURL: dbURL, DBMaxConns: 8,
		NATSListen: "127.0.0.1:0", DataDir: t.TempDir(),
		Retention: time.Hour, Calendar: calendar.Default, Password: password.Cheap,
		TLSCert: certFile, TLSKey: keyFile, TLSWatch: 20 * time.Millisecond,
	}
	if opt != nil {
		opt(&cfg)
	}
	srv, err := server.Start(context.Background(), cfg, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv
}

// presented is the certificate a TLS handshake with addr gets.
func presented(t *testing.T, addr string) []byte {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only reading the certificate
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Raw
}

// restLogin logs agent1 in through the HTTPS REST gateway, verifying the
// server against roots.
func restLogin(t *testing.T, srv *server.Server, roots *x509.CertPool) string {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "helpline.test"}}}
	defer client.CloseIdleConnections()
	resp, err := client.Post("https://"+srv.HTTPAddr.String()+"/v1/login", "application/json",
		strings.NewReader(`{"username":"agent1","password":"`+testenv.DemoPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct{ Token string }
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || out.Token == "" {
		t.Fatalf("HTTPS login: %s %s", resp.Status, b)
	}
	return out.Token
}

// TestServeTLS: gRPC and HTTP serve TLS with a certificate naming only
// helpline.test (not the loopback address the gateway dials); a client
// verifying against the CA calls gRPC; REST over HTTPS reaches the gRPC
// handlers through the gateway's own TLS connection; a plaintext client is
// refused; a new pair written to the files is served without a restart, a
// bad one is refused by ReloadTLS and the served one kept.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca := testcert.NewCA(t, "helpline-test")
	first := ca.Issue(t, certFile, keyFile, "helpline.test")
	srv := startTLS(t, testenv.URL(t, testenv.SeededDB(t)), certFile, keyFile, nil)
	if !srv.TLS {
		t.Fatal("Server.TLS is false")
	}

	conn, err := grpc.NewClient(srv.GRPCAddr.String(), grpc.WithTransportCredentials(
		credentials.NewTLS(&tls.Config{RootCAs: ca.Pool(), ServerName: "helpline.test"})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	login, err := helplinev1.NewIdentityServiceClient(conn).Login(ctx, &helplinev1.LoginRequest{Username: "agent1", Password: testenv.DemoPassword})
	if err != nil || login.GetToken() == "" {
		t.Fatalf("gRPC login over TLS: %v", err)
	}

	plain, err := grpc.NewClient(srv.GRPCAddr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	if _, err := healthpb.NewHealthClient(plain).Check(short, &healthpb.HealthCheckRequest{}); err == nil {
		t.Error("a plaintext gRPC client was served")
	}
	cancelShort()
	if resp, err := http.Get("http://" + srv.HTTPAddr.String() + "/healthz"); err == nil && resp.StatusCode == 200 {
		resp.Body.Close()
		t.Error("plain HTTP was served")
	}

	// REST → gateway → this process's gRPC over TLS (pinned to the served certificate).
	token := restLogin(t, srv, ca.Pool())
	resp, b := httpsGet(t, ca.Pool(), srv.HTTPAddr.String(), "/v1/whoami", token)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "agent1") {
		t.Fatalf("whoami over HTTPS: %s %s", resp.Status, b)
	}

	// A new pair from another CA, picked up by the file watcher.
	ca2 := testcert.NewCA(t, "helpline-test-2")
	second := ca2.Issue(t, certFile, keyFile, "helpline.test")
	for deadline := time.Now().Add(5 * time.Second); !bytes.Equal(presented(t, srv.GRPCAddr.String()), second); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the new certificate was not served within 5 s of the files changing")
		}
	}
	if !bytes.Equal(presented(t, srv.HTTPAddr.String()), second) {
		t.Error("HTTP still serves the old certificate")
	}
	if bytes.Equal(first, second) {
		t.Fatal("the test's two certificates are the same")
	}
	restLogin(t, srv, ca2.Pool()) // a new HTTPS connection, verified against the new CA

	// A bad pair: the key of another certificate.
	other := t.TempDir()
	ca2.Issue(t, filepath.Join(other, "c.pem"), keyFile, "other.test")
	if err := srv.ReloadTLS(); err == nil {
		t.Fatal("ReloadTLS accepted a mismatched pair")
	}
	if !bytes.Equal(presented(t, srv.GRPCAddr.String()), second) {
		t.Fatal("a refused pair changed the served certificate")
	}
}

// TestRESTTargetsOverTLS: a process serving identity and intake serves
// routing's REST calls through another process's gRPC over TLS, verified
// against -tls-ca.
func TestRESTTargetsOverTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "helpline-test")
	ca.Issue(t, filepath.Join(dir, "r.pem"), filepath.Join(dir, "r.key"), "127.0.0.1")
	ca.Issue(t, filepath.Join(dir, "f.pem"), filepath.Join(dir, "f.key"), "helpline.test")
	dbURL := testenv.URL(t, testenv.SeededDB(t))
	routing := startTLS(t, dbURL, filepath.Join(dir, "r.pem"), filepath.Join(dir, "r.key"), func(c *server.Config) {
		c.Services, c.HTTPAddr = []string{server.ServiceIdentity, server.ServiceRouting}, ""
	})
	front := startTLS(t, dbURL, filepath.Join(dir, "f.pem"), filepath.Join(dir, "f.key"), func(c *server.Config) {
		c.Services = []string{server.ServiceIdentity, server.ServiceIntake}
		c.RESTTargets = map[string]string{server.ServiceRouting: routing.GRPCAddr.String()}
		c.TLSCA = ca.File
	})
	token := restLogin(t, front, ca.Pool())
	resp, b := httpsGet(t, ca.Pool(), front.HTTPAddr.String(), "/v1/districts", token)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "SHIMLA") {
		t.Fatalf("districts through the REST target over TLS: %s %.300s", resp.Status, b)
	}
}

// httpsGet GETs path from addr over TLS (verified against pool, the
// certificate naming helpline.test) with a bearer token.
func httpsGet(t *testing.T, pool *x509.CertPool, addr, path, token string) (*http.Response, []byte) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "helpline.test"}}}
	req, _ := http.NewRequest("GET", "https://"+addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}
