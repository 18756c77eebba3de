package main

import (
	"flag"
	"io"
	"os"
	"regexp"
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
	var helplines, natsNodes []string
	for name, svc := range file.Services {
		if strings.HasPrefix(svc.Image, "nats:") || (len(svc.Entrypoint) > 0 && svc.Entrypoint[0] == "/usr/local/bin/helpline-nats") {
			natsNodes = append(natsNodes, name)
			checkNATSNode(t, name, svc.Image, svc.Command, svc.Environment, dockerfile)
			continue
		}
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
		// Every variable is one the command reads (HELPLINE_DB_MAX_CONNS is
		// -db-max-conns), with a value its flag takes.
		for k, v := range svc.Environment {
			if !strings.HasPrefix(k, "HELPLINE_") {
				continue
			}
			flagName := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(k, "HELPLINE_")), "_", "-")
			if fresh.Lookup(flagName) == nil {
				t.Errorf("%s: %s has no flag -%s", name, k, flagName)
			} else if v = operatorValue(v); v == "" {
				continue
			} else if err := fresh.Set(flagName, v); err != nil {
				t.Errorf("%s: %s=%q: %v", name, k, v, err)
			}
		}
		// A process using the NATS cluster authenticates to it.
		if svc.Command[0] == "serve" && svc.Environment["HELPLINE_NATS_URL"] != "" &&
			(svc.Environment["HELPLINE_NATS_USER"] == "" || !strings.Contains(svc.Environment["HELPLINE_NATS_PASSWORD"], "${HELPLINE_NATS_PASSWORD")) {
			t.Errorf("%s: uses NATS without HELPLINE_NATS_USER and HELPLINE_NATS_PASSWORD from the operator's HELPLINE_NATS_PASSWORD", name)
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
	if len(natsNodes) != 3 {
		t.Errorf("%d NATS nodes in the compose file, want a cluster of 3", len(natsNodes))
	}
	// The README claims no other NATS version.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	minor := natsServerMinor(t)
	for _, m := range regexp.MustCompile(`(?:nats-server v|nats:)(\d+\.\d+)`).FindAllStringSubmatch(string(readme), -1) {
		if m[1] != minor {
			t.Errorf("README names NATS %s; go.mod has nats-server %s", m[0], minor)
		}
	}
}

// natsServerMinor is the minor version of nats-server in go.mod, e.g. "2.15".
func natsServerMinor(t *testing.T) string {
	t.Helper()
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/nats-io/nats-server/v2 v(\d+\.\d+)\.\d+`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod does not require github.com/nats-io/nats-server/v2")
	}
	return string(m[1])
}

// checkNATSNode checks a NATS node of the compose file: nats-server at
// go.mod's minor version (the official image's tag, or the project's own
// helpline-nats, which is that version by construction), clustered, with
// every write fsynced (sync_interval: always) and clients and routes
// authenticated with the operator's password, which is not on the command
// line.
func checkNATSNode(t *testing.T, name, image string, command []string, environment map[string]string, dockerfile string) {
	t.Helper()
	minor := natsServerMinor(t)
	args := strings.Join(command, " ")
	if tag, ok := strings.CutPrefix(image, "nats:"); ok {
		if tag != minor && !strings.HasPrefix(tag, minor+".") && !strings.HasPrefix(tag, minor+"-") {
			t.Errorf("%s: image %s is not nats-server %s (go.mod)", name, image, minor)
		}
		return // the official image's configuration is not checked here
	}
	if image != "helpline:latest" || !strings.Contains(dockerfile, "/out/helpline-nats ./cmd/helpline-nats") || !strings.Contains(dockerfile, "/out/helpline-nats /usr/local/bin/") {
		t.Errorf("%s: runs helpline-nats from image %s, which the Dockerfile does not build it into", name, image)
	}
	for _, want := range []string{"-sync-always", "-cluster ", "-routes ", "-user ", "-store "} {
		if !strings.Contains(args+" ", want) {
			t.Errorf("%s: command %q lacks %s", name, args, want)
		}
	}
	// Every flag is one helpline-nats defines.
	src, err := os.ReadFile("../helpline-nats/main.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range command {
		if f, ok := strings.CutPrefix(a, "-"); ok && !strings.Contains(string(src), `"`+strings.SplitN(f, "=", 2)[0]+`", `) {
			t.Errorf("%s: helpline-nats has no flag %s", name, a)
		}
	}
	if strings.Contains(args, "-password") {
		t.Errorf("%s: the password is on the command line, where ps shows it", name)
	}
	if !strings.Contains(environment["HELPLINE_NATS_PASSWORD"], "${HELPLINE_NATS_PASSWORD") {
		t.Errorf("%s: HELPLINE_NATS_PASSWORD is not the operator's", name)
	}
}

// operatorValue stands for a value the operator gives compose: the default
// of ${VAR:-default}, a placeholder for ${VAR:?message}; other values as
// they are.
func operatorValue(v string) string {
	if m := regexp.MustCompile(`^\$\{[A-Z_]+:-(.*)\}$`).FindStringSubmatch(v); m != nil {
		return m[1]
	}
	if strings.HasPrefix(v, "${") {
		return "from-the-operator"
	}
	return v
}
