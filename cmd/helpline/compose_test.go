package main

import (
	"flag"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/helpline/helpline/internal/server"
)

// TestComposeFileMatchesTheBinary checks docker-compose.yml against the
// binary, since no Docker engine runs here: every helpline service runs a
// known command with flags that exist, sets only variables the binary
// reads, and names only services the binary has.
func TestComposeFileMatchesTheBinary(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Entrypoint  []string          `yaml:"entrypoint"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("docker-compose.yml is not valid YAML: %v", err)
	}
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := string(df)
	// The flags of each subcommand; every variable a service sets must be one of them.
	flagsOf := map[string]*flag.FlagSet{}
	for _, cmd := range []string{"serve", "migrate", "seed"} {
		var c config
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		if cmd == "serve" {
			c.serveFlags(fs)
		} else {
			c.seedFlags(fs)
		}
		flagsOf[cmd] = fs
	}
	var helplines []string
	for name, svc := range file.Services {
		if svc.Image != "helpline:latest" {
			continue
		}
		if len(svc.Entrypoint) > 0 {
			// The operator CLI, built into the image by the Dockerfile.
			if svc.Entrypoint[0] != "/usr/local/bin/helplinectl" || !strings.Contains(dockerfile, "/out/helplinectl ./cmd/helplinectl") {
				t.Errorf("%s: entrypoint %v is not a binary the Dockerfile builds", name, svc.Entrypoint)
			}
			continue
		}
		helplines = append(helplines, name)
		if hc := svc.Healthcheck.Test; len(hc) > 0 {
			if len(hc) < 3 || hc[0] != "CMD" || hc[1] != "/usr/local/bin/helpline" || hc[2] != "health" {
				t.Errorf("%s: health check %v does not run helpline health", name, hc)
			} else if fs, _ := healthFlags(); fs.Parse(hc[3:]) != nil {
				t.Errorf("%s: health check flags %v", name, hc[3:])
			}
		}
		// Published container ports are the ones the process listens on.
		for _, p := range svc.Ports {
			target := p[strings.LastIndex(p, ":")+1:]
			if !strings.HasSuffix(svc.Environment["HELPLINE_GRPC_ADDR"], ":"+target) && !strings.HasSuffix(svc.Environment["HELPLINE_HTTP_ADDR"], ":"+target) {
				t.Errorf("%s: publishes port %s, but listens on %s and %s", name, target, svc.Environment["HELPLINE_GRPC_ADDR"], svc.Environment["HELPLINE_HTTP_ADDR"])
			}
		}
		if len(svc.Command) == 0 {
			t.Errorf("%s: no command", name)
			continue
		}
		fs, ok := flagsOf[svc.Command[0]]
		if !ok {
			t.Errorf("%s: unknown command %q", name, svc.Command[0])
			continue
		}
		// Parse with the binary's own flag set: an unknown flag fails here.
		var c config
		fresh := flag.NewFlagSet(svc.Command[0], flag.ContinueOnError)
		fresh.SetOutput(io.Discard)
		if svc.Command[0] == "serve" {
			c.serveFlags(fresh)
		} else {
			fresh = fs
		}
		if err := fresh.Parse(svc.Command[1:]); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// Every variable's value is one its flag takes (HELPLINE_DB_MAX_CONNS is -db-max-conns).
		for k, v := range svc.Environment {
			if !strings.HasPrefix(k, "HELPLINE_") || strings.Contains(v, "${") {
				continue
			}
			flagName := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(k, "HELPLINE_")), "_", "-")
			if fresh.Lookup(flagName) == nil {
				t.Errorf("%s: %s has no flag -%s", name, k, flagName)
			} else if err := fresh.Set(flagName, v); err != nil {
				t.Errorf("%s: %s=%q: %v", name, k, v, err)
			}
		}
		if svc.Command[0] == "serve" {
			if err := c.finish(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			for _, s := range c.Services {
				if !slices.Contains(server.AllServices, s) {
					t.Errorf("%s: unknown service %q", name, s)
				}
			}
		}
	}
	// Every service of the binary runs somewhere.
	for _, s := range server.AllServices {
		found := false
		for _, name := range helplines {
			cmd := file.Services[name].Command
			if i := slices.Index(cmd, "-services"); i >= 0 && i+1 < len(cmd) && slices.Contains(strings.Split(cmd[i+1], ","), s) {
				found = true
			}
		}
		if !found {
			t.Errorf("no compose service runs %q", s)
		}
	}
	if len(helplines) < 3 {
		t.Fatalf("only %d helpline services in the compose file", len(helplines))
	}
}
