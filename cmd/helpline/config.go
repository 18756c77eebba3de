package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/clientaddr"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/services/notification"
)

// config is everything the binary reads from its environment and flags,
// read once at start.
type config struct {
	server.Config
	services     string
	dbMaxConns   int
	webhookURL   string
	webhookToken string
	weeklyOff    string
	demoPassword string
	seed         bool
	logLevel     string
	logFormat    string
	memoryLimit  string
	otlpEndpoint string
	restTargets  string
	traceRatio   float64
	// memoryBytes is memoryLimit parsed; 0 leaves the Go runtime's default.
	memoryBytes int64
	// trustedProxies is -trusted-proxies before parsing.
	trustedProxies string
}

// knownEnv records every variable the binary reads, for the compose check.
var knownEnv = map[string]bool{}

func env(key, def string) string {
	knownEnv[key] = true
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(env(key, "")); err == nil {
		return n
	}
	return def
}

func envFloat(key string, def float64) float64 {
	if f, err := strconv.ParseFloat(env(key, ""), 64); err == nil {
		return f
	}
	return def
}

func envBool(key string, def bool) bool {
	if b, err := strconv.ParseBool(env(key, "")); err == nil {
		return b
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(env(key, "")); err == nil {
		return d
	}
	return def
}

// DefaultDatabaseURL is the local PostgreSQL that `make run` starts.
const DefaultDatabaseURL = "postgres://helpline:helpline@127.0.0.1:5433/helpline?sslmode=disable"

// flags registers the flags shared by the subcommands on fs, with defaults
// from the environment.
func (c *config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", env("HELPLINE_DATABASE_URL", DefaultDatabaseURL), "PostgreSQL URL (HELPLINE_DATABASE_URL)")
	fs.StringVar(&c.logLevel, "log-level", env("HELPLINE_LOG_LEVEL", "info"), "debug, info, warn or error (HELPLINE_LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", env("HELPLINE_LOG_FORMAT", "text"), "text or json (HELPLINE_LOG_FORMAT)")
}

// serveFlags registers the flags of `serve`.
func (c *config) serveFlags(fs *flag.FlagSet) {
	c.flags(fs)
	fs.StringVar(&c.GRPCAddr, "grpc-addr", env("HELPLINE_GRPC_ADDR", "127.0.0.1:50051"), "gRPC listen address (HELPLINE_GRPC_ADDR)")
	fs.StringVar(&c.HTTPAddr, "http-addr", env("HELPLINE_HTTP_ADDR", "127.0.0.1:8080"), "HTTP listen address for health; empty disables (HELPLINE_HTTP_ADDR)")
	fs.StringVar(&c.NATSURL, "nats-url", env("HELPLINE_NATS_URL", ""), "NATS URL(s), comma separated; empty runs an embedded NATS JetStream server (HELPLINE_NATS_URL)")
	fs.StringVar(&c.NATSListen, "nats-listen", env("HELPLINE_NATS_LISTEN", "127.0.0.1:4222"), "listen address of the embedded NATS server (HELPLINE_NATS_LISTEN)")
	fs.StringVar(&c.DataDir, "data-dir", env("HELPLINE_DATA_DIR", ".data/nats"), "directory for the embedded NATS server's JetStream files (HELPLINE_DATA_DIR)")
	fs.StringVar(&c.services, "services", env("HELPLINE_SERVICES", strings.Join(server.AllServices, ",")), "services this process runs, comma separated (HELPLINE_SERVICES)")
	fs.BoolVar(&c.Relay, "relay", envBool("HELPLINE_RELAY", true), "run the outbox relay in this process (HELPLINE_RELAY)")
	fs.BoolVar(&c.Migrate, "migrate", envBool("HELPLINE_MIGRATE", true), "apply database migrations at start (HELPLINE_MIGRATE)")
	fs.BoolVar(&c.seed, "seed", envBool("HELPLINE_SEED", false), "load demo master data and demo users at start (HELPLINE_SEED)")
	fs.StringVar(&c.demoPassword, "demo-password", env("HELPLINE_DEMO_PASSWORD", ""), "password of the demo users; random when empty (HELPLINE_DEMO_PASSWORD)")
	fs.IntVar(&c.dbMaxConns, "db-max-conns", envInt("HELPLINE_DB_MAX_CONNS", 20), "PostgreSQL pool size (HELPLINE_DB_MAX_CONNS)")
	fs.IntVar(&c.StreamReplicas, "stream-replicas", envInt("HELPLINE_STREAM_REPLICAS", 1), "JetStream stream replicas: 3 on a NATS cluster (HELPLINE_STREAM_REPLICAS)")
	fs.DurationVar(&c.Retention, "retention", envDuration("HELPLINE_RETENTION", 7*24*time.Hour), "how long published events and applied-event records are kept (HELPLINE_RETENTION)")
	fs.DurationVar(&c.JobInterval, "job-interval", envDuration("HELPLINE_JOB_INTERVAL", 30*time.Second), "how often the escalation and no-response jobs run; 0 disables them in this process (HELPLINE_JOB_INTERVAL)")
	fs.IntVar(&c.Feedback.MaxAttempts, "feedback-max-attempts", envInt("HELPLINE_FEEDBACK_MAX_ATTEMPTS", 3), "failed feedback calls that close a complaint as no-response (HELPLINE_FEEDBACK_MAX_ATTEMPTS)")
	fs.IntVar(&c.Feedback.MaxDays, "feedback-max-days", envInt("HELPLINE_FEEDBACK_MAX_DAYS", 7), "days after the first failed feedback call that close it as no-response (HELPLINE_FEEDBACK_MAX_DAYS)")
	fs.StringVar(&c.webhookURL, "notify-webhook-url", env("HELPLINE_NOTIFY_WEBHOOK_URL", ""), "SMS/WhatsApp gateway URL notifications are posted to; empty: the log (HELPLINE_NOTIFY_WEBHOOK_URL)")
	fs.StringVar(&c.webhookToken, "notify-webhook-token", env("HELPLINE_NOTIFY_WEBHOOK_TOKEN", ""), "bearer token for the gateway (HELPLINE_NOTIFY_WEBHOOK_TOKEN)")
	fs.BoolVar(&c.NATSSyncAlways, "nats-sync-always", envBool("HELPLINE_NATS_SYNC_ALWAYS", false), "embedded JetStream fsyncs every write before acknowledging it (HELPLINE_NATS_SYNC_ALWAYS)")
	fs.IntVar(&c.MaxInFlight, "max-in-flight", envInt("HELPLINE_MAX_IN_FLIGHT", 512), "RPCs served at once; more wait at most 10 ms, then get RESOURCE_EXHAUSTED (HELPLINE_MAX_IN_FLIGHT)")
	fs.StringVar(&c.memoryLimit, "memory-limit", env("HELPLINE_MEMORY_LIMIT", "256MiB"), "soft memory limit of the Go runtime, e.g. 256MiB or 1GiB; off for none; GOMEMLIMIT wins when set (HELPLINE_MEMORY_LIMIT)")
	fs.BoolVar(&c.Pprof, "pprof", envBool("HELPLINE_PPROF", false), "serve Go's profiler at /debug/pprof/ on the HTTP address (HELPLINE_PPROF)")
	fs.StringVar(&c.restTargets, "rest-targets", env("HELPLINE_REST_TARGETS", ""), "gRPC addresses of services run by other processes, for this process's REST gateway and Open311: service=host:port,... (dns:///name:port balances over every address) (HELPLINE_REST_TARGETS)")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", env("HELPLINE_TRUSTED_PROXIES", ""), "reverse proxies (and other Helpline processes' gateways) whose X-Forwarded-For/Forwarded and client-address metadata are believed: CIDRs or IPs, comma separated (HELPLINE_TRUSTED_PROXIES)")
	fs.StringVar(&c.otlpEndpoint, "otlp-endpoint", env("HELPLINE_OTLP_ENDPOINT", ""), "OpenTelemetry collector (OTLP/gRPC, host:port) traces are sent to; empty: tracing off (HELPLINE_OTLP_ENDPOINT)")
	fs.Float64Var(&c.traceRatio, "trace-ratio", envFloat("HELPLINE_TRACE_RATIO", 1), "share of traces kept, 0 to 1; a traced caller's are always kept (HELPLINE_TRACE_RATIO)")
	fs.StringVar(&c.weeklyOff, "weekly-off", env("HELPLINE_WEEKLY_OFF", "sunday"), "weekly off days for SLA clocks, comma separated (HELPLINE_WEEKLY_OFF)")
}

// finish checks and derives what flags cannot express directly.
func (c *config) finish() error {
	if c.dbMaxConns < 1 || c.dbMaxConns > 1000 {
		return fmt.Errorf("-db-max-conns: must be between 1 and 1000")
	}
	c.DBMaxConns = int32(c.dbMaxConns)
	if c.traceRatio < 0 || c.traceRatio > 1 {
		return fmt.Errorf("-trace-ratio: must be between 0 and 1")
	}
	if c.memoryLimit != "" {
		n, err := parseSize(c.memoryLimit)
		if err != nil {
			return fmt.Errorf("-memory-limit: %w", err)
		}
		c.memoryBytes = n
	}
	trusted, err := clientaddr.ParseTrusted(c.trustedProxies)
	if err != nil {
		return fmt.Errorf("-trusted-proxies: %w", err)
	}
	c.TrustedProxies = trusted
	c.RESTTargets = nil
	for _, kv := range strings.Split(c.restTargets, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, addr, ok := strings.Cut(kv, "=")
		if !ok || addr == "" || !slices.Contains(server.AllServices, name) || name == server.ServiceNotification {
			return fmt.Errorf("-rest-targets: %q is not service=address with a service of %v", kv, server.AllServices)
		}
		if c.RESTTargets == nil {
			c.RESTTargets = map[string]string{}
		}
		c.RESTTargets[name] = addr
	}
	c.Services = nil
	for _, s := range strings.Split(c.services, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.Services = append(c.Services, s)
		}
	}
	if c.webhookURL != "" {
		if u, err := url.Parse(c.webhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("-notify-webhook-url: %q is not an http(s) URL", c.webhookURL)
		}
		c.Sender = notification.NewWebhookSender(c.webhookURL, c.webhookToken)
	}
	c.Calendar = calendar.Calendar{}
	for _, d := range strings.Split(c.weeklyOff, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		found := false
		for w := time.Sunday; w <= time.Saturday; w++ {
			if strings.ToLower(w.String()) == d || strings.ToLower(w.String()[:3]) == d {
				c.Calendar.WeeklyOff = append(c.Calendar.WeeklyOff, w)
				found = true
			}
		}
		if !found {
			return fmt.Errorf("-weekly-off: unknown day %q", d)
		}
	}
	return nil
}

// calendarFromEnv is the SLA calendar of HELPLINE_WEEKLY_OFF, for commands
// without the serve flags.
func calendarFromEnv() calendar.Calendar {
	c := config{weeklyOff: env("HELPLINE_WEEKLY_OFF", "sunday"), dbMaxConns: 1}
	if err := c.finish(); err != nil {
		return calendar.Default
	}
	return c.Calendar
}

// parseSize reads a byte size such as 256MiB, 1GiB, 300MB or 1048576; "off" is 0.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size like 256MiB", s)
	}
	return n * mult, nil
}
