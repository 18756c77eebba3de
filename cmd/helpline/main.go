// Command helpline runs the Helpline grievance backend.
//
//	helpline serve     run the services (all in one process by default)
//	helpline migrate   apply database migrations
//	helpline seed      load demo master data and demo users
//	helpline user      create, disable, reset-password, issue-token
//	helpline stats     resolution, aging, grades, export, rebuild
//	helpline outbox    replay events from the outbox
//	helpline health    exit 0 when a server's /readyz answers (container health checks)
package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/password"
	"github.com/helpline/helpline/internal/seed"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/telemetry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "helpline:", err)
		os.Exit(1)
	}
}

const usage = `usage: helpline <command> [flags]

commands:
  serve     run the services (every service in one process by default)
  migrate   apply database migrations
  seed      load demo master data and demo users
  user      create | disable | reset-password | issue-token
  stats     resolution | aging | grades | export | rebuild
  outbox    replay: re-publish events kept in the outbox (applied ones change nothing)
  health    [-url http://127.0.0.1:8080/readyz]: exit 0 when the server is ready (PostgreSQL and NATS reachable)

Run "helpline <command> -h" for its flags.`

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stdout, usage)
		return errors.New("no command given")
	}
	if args[0] == "user" || args[0] == "stats" || args[0] == "outbox" {
		log, err := newLogger(env("HELPLINE_LOG_LEVEL", "warn"), "text")
		if err != nil {
			return err
		}
		if args[0] == "stats" {
			return statsCommand(ctx, args[1:], stdout, log)
		}
		if args[0] == "outbox" {
			return outboxCommand(ctx, args[1:], stdout, log)
		}
		return userCommand(ctx, args[1:], os.Stdin, stdout, log)
	}
	if args[0] == "health" {
		return healthCommand(ctx, args[1:], stdout)
	}
	var c config
	fs := flag.NewFlagSet("helpline "+args[0], flag.ContinueOnError)
	switch args[0] {
	case "serve":
		c.serveFlags(fs)
	case "migrate":
		c.flags(fs)
	case "seed":
		c.seedFlags(fs)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		fmt.Fprintln(stdout, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	if err := c.parseArgs(fs, args[1:]); err != nil {
		return err
	}
	if args[0] == "serve" {
		// Every bad setting is reported before anything starts.
		if err := c.finish(); err != nil {
			return err
		}
	}
	log, err := newLogger(c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	switch args[0] {
	case "serve":
		return serve(ctx, c, log, stdout)
	case "migrate":
		pool, err := db.Open(ctx, c.DatabaseURL, 2)
		if err != nil {
			return err
		}
		defer pool.Close()
		return db.Migrate(ctx, pool, log)
	default:
		_, err := loadSeed(ctx, c, log, stdout)
		return err
	}
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "json":
		return slog.New(telemetry.LogHandler(slog.NewJSONHandler(os.Stderr, opts))), nil
	case "text":
		return slog.New(telemetry.LogHandler(slog.NewTextHandler(os.Stderr, opts))), nil
	}
	return nil, fmt.Errorf("-log-format: %q is neither text nor json", format)
}

// loadSeed loads the demo data; it returns the demo password used.
func loadSeed(ctx context.Context, c config, log *slog.Logger, stdout io.Writer) (string, error) {
	pool, err := db.Open(ctx, c.DatabaseURL, 4)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool, log); err != nil {
		return "", err
	}
	pw := c.demoPassword
	if pw == "" {
		b := make([]byte, 10)
		_, _ = rand.Read(b)
		pw = strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	}
	hash, err := password.NewHasher(password.Default, 1).Hash(ctx, pw)
	if err != nil {
		return "", err
	}
	counts, err := seed.Load(ctx, pool, hash, clock.Real{}.Now())
	if err != nil {
		return "", fmt.Errorf("seed: %w", err)
	}
	log.Info("demo data loaded", "locations", counts.Locations, "departments", counts.Departments,
		"categories", counts.Categories, "posts", counts.Posts, "rules", counts.Rules, "users", counts.Users)
	fmt.Fprintf(stdout, "Demo users (admin, supervisor, agent1, agent2, and one officer per post such as pwd-shimla-l1) have the password: %s\n", pw)
	return pw, nil
}

func serve(ctx context.Context, c config, log *slog.Logger, stdout io.Writer) error {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && c.memoryBytes > 0 {
		// The garbage collector works harder as the heap nears the limit,
		// instead of letting it grow to twice the live data.
		debug.SetMemoryLimit(c.memoryBytes)
	}
	stopTracing, err := telemetry.Setup(ctx, c.otlpEndpoint, c.traceRatio, "helpline")
	if err != nil {
		return err
	}
	defer func() {
		flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stopTracing(flush)
	}()
	var demoPassword string
	if c.seed {
		var err error
		if demoPassword, err = loadSeed(ctx, c, log, stdout); err != nil {
			return err
		}
	}
	srv, err := server.Start(ctx, c.Config, log)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, banner(srv, c, demoPassword))
	// SIGHUP reloads the TLS certificate and key (they are also reloaded
	// when the files change); an error is logged and the served pair stays.
	defer reloadOnHangup(srv.ReloadTLS)()
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-srv.Errors():
		log.Error("server failed", "err", err)
		shutdown(srv)
		return err
	}
	shutdown(srv)
	return nil
}

func shutdown(srv *server.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

// healthFlags is the flag set of helpline health.
func healthFlags() (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("helpline health", flag.ContinueOnError)
	return fs, fs.String("url", "http://127.0.0.1:8080/readyz", "readiness URL of the server")
}

// healthCommand asks a server's /readyz, for container health checks (the
// image has no shell or curl).
func healthCommand(ctx context.Context, args []string, stdout io.Writer) error {
	fs, url := healthFlags()
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s", *url, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprint(stdout, string(body))
	return nil
}

// pwOr is the demo password, or a placeholder when it was not set here.
func pwOr(pw string) string {
	if pw == "" {
		return "<password>"
	}
	return pw
}

// banner is what serve prints once it serves: addresses, how to call it,
// and how another process reaches its NATS.
func banner(srv *server.Server, c config, demoPassword string) string {
	scheme, grpcurl, tlsNote := "http", "grpcurl -plaintext", ""
	if srv.TLS {
		scheme, grpcurl = "https", "grpcurl"
		tlsNote = "   (TLS; a private CA: add -cacert CA.pem to grpcurl, --cacert CA.pem to curl)"
	}
	httpAddr, curl := "disabled", ""
	if srv.HTTPAddr != nil {
		h := scheme + "://" + srv.HTTPAddr.String()
		httpAddr = h + "   REST /v1/...  /openapi.json  /open311/v2/  /metrics  /healthz  /readyz\n" +
			"  Console  " + h + "/console/   (sign in as agent1, pwd-shimla-l1, supervisor or admin)"
		curl = fmt.Sprintf(`
Or REST with curl:
  TOKEN=$(curl -s -XPOST %[1]s/v1/login -d '{"username":"agent1","password":"%[2]s"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  curl -s -XPOST %[1]s/v1/complaints -H "Authorization: Bearer $TOKEN" -d '{"idempotencyKey":"demo-2","citizen":{"name":"Asha Devi","phone":"98160 54321"},"location":{"districtCode":"KANGRA"},"categoryCode":"PWD_ROAD_POTHOLES","description":"Potholes near the bus stand","channel":"CHANNEL_WEB"}'
  curl -s %[1]s/v1/complaints/<docket> -H "Authorization: Bearer $TOKEN"
  curl -s %[1]s/metrics | grep helpline_complaints
`, h, pwOr(demoPassword))
	}
	natsLine := srv.NATSURL
	switch {
	case srv.NATSPasswordFile != "":
		natsLine += fmt.Sprintf("   (embedded; user %s, password in %s, mode 0600)", srv.NATSUser, srv.NATSPasswordFile)
	case srv.NATSUser != "":
		natsLine += fmt.Sprintf("   (embedded; user %s, password HELPLINE_NATS_PASSWORD)", srv.NATSUser)
	}
	return fmt.Sprintf(`
Helpline is up.
  gRPC     %[1]s   (reflection on; grpc.health.v1.Health)%[7]s
  HTTP     %[2]s
  NATS     %[3]s
  services %[4]s

Try (grpcurl: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4):
  %[8]s %[1]s list
  TOKEN=$(%[8]s -d '{"username":"agent1","password":"%[5]s"}' %[1]s helpline.v1.IdentityService/Login | sed -n 's/.*"token": "\(.*\)".*/\1/p')
  %[8]s -H "authorization: Bearer $TOKEN" -d '{"idempotency_key":"demo-1","citizen":{"name":"राम सिंह","phone":"98160 12345","language":"hi"},"location":{"district_code":"SHIMLA","block_code":"THEOG"},"category_code":"PWD_ROAD_POTHOLES","description":"ठियोग बाज़ार के पास सड़क पर बड़े गड्ढे हैं","channel":"CHANNEL_PHONE"}' %[1]s helpline.v1.IntakeService/RegisterComplaint
%[6]s
Operators: bin/helplinectl login -username admin   (then helplinectl -h)%[9]s

Stop with Ctrl-C.
`, srv.GRPCAddr, httpAddr, natsLine, strings.Join(c.Services, ","), pwOr(demoPassword), curl, tlsNote, grpcurl, ctlNote(srv.TLS))
}

// ctlNote tells helplinectl users how to reach a TLS server.
func ctlNote(tls bool) string {
	if !tls {
		return ""
	}
	return "\n           with TLS: helplinectl -tls (public CA) or -tls-ca CA.pem (HELPLINE_TLS_CA)"
}

// reloadOnHangup calls reload on every SIGHUP until the returned function
// is called.
func reloadOnHangup(reload func() error) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				_ = reload()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}
