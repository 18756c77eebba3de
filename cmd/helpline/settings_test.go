package main

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// settingRow is one row of the README's Configuration table.
type settingRow struct{ variable, flag, def, meaning string }

// readmeSettings reads the Configuration table of the README.
func readmeSettings(t *testing.T) []settingRow {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## Configuration\n")
	if i < 0 {
		t.Fatal("README has no Configuration section")
	}
	s = s[i+1:]
	if j := strings.Index(s[3:], "\n## "); j >= 0 {
		s = s[:j+3]
	}
	var rows []settingRow
	for _, line := range strings.Split(s, "\n") {
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) != 4 {
			continue
		}
		rows = append(rows, settingRow{
			variable: strings.Trim(strings.TrimPrefix(cells[0], "| "), "`"),
			flag:     strings.Trim(cells[1], "`"),
			def:      cells[2],
			meaning:  strings.TrimSuffix(cells[3], " |"),
		})
	}
	if len(rows) < 30 {
		t.Fatalf("the Configuration table has %d rows; is it still | variable | flag | default | meaning |?", len(rows))
	}
	return rows
}

// TestREADMESettingsTableMatchesTheFlags walks serve's flag set and the
// README's table both ways: every flag has one row naming its variable and
// its default, and every row of serve names a flag that exists.
func TestREADMESettingsTableMatchesTheFlags(t *testing.T) {
	for _, kv := range os.Environ() { // defaults as the code has them
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "HELPLINE_") {
			t.Setenv(k, "")
		}
	}
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.serveFlags(fs)
	code := regexp.MustCompile("^`([^`]*)`")
	seen := map[string]bool{}
	for _, r := range readmeSettings(t) {
		if !strings.HasPrefix(r.flag, "-") {
			continue // helplinectl's and helpline-nats's rows, checked in their packages
		}
		name := strings.TrimPrefix(r.flag, "-")
		f := fs.Lookup(name)
		if f == nil {
			t.Errorf("README: %s names flag -%s, which serve does not have", r.variable, name)
			continue
		}
		if seen[name] {
			t.Errorf("README: -%s has two rows", name)
		}
		seen[name] = true
		if r.variable != envVar(name) {
			t.Errorf("README: -%s's variable is %s, not %s", name, envVar(name), r.variable)
		}
		if !strings.Contains(f.Usage, "("+envVar(name)+")") {
			t.Errorf("-%s's help does not name %s", name, envVar(name))
		}
		if strings.TrimSpace(r.meaning) == "" {
			t.Errorf("README: -%s has no meaning", name)
		}
		// The default: "empty..." for an empty one, else the value in
		// backquotes, which must read as the flag's default.
		if f.DefValue == "" {
			if !strings.HasPrefix(r.def, "empty") {
				t.Errorf("README: -%s's default is empty, the table says %s", name, r.def)
			}
			continue
		}
		m := code.FindStringSubmatch(r.def)
		if m == nil {
			t.Errorf("README: -%s's default %s is not `%s`", name, r.def, f.DefValue)
			continue
		}
		probe := flag.NewFlagSet("probe", flag.ContinueOnError)
		var pc config
		pc.serveFlags(probe)
		if err := probe.Set(name, m[1]); err != nil || probe.Lookup(name).Value.String() != f.DefValue {
			t.Errorf("README: -%s's default %q is not the code's %q", name, m[1], f.DefValue)
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !seen[f.Name] {
			t.Errorf("README: the Configuration table has no row for -%s (%s)", f.Name, envVar(f.Name))
		}
	})
}

// TestBadSettingsRefuseToStart runs `helpline` with bad values: each stops
// it before it connects to anything, naming the setting and the value.
func TestBadSettingsRefuseToStart(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"replicas word", map[string]string{"HELPLINE_STREAM_REPLICAS": "three"}, nil, []string{`HELPLINE_STREAM_REPLICAS="three": not a whole number`}},
		{"migrate no", map[string]string{"HELPLINE_MIGRATE": "no"}, nil, []string{`HELPLINE_MIGRATE="no": not true or false`}},
		{"retention days", map[string]string{"HELPLINE_RETENTION": "30d"}, nil, []string{`HELPLINE_RETENTION="30d": not a duration`}},
		{"all at once", map[string]string{"HELPLINE_STREAM_REPLICAS": "three", "HELPLINE_MIGRATE": "no", "HELPLINE_TRACE_RATIO": "half"},
			nil, []string{`HELPLINE_STREAM_REPLICAS="three"`, `HELPLINE_MIGRATE="no"`, `HELPLINE_TRACE_RATIO="half": not a number`}},
		{"replicas range", map[string]string{"HELPLINE_STREAM_REPLICAS": "7"}, nil, []string{`-stream-replicas (HELPLINE_STREAM_REPLICAS) "7": must be between 1 and 5`}},
		{"replicas zero flag", nil, []string{"-stream-replicas", "0"}, []string{`-stream-replicas (HELPLINE_STREAM_REPLICAS) "0"`}},
		{"replicas flag word", nil, []string{"-stream-replicas", "three"}, []string{`invalid value "three" for flag -stream-replicas`}},
		{"retention zero", nil, []string{"-retention", "0s"}, []string{`-retention (HELPLINE_RETENTION) "0s": must be a positive duration`}},
		{"job interval negative", map[string]string{"HELPLINE_JOB_INTERVAL": "-5s"}, nil, []string{`-job-interval (HELPLINE_JOB_INTERVAL) "-5s"`}},
		{"feedback days", map[string]string{"HELPLINE_FEEDBACK_MAX_DAYS": "0"}, nil, []string{`-feedback-max-days (HELPLINE_FEEDBACK_MAX_DAYS) "0"`}},
		{"in flight", map[string]string{"HELPLINE_MAX_IN_FLIGHT": "0"}, nil, []string{`-max-in-flight (HELPLINE_MAX_IN_FLIGHT) "0"`}},
		{"weekly off all", map[string]string{"HELPLINE_WEEKLY_OFF": "sun,mon,tue,wed,thu,fri,sat"}, nil, []string{`-weekly-off (HELPLINE_WEEKLY_OFF) "sun,mon,tue,wed,thu,fri,sat": every day of the week is off`}},
		{"weekly off typo", map[string]string{"HELPLINE_WEEKLY_OFF": "funday"}, nil, []string{`"funday": unknown day "funday"`}},
		{"unknown service", map[string]string{"HELPLINE_SERVICES": "intake,billing"}, nil, []string{`-services (HELPLINE_SERVICES) "intake,billing": unknown service "billing"`}},
		{"grpc addr", nil, []string{"-grpc-addr", "50051"}, []string{`-grpc-addr (HELPLINE_GRPC_ADDR) "50051": not host:port`}},
		{"nats url", map[string]string{"HELPLINE_NATS_URL": "http://nats:4222"}, nil, []string{`-nats-url (HELPLINE_NATS_URL) "http://nats:4222"`}},
		{"memory", map[string]string{"HELPLINE_MEMORY_LIMIT": "lots"}, nil, []string{`-memory-limit (HELPLINE_MEMORY_LIMIT) "lots"`}},
		{"log level", map[string]string{"HELPLINE_LOG_LEVEL": "loud"}, nil, []string{`-log-level (HELPLINE_LOG_LEVEL) "loud"`}},
		{"pprof", map[string]string{"HELPLINE_PPROF": "on"}, nil, []string{`HELPLINE_PPROF="on": not true or false`}},
		{"tls cert alone", map[string]string{"HELPLINE_TLS_CERT": junk}, nil, []string{`-tls-cert (HELPLINE_TLS_CERT) and -tls-key (HELPLINE_TLS_KEY): give both or neither`}},
		{"tls junk pair", map[string]string{"HELPLINE_TLS_CERT": junk, "HELPLINE_TLS_KEY": junk}, nil, []string{`-tls-cert "` + junk + `"`}},
		{"tls ca junk", map[string]string{"HELPLINE_TLS_CA": junk}, nil, []string{`-tls-ca (HELPLINE_TLS_CA) "` + junk + `": holds no PEM certificate`}},
		{"nats ca missing", map[string]string{"HELPLINE_NATS_CA": filepath.Join(dir, "none.pem")}, nil, []string{`-nats-ca (HELPLINE_NATS_CA)`, `cannot be read`}},
		{"nats user alone", map[string]string{"HELPLINE_NATS_URL": "nats://n1:4222", "HELPLINE_NATS_USER": "helpline"}, nil, []string{`-nats-user (HELPLINE_NATS_USER) and -nats-password (HELPLINE_NATS_PASSWORD): give both or neither`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			// An unreachable database: had the settings passed, serve would fail differently.
			args := append([]string{"serve", "-database-url", "postgres://nobody@127.0.0.1:1/none", "-http-addr=", "-grpc-addr", "127.0.0.1:0"}, tc.args...)
			err := run(context.Background(), args, io.Discard)
			if err == nil {
				t.Fatal("started")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not say %q", err, w)
				}
			}
		})
	}
}

// TestSettingsFromVariablesAndFlags: a variable sets its setting, the flag
// wins over it, and other commands check theirs the same way.
func TestSettingsFromVariablesAndFlags(t *testing.T) {
	t.Setenv("HELPLINE_STREAM_REPLICAS", "3")
	t.Setenv("HELPLINE_MIGRATE", "false")
	t.Setenv("HELPLINE_RETENTION", "720h")
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.serveFlags(fs)
	if err := c.parseArgs(fs, []string{"-retention", "48h"}); err != nil {
		t.Fatal(err)
	}
	if err := c.finish(); err != nil {
		t.Fatal(err)
	}
	if c.StreamReplicas != 3 || c.Migrate || c.Retention.Hours() != 48 {
		t.Errorf("replicas %d, migrate %v, retention %v; want 3, false, 48h (the flag over the variable)", c.StreamReplicas, c.Migrate, c.Retention)
	}

	t.Setenv("HELPLINE_WEEKLY_OFF", "funday")
	if err := run(context.Background(), []string{"stats", "grades"}, io.Discard); err == nil || !strings.Contains(err.Error(), `"funday"`) {
		t.Errorf("stats with HELPLINE_WEEKLY_OFF=funday: %v", err)
	}
	t.Setenv("HELPLINE_WEEKLY_OFF", "")
	t.Setenv("HELPLINE_NATS_CERT", "/nonexistent.pem")
	if err := run(context.Background(), []string{"outbox", "replay"}, io.Discard); err == nil || !strings.Contains(err.Error(), "-nats-cert (HELPLINE_NATS_CERT) and -nats-key (HELPLINE_NATS_KEY)") {
		t.Errorf("outbox replay with only HELPLINE_NATS_CERT: %v", err)
	}
	t.Setenv("HELPLINE_NATS_CERT", "")
	t.Setenv("HELPLINE_DATABASE_URL", "")
	t.Setenv("HELPLINE_LOG_FORMAT", "yaml")
	if err := run(context.Background(), []string{"migrate"}, io.Discard); err == nil || !strings.Contains(err.Error(), `"yaml"`) {
		t.Errorf("migrate with HELPLINE_LOG_FORMAT=yaml: %v", err)
	}
}

// TestSIGHUPReloads: a SIGHUP to the process calls the TLS reload.
func TestSIGHUPReloads(t *testing.T) {
	called := make(chan struct{}, 1)
	stop := reloadOnHangup(func() error {
		called <- struct{}{}
		return nil
	})
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("SIGHUP did not reload")
	}
}
