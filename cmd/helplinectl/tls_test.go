package main

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/helpline/helpline/internal/testcert"
)

// TestTLSWithACAFile: -tls-ca verifies a server whose certificate that CA
// issued, and refuses one of another CA; bad settings are refused naming
// them.
func TestTLSWithACAFile(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "ctl-test")
	ca.Issue(t, filepath.Join(dir, "s.pem"), filepath.Join(dir, "s.key"), "127.0.0.1")
	creds, err := credentials.NewServerTLSFromFile(filepath.Join(dir, "s.pem"), filepath.Join(dir, "s.key"))
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(creds))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	check := func(caFile string) error {
		c := &cli{tlsCA: caFile}
		tc, err := c.credentials()
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(tc))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	if err := check(ca.File); err != nil {
		t.Fatalf("-tls-ca with the server's CA: %v", err)
	}
	if err := check(testcert.NewCA(t, "other").File); err == nil {
		t.Fatal("-tls-ca with another CA verified the server")
	}

	var out, errOut bytes.Buffer
	t.Setenv("HELPLINE_TLS", "yes")
	if err := run(context.Background(), []string{"-config", filepath.Join(dir, "c.json"), "whoami"}, nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), `HELPLINE_TLS="yes"`) {
		t.Errorf("HELPLINE_TLS=yes: %v", err)
	}
	t.Setenv("HELPLINE_TLS", "")
	t.Setenv("HELPLINE_TLS_CA", filepath.Join(dir, "missing.pem"))
	if err := run(context.Background(), []string{"-config", filepath.Join(dir, "c.json"), "whoami"}, nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "-tls-ca (HELPLINE_TLS_CA)") {
		t.Errorf("a missing HELPLINE_TLS_CA: %v", err)
	}
}

// TestREADMERowsOfHelplinectl walks helplinectl's global flags and the
// README's rows for them both ways.
func TestREADMERowsOfHelplinectl(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) == 4 && strings.HasPrefix(cells[1], "`helplinectl -") {
			rows[strings.Trim(strings.TrimPrefix(cells[1], "`helplinectl "), "`")] = true
		}
	}
	fs := flag.NewFlagSet("helplinectl", flag.ContinueOnError)
	(&cli{}).globalFlags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		if !rows["-"+f.Name] {
			t.Errorf("README: no Configuration row for helplinectl -%s", f.Name)
		}
		delete(rows, "-"+f.Name)
	})
	for f := range rows {
		t.Errorf("README: a row for helplinectl %s, which it does not have", f)
	}
}
