package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

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
	// vars are the flags also read from their environment variables.
	vars []string
}

// env is the value of the environment variable key, or def when it is
// unset or empty.
func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// envVar is the environment variable of a flag: -stream-replicas is
// HELPLINE_STREAM_REPLICAS.
func envVar(flagName string) string {
	return "HELPLINE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// DefaultDatabaseURL is the local PostgreSQL that `make run` starts.
const DefaultDatabaseURL = "postgres://helpline:helpline@127.0.0.1:5433/helpline?sslmode=disable"

// bind records that every flag registered on fs so far is also read from
// its environment variable (see applyEnv).
func (c *config) bind(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if !slices.Contains(c.vars, f.Name) {
			c.vars = append(c.vars, f.Name)
		}
	})
}

// applyEnv sets every bound flag that the command line did not give from its
// environment variable (empty counts as unset), parsing it exactly as the
// flag would: a value the flag refuses stops the command, naming the
// variable and the value.
func (c *config) applyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	for _, name := range c.vars {
		key := envVar(name)
		v, ok := os.LookupEnv(key)
		if !ok || v == "" || given[name] {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %s", key, v, expected(fs.Lookup(name))))
		}
	}
	return errors.Join(errs...)
}

// expected says what kind of value a flag takes.
func expected(f *flag.Flag) string {
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case bool:
			return "not true or false"
		case int, int64:
			return "not a whole number"
		case float64:
			return "not a number"
		case time.Duration:
			return "not a duration such as 30s, 15m or 168h"
		}
	}
	return "not a valid value"
}

// parseArgs parses the command line, then the environment variables of the
// flags it did not give.
func (c *config) parseArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return c.applyEnv(fs)
}

// flags registers the flags shared by the subcommands on fs.
func (c *config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", DefaultDatabaseURL, "PostgreSQL URL (HELPLINE_DATABASE_URL)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error (HELPLINE_LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json (HELPLINE_LOG_FORMAT)")
	fs.StringVar(&c.PublicURL, "public-url", "", "the console's address as citizens reach it, e.g. https://helpline.example.in, for the status page's QR codes; empty: each request's own (HELPLINE_PUBLIC_URL)")
	c.bind(fs)
}

// seedFlags registers the flags of `seed`.
func (c *config) seedFlags(fs *flag.FlagSet) {
	c.flags(fs)
	fs.StringVar(&c.demoPassword, "demo-password", "", "password of the demo users; random when empty (HELPLINE_DEMO_PASSWORD)")
	c.bind(fs)
}

// natsFlags registers the NATS client settings (serve, outbox replay).
func (c *config) natsFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.NATSAuth.CA, "nats-ca", "", "CA bundle (PEM) that verifies the NATS servers' TLS certificates; implies TLS (HELPLINE_NATS_CA)")
	fs.StringVar(&c.NATSAuth.Cert, "nats-cert", "", "client certificate (PEM) for NATS, with -nats-key (HELPLINE_NATS_CERT)")
	fs.StringVar(&c.NATSAuth.Key, "nats-key", "", "private key (PEM) of -nats-cert (HELPLINE_NATS_KEY)")
	fs.StringVar(&c.NATSAuth.NKeyFile, "nats-nkey", "", "file holding the NATS nkey seed (SU...) to authenticate with (HELPLINE_NATS_NKEY)")
	fs.StringVar(&c.NATSAuth.User, "nats-user", "", "NATS user; the embedded server's is helpline (HELPLINE_NATS_USER)")
	fs.StringVar(&c.NATSAuth.Password, "nats-password", "", "NATS password; for the embedded server, the password it requires (random when empty); prefer the variable, a flag shows in ps (HELPLINE_NATS_PASSWORD)")
	c.bind(fs)
}

// serveFlags registers the flags of `serve`.
func (c *config) serveFlags(fs *flag.FlagSet) {
	c.flags(fs)
	c.natsFlags(fs)
	fs.StringVar(&c.GRPCAddr, "grpc-addr", "127.0.0.1:50051", "gRPC listen address (HELPLINE_GRPC_ADDR)")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8080", "HTTP listen address for health; empty disables (HELPLINE_HTTP_ADDR)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "listen address of /metrics, which then is not on the HTTP address; empty serves it on the HTTP address (HELPLINE_METRICS_ADDR)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "certificate chain (PEM) gRPC and HTTP serve TLS with, with -tls-key; reloaded on SIGHUP and when the file changes (HELPLINE_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "private key (PEM) of -tls-cert (HELPLINE_TLS_KEY)")
	fs.StringVar(&c.TLSCA, "tls-ca", "", "CA bundle (PEM) that verifies the gRPC servers of -rest-targets; they are dialled over TLS when this is set or this process serves TLS (HELPLINE_TLS_CA)")
	fs.StringVar(&c.NATSURL, "nats-url", "", "NATS URL(s), comma separated; empty runs an embedded NATS JetStream server (HELPLINE_NATS_URL)")
	fs.StringVar(&c.NATSListen, "nats-listen", "127.0.0.1:4222", "listen address of the embedded NATS server (HELPLINE_NATS_LISTEN)")
	fs.StringVar(&c.DataDir, "data-dir", ".data/nats", "directory for the embedded NATS server's JetStream files (HELPLINE_DATA_DIR)")
	fs.StringVar(&c.services, "services", strings.Join(server.AllServices, ","), "services this process runs, comma separated (HELPLINE_SERVICES)")
	fs.BoolVar(&c.Relay, "relay", true, "run the outbox relay in this process (HELPLINE_RELAY)")
	fs.BoolVar(&c.Migrate, "migrate", true, "apply database migrations at start (HELPLINE_MIGRATE)")
	fs.BoolVar(&c.seed, "seed", false, "load demo master data and demo users at start (HELPLINE_SEED)")
	fs.StringVar(&c.demoPassword, "demo-password", "", "password of the demo users; random when empty (HELPLINE_DEMO_PASSWORD)")
	fs.IntVar(&c.dbMaxConns, "db-max-conns", 20, "PostgreSQL pool size, 1 to 1000 (HELPLINE_DB_MAX_CONNS)")
	fs.IntVar(&c.StreamReplicas, "stream-replicas", 1, "JetStream stream replicas, 1 to 5: 3 on a NATS cluster (HELPLINE_STREAM_REPLICAS)")
	fs.DurationVar(&c.Retention, "retention", 7*24*time.Hour, "how long published events and applied-event records are kept (HELPLINE_RETENTION)")
	fs.DurationVar(&c.JobInterval, "job-interval", 30*time.Second, "how often the escalation and no-response jobs run; 0 disables them in this process (HELPLINE_JOB_INTERVAL)")
	fs.IntVar(&c.Feedback.MaxAttempts, "feedback-max-attempts", 3, "failed feedback calls that close a complaint as no-response (HELPLINE_FEEDBACK_MAX_ATTEMPTS)")
	fs.IntVar(&c.Feedback.MaxDays, "feedback-max-days", 7, "days after the first failed feedback call that close it as no-response (HELPLINE_FEEDBACK_MAX_DAYS)")
	fs.StringVar(&c.webhookURL, "notify-webhook-url", "", "SMS/WhatsApp gateway URL notifications are posted to; empty: the log (HELPLINE_NOTIFY_WEBHOOK_URL)")
	fs.StringVar(&c.webhookToken, "notify-webhook-token", "", "bearer token for the gateway (HELPLINE_NOTIFY_WEBHOOK_TOKEN)")
	fs.BoolVar(&c.NATSSyncAlways, "nats-sync-always", false, "embedded JetStream fsyncs every write before acknowledging it (HELPLINE_NATS_SYNC_ALWAYS)")
	fs.IntVar(&c.MaxInFlight, "max-in-flight", 512, "RPCs served at once; more wait at most 10 ms, then get RESOURCE_EXHAUSTED (HELPLINE_MAX_IN_FLIGHT)")
	fs.StringVar(&c.memoryLimit, "memory-limit", "256MiB", "soft memory limit of the Go runtime, e.g. 256MiB or 1GiB; off for none; GOMEMLIMIT wins when set (HELPLINE_MEMORY_LIMIT)")
	fs.BoolVar(&c.Pprof, "pprof", false, "serve Go's profiler at /debug/pprof/ on the HTTP address (HELPLINE_PPROF)")
	fs.StringVar(&c.restTargets, "rest-targets", "", "gRPC addresses of services run by other processes, for this process's REST gateway and Open311: service=host:port,... (dns:///name:port balances over every address) (HELPLINE_REST_TARGETS)")
	fs.StringVar(&c.otlpEndpoint, "otlp-endpoint", "", "OpenTelemetry collector (OTLP/gRPC, host:port) traces are sent to; empty: tracing off (HELPLINE_OTLP_ENDPOINT)")
	fs.Float64Var(&c.traceRatio, "trace-ratio", 1, "share of traces kept, 0 to 1; a traced caller's are always kept (HELPLINE_TRACE_RATIO)")
	fs.StringVar(&c.weeklyOff, "weekly-off", "sunday", "weekly off days for SLA clocks, comma separated (HELPLINE_WEEKLY_OFF)")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "reverse proxies (and other Helpline processes' gateways) whose X-Forwarded-For/Forwarded and client-address metadata are believed: CIDRs or IPs, comma separated (HELPLINE_TRUSTED_PROXIES)")
	c.bind(fs)
}

// bad is the error for a setting's value: the flag, its variable and the value.
func bad(flagName, value, why string) error {
	return fmt.Errorf("-%s (%s) %q: %s", flagName, envVar(flagName), value, why)
}

// finish checks and derives what flags cannot express directly. It reports
// every bad setting at once.
func (c *config) finish() error {
	var errs []error
	fail := func(flagName, value, why string) { errs = append(errs, bad(flagName, value, why)) }
	if _, err := pgxpool.ParseConfig(c.DatabaseURL); err != nil {
		fail("database-url", c.DatabaseURL, "not a PostgreSQL URL")
	}
	if _, err := newLogger(c.logLevel, "text"); err != nil {
		fail("log-level", c.logLevel, "not debug, info, warn or error")
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		fail("log-format", c.logFormat, "neither text nor json")
	}
	if !hostPort(c.GRPCAddr) {
		fail("grpc-addr", c.GRPCAddr, "not host:port")
	}
	if c.HTTPAddr != "" && !hostPort(c.HTTPAddr) {
		fail("http-addr", c.HTTPAddr, "not host:port (or empty)")
	}
	if c.MetricsAddr != "" && !hostPort(c.MetricsAddr) {
		fail("metrics-addr", c.MetricsAddr, "not host:port (or empty)")
	}
	if c.NATSURL == "" && !hostPort(c.NATSListen) {
		fail("nats-listen", c.NATSListen, "not host:port")
	}
	for _, u := range strings.Split(c.NATSURL, ",") {
		if u = strings.TrimSpace(u); u != "" && !natsURL(u) {
			fail("nats-url", c.NATSURL, fmt.Sprintf("%q is not a NATS URL such as nats://host:4222", u))
		}
	}
	if c.dbMaxConns < 1 || c.dbMaxConns > 1000 {
		fail("db-max-conns", strconv.Itoa(c.dbMaxConns), "must be between 1 and 1000")
	}
	c.DBMaxConns = int32(c.dbMaxConns)
	if c.StreamReplicas < 1 || c.StreamReplicas > 5 {
		fail("stream-replicas", strconv.Itoa(c.StreamReplicas), "must be between 1 and 5 (JetStream's limit)")
	}
	if c.Retention <= 0 {
		fail("retention", c.Retention.String(), "must be a positive duration")
	}
	if c.JobInterval < 0 {
		fail("job-interval", c.JobInterval.String(), "must be 0 (off) or a positive duration")
	}
	if c.Feedback.MaxAttempts < 1 {
		fail("feedback-max-attempts", strconv.Itoa(c.Feedback.MaxAttempts), "must be at least 1")
	}
	if c.Feedback.MaxDays < 1 {
		fail("feedback-max-days", strconv.Itoa(c.Feedback.MaxDays), "must be at least 1")
	}
	if c.MaxInFlight < 1 {
		fail("max-in-flight", strconv.Itoa(c.MaxInFlight), "must be at least 1")
	}
	if c.traceRatio < 0 || c.traceRatio > 1 {
		fail("trace-ratio", strconv.FormatFloat(c.traceRatio, 'g', -1, 64), "must be between 0 and 1")
	}
	if c.memoryLimit != "" {
		n, err := parseSize(c.memoryLimit)
		if err != nil {
			fail("memory-limit", c.memoryLimit, "not a size such as 256MiB or 1GiB, nor off")
		}
		c.memoryBytes = n
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
			fail("public-url", c.PublicURL, "must be http(s)://host[:port], without a path")
		}
	}
	if trusted, err := clientaddr.ParseTrusted(c.trustedProxies); err != nil {
		fail("trusted-proxies", c.trustedProxies, err.Error())
	} else {
		c.TrustedProxies = trusted
	}
	c.RESTTargets = nil
	for _, kv := range strings.Split(c.restTargets, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, addr, ok := strings.Cut(kv, "=")
		if !ok || addr == "" || !slices.Contains(server.AllServices, name) || name == server.ServiceNotification {
			fail("rest-targets", c.restTargets, fmt.Sprintf("%q is not service=address with a service of %v", kv, server.AllServices))
			continue
		}
		if c.RESTTargets == nil {
			c.RESTTargets = map[string]string{}
		}
		c.RESTTargets[name] = addr
	}
	c.Services = nil
	for _, s := range strings.Split(c.services, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(server.AllServices, s) {
			fail("services", c.services, fmt.Sprintf("unknown service %q (known: %s)", s, strings.Join(server.AllServices, ",")))
		}
		c.Services = append(c.Services, s)
	}
	if len(c.Services) == 0 {
		fail("services", c.services, "names no service")
	}
	if c.webhookURL != "" {
		if u, err := url.Parse(c.webhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fail("notify-webhook-url", c.webhookURL, "not an http(s) URL")
		} else {
			c.Sender = notification.NewWebhookSender(c.webhookURL, c.webhookToken)
		}
	}
	if err := c.finishCalendar(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.finishTLS()...)
	return errors.Join(errs...)
}

// finishCalendar reads -weekly-off into the SLA calendar.
func (c *config) finishCalendar() error {
	c.Calendar = calendar.Calendar{}
	for _, d := range strings.Split(c.weeklyOff, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		found := false
		for w := time.Sunday; w <= time.Saturday; w++ {
			if strings.ToLower(w.String()) == d || strings.ToLower(w.String()[:3]) == d {
				if !slices.Contains(c.Calendar.WeeklyOff, w) {
					c.Calendar.WeeklyOff = append(c.Calendar.WeeklyOff, w)
				}
				found = true
			}
		}
		if !found {
			return bad("weekly-off", c.weeklyOff, fmt.Sprintf("unknown day %q", d))
		}
	}
	if len(c.Calendar.WeeklyOff) == 7 {
		return bad("weekly-off", c.weeklyOff, "every day of the week is off: no SLA clock could ever run")
	}
	return nil
}

// finishTLS checks the TLS and NATS credential files: pairs given together,
// every file readable and of the right kind.
func (c *config) finishTLS() []error {
	var errs []error
	pair := func(certFlag, cert, keyFlag, key string) {
		switch {
		case cert == "" && key == "":
		case cert == "" || key == "":
			errs = append(errs, fmt.Errorf("-%s (%s) and -%s (%s): give both or neither", certFlag, envVar(certFlag), keyFlag, envVar(keyFlag)))
		default:
			if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
				errs = append(errs, fmt.Errorf("-%s %q, -%s %q: %v", certFlag, cert, keyFlag, key, err))
			}
		}
	}
	ca := func(flagName, file string) {
		if file == "" {
			return
		}
		if _, err := loadCA(file); err != nil {
			errs = append(errs, bad(flagName, file, err.Error()))
		}
	}
	pair("tls-cert", c.TLSCert, "tls-key", c.TLSKey)
	ca("tls-ca", c.TLSCA)
	pair("nats-cert", c.NATSAuth.Cert, "nats-key", c.NATSAuth.Key)
	ca("nats-ca", c.NATSAuth.CA)
	if c.NATSAuth.NKeyFile != "" {
		if _, err := os.Stat(c.NATSAuth.NKeyFile); err != nil {
			errs = append(errs, bad("nats-nkey", c.NATSAuth.NKeyFile, "cannot be read"))
		} else if c.NATSAuth.User != "" || c.NATSAuth.Password != "" {
			errs = append(errs, errors.New("-nats-nkey and -nats-user/-nats-password: give one way to authenticate to NATS"))
		}
	}
	if c.NATSURL != "" && (c.NATSAuth.User == "") != (c.NATSAuth.Password == "") {
		errs = append(errs, errors.New("-nats-user (HELPLINE_NATS_USER) and -nats-password (HELPLINE_NATS_PASSWORD): give both or neither for a NATS server of -nats-url"))
	}
	return errs
}

// loadCA reads a PEM file of one or more CA certificates.
func loadCA(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, errors.New("cannot be read")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.New("holds no PEM certificate")
	}
	return pool, nil
}

// hostPort reports whether s is host:port with a numeric port.
func hostPort(s string) bool {
	_, p, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

// natsURL reports whether s is a NATS server URL (nats://, tls://, ws://,
// wss://) or host:port.
func natsURL(s string) bool {
	if !strings.Contains(s, "://") {
		return hostPort(s)
	}
	u, err := url.Parse(s)
	return err == nil && u.Host != "" && slices.Contains([]string{"nats", "tls", "ws", "wss"}, u.Scheme)
}

// calendarFromEnv is the SLA calendar of HELPLINE_WEEKLY_OFF, for commands
// without the serve flags.
func calendarFromEnv() (calendar.Calendar, error) {
	c := config{weeklyOff: env("HELPLINE_WEEKLY_OFF", "sunday")}
	if err := c.finishCalendar(); err != nil {
		return calendar.Calendar{}, err
	}
	return c.Calendar, nil
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
