// Package server wires the services into one process: the database pool,
// NATS (embedded or remote), the gRPC server with its interceptors, the
// outbox relay and the event consumers.
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/auth"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clientaddr"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/console"
	"github.com/helpline/helpline/internal/consumer"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/gateway"
	"github.com/helpline/helpline/internal/metrics"
	"github.com/helpline/helpline/internal/natsbus"
	"github.com/helpline/helpline/internal/open311"
	"github.com/helpline/helpline/internal/outbox"
	"github.com/helpline/helpline/internal/password"
	"github.com/helpline/helpline/internal/rpccodec"
	"github.com/helpline/helpline/internal/telemetry"
	"github.com/helpline/helpline/services/identity"
	"github.com/helpline/helpline/services/intake"
	"github.com/helpline/helpline/services/notification"
	"github.com/helpline/helpline/services/resolution"
	"github.com/helpline/helpline/services/routing"
	"github.com/helpline/helpline/services/satisfaction"
	"github.com/helpline/helpline/services/stats"
)

// Services that a process can run.
const (
	ServiceIdentity     = "identity"
	ServiceIntake       = "intake"
	ServiceRouting      = "routing"
	ServiceResolution   = "resolution"
	ServiceSatisfaction = "satisfaction"
	ServiceNotification = "notification"
	ServiceStats        = "stats"
)

// AllServices is the default: every service in one process.
var AllServices = []string{ServiceIdentity, ServiceIntake, ServiceRouting, ServiceResolution, ServiceSatisfaction, ServiceNotification, ServiceStats}

// Config is what a server process needs.
type Config struct {
	GRPCAddr    string
	HTTPAddr    string
	DatabaseURL string
	DBMaxConns  int32
	// NATSURL is a NATS server or cluster to use; empty starts an embedded one.
	NATSURL string
	// NATSListen is where the embedded NATS server listens.
	NATSListen string
	// DataDir holds the embedded NATS server's JetStream files.
	DataDir string
	// Services to run (RPCs and their consumers).
	Services []string
	// Relay runs the outbox relay in this process.
	Relay bool
	// Migrate applies migrations at start.
	Migrate        bool
	StreamReplicas int
	// Retention is how long published outbox rows and applied-event records are kept.
	Retention time.Duration
	Calendar  calendar.Calendar
	// Clock is the domain clock; nil means the wall clock.
	Clock clock.Clock
	// Password is the argon2id cost; zero means password.Default.
	Password password.Params
	// Identity tunes logins; zero means identity.DefaultConfig.
	Identity identity.Config
	// JobInterval is how often the escalation and no-response jobs run; zero disables them here.
	JobInterval time.Duration
	// Feedback is the no-response rule; zero means satisfaction.DefaultConfig.
	Feedback satisfaction.Config
	// Sender delivers notifications; nil logs them (the notifications table is the record).
	Sender notification.Sender
	// NotifyRetryBase is the first notification retry's delay; zero means two seconds.
	NotifyRetryBase time.Duration
	// Grades is the department grading formula; zero means stats.DefaultGrades.
	Grades stats.GradeConfig
	// NATSSyncAlways makes the embedded JetStream fsync every write.
	NATSSyncAlways bool
	// MaxInFlight bounds the RPCs served at once; more wait at most 10 ms
	// and are then refused RESOURCE_EXHAUSTED. Zero means 512.
	MaxInFlight int
	// StreamStall is how long a server stream's send (gRPC) or a streaming
	// REST answer's write may wait for a client that does not read before
	// the stream is cut; zero means DefaultStreamStall.
	StreamStall time.Duration
	// Pprof serves Go's profiler at /debug/pprof/ on the HTTP address.
	Pprof bool
	// MetricsAddr, when set, is the listen address of /metrics, which is
	// then not served on HTTPAddr (keep it off the public address).
	MetricsAddr string
	// RESTTargets are the gRPC addresses (host:port or dns:///name:port) of
	// services this process does not run, by service name, so that its REST
	// gateway and Open311 serve them too.
	RESTTargets map[string]string
	// TrustedProxies are the reverse proxies (and other Helpline processes'
	// gateways) whose X-Forwarded-For/Forwarded headers and whose
	// x-helpline-client-address gRPC metadata are believed.
	TrustedProxies []netip.Prefix
	// PublicURL is the console's address as citizens reach it (scheme and
	// host, e.g. https://helpline.example.in), for the status page's QR
	// codes; empty: derived from each request.
	PublicURL string
	// TLSCert and TLSKey are PEM files; when set, gRPC and HTTP serve TLS,
	// reloading the pair when the files change (checked every TLSWatch, zero
	// means 10 s) and on ReloadTLS.
	TLSCert, TLSKey string
	TLSWatch        time.Duration
	// TLSCA is a PEM bundle verifying the gRPC servers of RESTTargets. They
	// are dialled over TLS when it is set or this process serves TLS (with
	// the system's roots when it is empty).
	TLSCA string
	// NATSAuth is how this process authenticates to NATSURL. With the
	// embedded server, NATSAuth.User (default "helpline") and
	// NATSAuth.Password are the credentials it requires; an empty password
	// is replaced by a random one written to DataDir/nats-password (0600).
	NATSAuth natsbus.ClientAuth
}

// EmbeddedNATSUser is the embedded NATS server's user when Config.NATSAuth.User is empty.
const EmbeddedNATSUser = "helpline"

// Server is a running process.
type Server struct {
	GRPCAddr net.Addr
	HTTPAddr net.Addr
	// MetricsAddr is where /metrics is served on its own (nil: on HTTPAddr).
	MetricsAddr net.Addr
	// NATSURL is where this process's NATS is (the embedded one's client URL when embedded).
	NATSURL string
	// NATSUser is the embedded NATS server's user, and NATSPasswordFile
	// the file holding its generated password (empty when the password was
	// configured); both empty with an external NATS.
	NATSUser, NATSPasswordFile string
	// TLS reports whether gRPC and HTTP serve TLS.
	TLS bool

	log         *slog.Logger
	pool        *pgxpool.Pool
	nc          *nats.Conn
	embedded    *natsserver.Server
	grpc        *grpc.Server
	conns       []*grpc.ClientConn // the REST gateway's, to this process and others
	metrics     *metrics.Metrics
	http        *http.Server
	metricsHTTP *http.Server // nil unless Config.MetricsAddr
	health      *health.Server
	limit       *limiter
	cert        *certificate // nil without TLS
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	errs        chan error
}

// Start brings the process up and returns once it serves.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (_ *Server, err error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if len(cfg.Services) == 0 {
		cfg.Services = AllServices
	}
	for _, s := range cfg.Services {
		if !slices.Contains(AllServices, s) {
			return nil, fmt.Errorf("unknown service %q (known: %v)", s, AllServices)
		}
	}
	if err := cfg.Calendar.Validate(); err != nil {
		return nil, err
	}
	s := &Server{log: log, errs: make(chan error, 4)}
	defer func() {
		if err != nil {
			s.close()
		}
	}()

	if s.pool, err = db.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns); err != nil {
		return nil, err
	}
	if cfg.Migrate {
		if err = db.Migrate(ctx, s.pool, log); err != nil {
			return nil, err
		}
	}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		if s.cert, err = newCertificate(cfg.TLSCert, cfg.TLSKey, log.With("component", "tls")); err != nil {
			return nil, err
		}
		s.TLS = true
	}
	s.NATSURL = cfg.NATSURL
	natsAuth := cfg.NATSAuth
	if s.NATSURL == "" {
		if natsAuth, err = s.embeddedAuth(cfg); err != nil {
			return nil, err
		}
		if s.embedded, err = natsbus.Embedded(cfg.NATSListen, cfg.DataDir, cfg.NATSSyncAlways, natsAuth); err != nil {
			return nil, err
		}
		s.NATSURL = s.embedded.ClientURL()
		log.Info("embedded NATS JetStream started", "url", s.NATSURL, "store", cfg.DataDir, "user", s.NATSUser)
	}
	if s.nc, err = natsbus.Connect(s.NATSURL, "helpline", natsAuth, log); err != nil {
		return nil, err
	}
	js, err := jetstream.New(s.nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	streamCtx, cancelStream := context.WithTimeout(ctx, 30*time.Second)
	_, err = natsbus.EnsureStream(streamCtx, js, natsbus.StreamOptions{
		// The relay republishes after a crash within seconds; JetStream
		// keeps every id of the window in memory (about 100 bytes each, 4,000
		// a second at full load), and consumers drop redeliveries by event
		// id anyway: two minutes is plenty.
		Replicas: cfg.StreamReplicas, Duplicates: 2 * time.Minute, MaxAge: cfg.Retention,
	})
	cancelStream()
	if err != nil {
		return nil, err
	}

	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	relay := outbox.NewRelay(s.pool, js, cfg.Clock, log.With("component", "relay"), outbox.RelayConfig{})
	wake := relay.Wake
	if cfg.Relay {
		s.goRun(func() { _ = relay.Run(bg) })
		s.goRun(func() { outbox.RunPurge(bg, s.pool, cfg.Clock, log, cfg.Retention, time.Minute) })
	}

	authn := auth.NewAuthenticator(s.pool, cfg.Clock, log)
	s.goRun(func() { authn.Run(bg) })
	for wait := time.Now().Add(5 * time.Second); !authn.Caching() && time.Now().Before(wait); {
		time.Sleep(5 * time.Millisecond) // serve with the token cache from the first call
	}
	limit := newLimiter(cfg.MaxInFlight)
	stall := cfg.StreamStall
	if stall <= 0 {
		stall = DefaultStreamStall
	}
	s.limit = limit
	addrs := clientaddr.NewResolver(cfg.TrustedProxies)
	s.metrics = metrics.New(s.pool, js, cfg.Clock, log)
	var serverOpts []grpc.ServerOption
	if s.cert != nil {
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(s.cert.serverConfig())))
		watch := cfg.TLSWatch
		if watch <= 0 {
			watch = 10 * time.Second
		}
		s.goRun(func() { s.cert.Watch(bg, watch) })
	}
	s.grpc = grpc.NewServer(append(serverOpts,
		grpc.ForceServerCodec(rpccodec.Codec{MaxSize: MaxBody}),
		grpc.MaxRecvMsgSize(maxWire),
		// Connections: a bounded number of streams each, pings no more than
		// every 10 s, and recycled when idle or old (streams in flight get
		// a grace period).
		grpc.MaxConcurrentStreams(maxStreamsPerConn),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 15 * time.Minute, MaxConnectionAge: 30 * time.Minute,
			MaxConnectionAgeGrace: 5 * time.Minute}),
		// A span per call, continuing the caller's trace (W3C traceparent in the metadata).
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithPropagators(telemetry.Propagator))),
		grpc.ChainUnaryInterceptor(rpccodec.UnaryCollector(), s.metrics.UnaryInterceptor(), addrs.Unary(), apperr.UnaryInterceptor(log), limit.unary, caller.UnaryInterceptor(authn.Resolve), rpccodec.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(rpccodec.StreamCollector(), s.metrics.StreamInterceptor(), addrs.Stream(), apperr.StreamInterceptor(log), limit.stream, caller.StreamInterceptor(authn.Resolve), limit.perUser, stallGuard(stall)),
	)...)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)

	var consumers []consumer.Config
	var routingHere helplinev1.RoutingServiceServer
	if cfg.Password == (password.Params{}) {
		cfg.Password = password.Default
	}
	hasher := password.NewHasher(cfg.Password, runtime.NumCPU())
	if slices.Contains(cfg.Services, ServiceIdentity) {
		if cfg.Identity == (identity.Config{}) {
			cfg.Identity = identity.DefaultConfig
		}
		ids := identity.New(s.pool, hasher, cfg.Clock, log.With("service", "identity"), cfg.Identity)
		helplinev1.RegisterIdentityServiceServer(s.grpc, ids)
		s.goRun(func() { ids.RunPurge(bg, time.Minute) })
	}
	if slices.Contains(cfg.Services, ServiceResolution) {
		rs := resolution.New(s.pool, cfg.Clock, cfg.Calendar, log.With("service", "resolution"), wake)
		helplinev1.RegisterResolutionServiceServer(s.grpc, rs)
		if cfg.JobInterval > 0 {
			s.goRun(func() { rs.RunEscalation(bg, cfg.JobInterval) })
		}
	}
	if slices.Contains(cfg.Services, ServiceSatisfaction) {
		ss := satisfaction.New(s.pool, cfg.Clock, cfg.Calendar, log.With("service", "satisfaction"), wake, cfg.Feedback)
		helplinev1.RegisterSatisfactionServiceServer(s.grpc, ss)
		consumers = append(consumers, ss.QueueConfig())
		if cfg.JobInterval > 0 {
			s.goRun(func() { ss.RunNoResponse(bg, cfg.JobInterval) })
		}
	}
	if slices.Contains(cfg.Services, ServiceNotification) {
		sender := cfg.Sender
		if sender == nil {
			sender = notification.LogSender{Log: log.With("service", "notification")}
		}
		n := notification.New(s.pool, cfg.Clock, sender, log.With("service", "notification"))
		if cfg.NotifyRetryBase > 0 {
			n.RetryBase = cfg.NotifyRetryBase
		}
		consumers = append(consumers, n.ConsumerConfig())
		s.goRun(func() { n.RunDispatcher(bg, time.Second) })
	}
	if slices.Contains(cfg.Services, ServiceStats) {
		st := stats.New(s.pool, cfg.Clock, cfg.Calendar, log.With("service", "stats"), cfg.Grades)
		helplinev1.RegisterStatsServiceServer(s.grpc, st)
		consumers = append(consumers, st.ConsumerConfig())
		if cfg.JobInterval > 0 {
			s.goRun(func() { st.RunFreezer(bg, cfg.JobInterval) })
		}
	}
	if slices.Contains(cfg.Services, ServiceIntake) {
		is := intake.New(s.pool, cfg.Clock, cfg.Calendar, log.With("service", "intake"), wake)
		helplinev1.RegisterIntakeServiceServer(s.grpc, is)
		s.goRun(func() { is.Run(bg) })
	}
	if slices.Contains(cfg.Services, ServiceRouting) {
		rs := routing.New(s.pool, cfg.Clock, cfg.Calendar, log.With("service", "routing"), wake)
		rs.Hasher = hasher
		routingHere = rs
		helplinev1.RegisterRoutingServiceServer(s.grpc, rs)
		consumers = append(consumers, rs.RouterConfig())
	}
	for _, cc := range consumers {
		c := consumer.New(cc, s.pool, js, cfg.Clock, log)
		s.goRun(func() { _ = c.Run(bg) })
	}

	lis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return nil, fmt.Errorf("listen grpc %s: %w", cfg.GRPCAddr, err)
	}
	s.GRPCAddr = lis.Addr()
	s.goRun(func() {
		if err := s.grpc.Serve(lis); err != nil {
			s.errs <- fmt.Errorf("grpc: %w", err)
		}
	})
	if cfg.HTTPAddr != "" {
		hl, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return nil, fmt.Errorf("listen http %s: %w", cfg.HTTPAddr, err)
		}
		s.HTTPAddr = hl.Addr()
		conns, err := s.restConns(cfg)
		if err != nil {
			return nil, err
		}
		rest, err := gateway.New(bg, conns, cfg.TrustedProxies)
		if err != nil {
			return nil, err
		}
		civic := open311.New(conns[helplinev1.IntakeService_ServiceDesc.ServiceName], conns[helplinev1.RoutingService_ServiceDesc.ServiceName],
			conns[helplinev1.IdentityService_ServiceDesc.ServiceName], routingHere, log.With("component", "open311"), cfg.Clock.Now, cfg.TrustedProxies)
		ui := console.New(conns[helplinev1.IdentityService_ServiceDesc.ServiceName], s.nc, console.StatusFromDB(s.pool), log.With("component", "console"), cfg.TrustedProxies, cfg.PublicURL)
		s.goRun(func() { ui.Run(bg) })
		s.http = &http.Server{Handler: s.httpHandler(cfg.Pprof, cfg.MetricsAddr == "", writeDeadline(stall, rest), civic, ui), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: time.Minute, MaxHeaderBytes: 64 << 10}
		s.http.RegisterOnShutdown(ui.Close)
		serveHTTP := s.http.Serve
		if s.cert != nil {
			// ServeTLS adds h2 and http/1.1 to the configuration's protocols.
			s.http.TLSConfig = s.cert.serverConfig()
			serveHTTP = func(l net.Listener) error { return s.http.ServeTLS(l, "", "") }
		}
		s.goRun(func() {
			if err := serveHTTP(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.errs <- fmt.Errorf("http: %w", err)
			}
		})
	}
	if cfg.MetricsAddr != "" {
		ml, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return nil, fmt.Errorf("listen metrics %s: %w", cfg.MetricsAddr, err)
		}
		s.MetricsAddr = ml.Addr()
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.metrics.Handler())
		s.metricsHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
		s.goRun(func() {
			if err := s.metricsHTTP.Serve(ml); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.errs <- fmt.Errorf("metrics http: %w", err)
			}
		})
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for name := range s.grpc.GetServiceInfo() {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	return s, nil
}

func (s *Server) goRun(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Errors reports a listener that failed while serving.
func (s *Server) Errors() <-chan error { return s.errs }

// Methods lists the full names of every RPC this process serves.
func (s *Server) Methods() []string {
	var out []string
	for svc, info := range s.grpc.GetServiceInfo() {
		for _, m := range info.Methods {
			out = append(out, "/"+svc+"/"+m.Name)
		}
	}
	slices.Sort(out)
	return out
}

// Pool is the process's database pool.
func (s *Server) Pool() *pgxpool.Pool { return s.pool }

// MaxBody is the one size limit of a request, the same for a gRPC message
// and a REST or Open311 body (a master data import of 100,000 rows fits).
// Over it, gRPC answers INVALID_ARGUMENT and REST and Open311 answer 413,
// naming the body.
const MaxBody = 16 << 20

// maxStreamsPerConn bounds the concurrent streams of one gRPC connection
// (the REST gateway's own connection carries every REST call).
const maxStreamsPerConn = 1024

// maxWire is gRPC's own limit on a received message, above MaxBody so that
// the codec answers INVALID_ARGUMENT up to it; only a message larger still
// is cut off by gRPC itself (RESOURCE_EXHAUSTED) without being read.
const maxWire = 2 * MaxBody

// limitBody reads a request body of at most MaxBody bytes before h sees
// it; a larger one is answered 413 naming the body, in Open311's error
// format when open311 is set, else as a google.rpc.Status.
func limitBody(open311 bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBody {
			tooLarge(w, open311)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				tooLarge(w, open311)
				return
			}
			if err != nil {
				http.Error(w, "the request body could not be read", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		h.ServeHTTP(w, r)
	})
}

// tooLarge answers 413 for a body over MaxBody.
func tooLarge(w http.ResponseWriter, open311 bool) {
	msg := "body: is larger than " + rpccodec.Size(MaxBody)
	var v any = map[string]any{"code": int(codes.InvalidArgument), "message": msg, "details": []any{}}
	if open311 {
		v = []map[string]any{{"code": http.StatusRequestEntityTooLarge, "description": msg}}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_ = json.NewEncoder(w).Encode(v)
}

// traced continues an HTTP caller's trace (a W3C traceparent header) into
// the gRPC calls the handler makes.
func traced(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(telemetry.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))))
	})
}

// rpcServices maps the names of the services with RPCs to their gRPC names.
var rpcServices = map[string]string{
	ServiceIdentity:     helplinev1.IdentityService_ServiceDesc.ServiceName,
	ServiceIntake:       helplinev1.IntakeService_ServiceDesc.ServiceName,
	ServiceRouting:      helplinev1.RoutingService_ServiceDesc.ServiceName,
	ServiceResolution:   helplinev1.ResolutionService_ServiceDesc.ServiceName,
	ServiceSatisfaction: helplinev1.SatisfactionService_ServiceDesc.ServiceName,
	ServiceStats:        helplinev1.StatsService_ServiceDesc.ServiceName,
}

// restConns connects the REST gateway and Open311 to every service: those
// of this process over loopback, the others at their RESTTargets (round
// robin over every address a DNS name gives). Services with neither are
// not served over REST here.
func (s *Server) restConns(cfg Config) (map[string]*grpc.ClientConn, error) {
	opts := []grpc.DialOption{
		// The gateway passes on a body of up to MaxBody; the server judges it.
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(maxWire), grpc.MaxCallRecvMsgSize(maxWire)),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithPropagators(telemetry.Propagator))),
	}
	// Only this connection carries the process's secret: the server believes
	// the client addresses its calls name.
	localCreds, remoteCreds := insecure.NewCredentials(), insecure.NewCredentials()
	if s.cert != nil {
		localCreds = credentials.NewTLS(s.cert.loopbackConfig())
	}
	if s.cert != nil || cfg.TLSCA != "" {
		remote := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.TLSCA != "" {
			b, err := os.ReadFile(cfg.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("tls ca: %w", err)
			}
			remote.RootCAs = x509.NewCertPool()
			if !remote.RootCAs.AppendCertsFromPEM(b) {
				return nil, fmt.Errorf("tls ca %s: no PEM certificate in it", cfg.TLSCA)
			}
		}
		remoteCreds = credentials.NewTLS(remote)
	}
	local, err := grpc.NewClient(loopback(s.GRPCAddr), append(append(opts, grpc.WithTransportCredentials(localCreds)), clientaddr.OwnConnection()...)...)
	if err != nil {
		return nil, fmt.Errorf("rest gateway: %w", err)
	}
	s.conns = append(s.conns, local)
	byTarget := map[string]*grpc.ClientConn{}
	out := map[string]*grpc.ClientConn{}
	for short, full := range rpcServices {
		if slices.Contains(cfg.Services, short) {
			out[full] = local
			continue
		}
		target, ok := cfg.RESTTargets[short]
		if !ok {
			continue
		}
		if byTarget[target] == nil {
			c, err := grpc.NewClient(target, append(opts, grpc.WithTransportCredentials(remoteCreds), grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`))...)
			if err != nil {
				return nil, fmt.Errorf("rest gateway: %s at %s: %w", short, target, err)
			}
			byTarget[target] = c
			s.conns = append(s.conns, c)
		}
		out[full] = byTarget[target]
	}
	return out, nil
}

// ReloadTLS reads the certificate and key files again (on SIGHUP); on an
// error the served pair stays, and the error is logged and returned.
// Without TLS it does nothing.
func (s *Server) ReloadTLS() error {
	if s.cert == nil {
		return nil
	}
	return s.cert.reloadAndLog("reload requested")
}

// embeddedAuth is the user and password the embedded NATS server requires:
// the configured ones, or user helpline with a random password, written to
// DataDir/nats-password (mode 0600) for other processes on this machine
// (helpline outbox replay).
func (s *Server) embeddedAuth(cfg Config) (natsbus.ClientAuth, error) {
	a := natsbus.ClientAuth{User: cfg.NATSAuth.User, Password: cfg.NATSAuth.Password}
	if a.User == "" {
		a.User = EmbeddedNATSUser
	}
	s.NATSUser = a.User
	if a.Password != "" {
		return a, nil
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return a, err
	}
	a.Password = base64.RawURLEncoding.EncodeToString(b)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return a, fmt.Errorf("nats data dir: %w", err)
	}
	s.NATSPasswordFile = filepath.Join(cfg.DataDir, "nats-password")
	_ = os.Remove(s.NATSPasswordFile) // a file of another mode is replaced, not reused
	if err := os.WriteFile(s.NATSPasswordFile, []byte(a.Password+"\n"), 0o600); err != nil {
		return a, fmt.Errorf("nats password file: %w", err)
	}
	return a, nil
}

// loopback is the address this process dials to reach its own gRPC server.
func loopback(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		_, port, _ := net.SplitHostPort(a.String())
		return net.JoinHostPort("127.0.0.1", port)
	}
	return tcp.String()
}

func (s *Server) httpHandler(profiler, metricsHere bool, rest http.Handler, civic *open311.Handler, ui *console.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", limitBody(false, traced(rest)))
	mux.HandleFunc("GET /openapi.json", gateway.ServeOpenAPI)
	civicMux := http.NewServeMux()
	civic.Register(civicMux)
	mux.Handle("/open311/", limitBody(true, traced(civicMux)))
	if metricsHere {
		mux.Handle("GET /metrics", s.metrics.Handler())
	}
	ui.Register(mux)
	// /healthz: the process is alive (200 whatever its dependencies say, so
	// an orchestrator does not restart it for a database outage), with the
	// state of PostgreSQL and NATS in the body; /readyz: 503 unless both answer
	// and no call was refused for lack of budget within the last second.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, body := s.dependencies(r.Context())
		_, _ = w.Write([]byte(body))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ok, body := s.dependencies(r.Context())
		if s.limit.busy() {
			ok, body = false, body+"busy: refusing calls for lack of budget\n"
		}
		if !ok {
			http.Error(w, body, http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n" + body))
	})
	if profiler {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// dependencies reports whether PostgreSQL answers a ping and NATS is
// connected, one line each.
func (s *Server) dependencies(ctx context.Context) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	pg, nc := "postgresql: ok", "nats: ok"
	ok := true
	if err := s.pool.Ping(ctx); err != nil {
		pg, ok = "postgresql: unreachable", false
	}
	if !s.nc.IsConnected() {
		nc, ok = "nats: "+strings.ToLower(s.nc.Status().String()), false
	}
	return ok, pg + "\n" + nc + "\n"
}

// Shutdown stops serving gracefully: no new calls, in-flight calls finish,
// background jobs stop after their current batch.
func (s *Server) Shutdown(ctx context.Context) {
	if s.health != nil {
		s.health.Shutdown()
	}
	if s.grpc != nil {
		done := make(chan struct{})
		go func() {
			s.grpc.GracefulStop()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			s.grpc.Stop()
		}
	}
	if s.http != nil {
		_ = s.http.Shutdown(ctx)
	}
	if s.metricsHTTP != nil {
		_ = s.metricsHTTP.Shutdown(ctx)
	}
	s.close()
}

func (s *Server) close() {
	if s.cancel != nil {
		s.cancel()
	}
	if s.grpc != nil {
		s.grpc.Stop()
	}
	if s.http != nil {
		_ = s.http.Close()
	}
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.wg.Wait()
	if s.nc != nil {
		_ = s.nc.Drain()
		s.nc.Close()
	}
	if s.embedded != nil {
		s.embedded.Shutdown()
		s.embedded.WaitForShutdown()
	}
	if s.pool != nil {
		s.pool.Close()
	}
}
