package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
)

// loadConfig is the `load` subcommand's flags.
type loadConfig struct {
	server        string
	adminURL      string
	grpcAddr      string
	httpAddr      string
	natsAddr      string
	step          time.Duration
	concurrency   []int
	rate          int
	rateFor       time.Duration
	lifecycleFor  time.Duration
	lifecycleW    int
	history       int
	stored        int
	burstFor      time.Duration
	queries       int
	out           string
	serverLog     string
	pgbenchBinary string
	services      string
}

func (c *loadConfig) parse(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&c.server, "server", "bin/helpline", "the helpline binary to start as the server under test")
	fs.StringVar(&c.adminURL, "admin-url", "postgres://postgres@127.0.0.1:5435/postgres?sslmode=disable", "superuser URL of the benchmark PostgreSQL cluster")
	fs.StringVar(&c.grpcAddr, "grpc-addr", "127.0.0.1:50071", "gRPC address for the server under test")
	fs.StringVar(&c.httpAddr, "http-addr", "127.0.0.1:8071", "HTTP address for the server under test")
	fs.StringVar(&c.natsAddr, "nats-addr", "127.0.0.1:4271", "embedded NATS address of the server under test")
	fs.DurationVar(&c.step, "step", 10*time.Second, "length of each intake step")
	conc := fs.String("concurrency", "1,16,64,256", "concurrent agents of the intake steps")
	fs.IntVar(&c.rate, "rate", 1000, "complaints per second of the register→assigned latency run")
	fs.DurationVar(&c.rateFor, "rate-for", time.Minute, "length of the register→assigned latency run")
	fs.DurationVar(&c.lifecycleFor, "lifecycle-for", 30*time.Second, "length of the full-lifecycle run")
	fs.IntVar(&c.lifecycleW, "lifecycle-workers", 64, "concurrent full lifecycles")
	fs.IntVar(&c.history, "history", 604557, "complaints of the whole-history run (registered through gRPC and routed); 0 skips it")
	fs.IntVar(&c.stored, "stored", 1_000_000, "complaints stored for the query latencies (topped up in SQL); 0 skips them")
	fs.DurationVar(&c.burstFor, "burst-for", 30*time.Second, "length of the burst at 4× the sustainable intake rate; 0 skips it")
	fs.IntVar(&c.queries, "queries", 200, "calls per query for the query latencies")
	fs.StringVar(&c.out, "out", "bench/results.json", "where the JSON results are written")
	fs.StringVar(&c.serverLog, "server-log", "bench/server.log", "where the server's log is written")
	fs.StringVar(&c.services, "services", "", "services the server under test runs (default: all; for experiments)")
	fs.StringVar(&c.pgbenchBinary, "pgbench", "", "pgbench binary (default: the newest under /usr/lib/postgresql)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(*conc, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(s), &n); err != nil || n < 1 {
			return fmt.Errorf("-concurrency: bad value %q", s)
		}
		c.concurrency = append(c.concurrency, n)
	}
	return nil
}

// results is everything the run measured; it is printed as a table and
// written as JSON.
type results struct {
	Machine    string          `json:"machine"`
	StartedAt  time.Time       `json:"started_at"`
	Intake     []intakeStep    `json:"intake"`
	Raw        []rawStep       `json:"raw_postgresql"`
	Assigned   *latencyRun     `json:"register_to_assigned,omitempty"`
	Lifecycles *lifecycleRun   `json:"lifecycles,omitempty"`
	History    *historyRun     `json:"history,omitempty"`
	Queries    []queryLatency  `json:"queries,omitempty"`
	Burst      *burstRun       `json:"burst,omitempty"`
	Logins     int             `json:"logins"`
	PeakRSSMB  float64         `json:"server_peak_rss_mb"`
	Notes      []string        `json:"notes,omitempty"`
	Ratios     map[int]float64 `json:"intake_over_raw"`
}

type intakeStep struct {
	Agents    int     `json:"agents"`
	OK        int64   `json:"ok"`
	Errors    int64   `json:"errors"`
	PerSecond float64 `json:"per_second"`
	MedianMS  float64 `json:"median_ms"`
	P99MS     float64 `json:"p99_ms"`
	DrainS    float64 `json:"routing_drain_s"`
	KeptUp    bool    `json:"routing_kept_up"`
}

type rawStep struct {
	Clients   int     `json:"clients"`
	PerSecond float64 `json:"per_second"`
	MedianMS  float64 `json:"median_ms"`
	P99MS     float64 `json:"p99_ms"`
}

type latencyRun struct {
	Rate      int     `json:"target_per_second"`
	Achieved  float64 `json:"achieved_per_second"`
	Seconds   float64 `json:"seconds"`
	Count     int     `json:"assigned"`
	Missing   int     `json:"not_assigned"`
	Errors    int64   `json:"errors"`
	MedianMS  float64 `json:"median_ms"`
	P99MS     float64 `json:"p99_ms"`
	MaxMS     float64 `json:"max_ms"`
	RegP99MS  float64 `json:"register_p99_ms"`
	Unhandled int64   `json:"late_starts"`
}

type lifecycleRun struct {
	Workers   int     `json:"workers"`
	Completed int64   `json:"completed"`
	Errors    int64   `json:"errors"`
	PerSecond float64 `json:"per_second"`
	MedianMS  float64 `json:"median_ms"`
	P99MS     float64 `json:"p99_ms"`
}

type historyRun struct {
	Complaints int     `json:"complaints"`
	Errors     int64   `json:"errors"`
	Seconds    float64 `json:"seconds_registered_and_routed"`
	PerSecond  float64 `json:"per_second"`
}

type queryLatency struct {
	Query    string  `json:"query"`
	Grouping string  `json:"grouping,omitempty"`
	Rows     int     `json:"rows"`
	MedianMS float64 `json:"median_ms"`
	P99MS    float64 `json:"p99_ms"`
}

type burstRun struct {
	Rate          int     `json:"rate_per_second"`
	Seconds       float64 `json:"seconds"`
	Sent          int64   `json:"sent"`
	OK            int64   `json:"ok"`
	OKP99MS       float64 `json:"ok_p99_ms"`
	OKMaxMS       float64 `json:"ok_max_ms"`
	Refused       int64   `json:"refused"`
	RefusedP99MS  float64 `json:"refused_p99_ms"`
	RefusedMaxMS  float64 `json:"refused_max_ms"`
	Other         int64   `json:"other_errors"`
	SlowRefusals  int64   `json:"refusals_over_50ms"`
	LostAcked     int64   `json:"acknowledged_but_missing"`
	OtherExamples string  `json:"other_example,omitempty"`
}

// runLoad is `helpline-bench load`.
func runLoad(ctx context.Context, args []string) error {
	var cfg loadConfig
	if err := cfg.parse(args); err != nil {
		return err
	}
	res := &results{StartedAt: time.Now().UTC(), Machine: machine(), Ratios: map[int]float64{}}
	for _, p := range []string{cfg.out, cfg.serverLog} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
	}

	// The raw PostgreSQL limit, in a database of its own with the same schema.
	rawURL, err := freshDatabase(ctx, cfg.adminURL, "helpline_raw")
	if err != nil {
		return err
	}
	if res.Raw, err = runPgbench(ctx, cfg, rawURL); err != nil {
		return fmt.Errorf("pgbench: %w", err)
	}

	dbURL, err := freshDatabase(ctx, cfg.adminURL, "helpline_load")
	if err != nil {
		return err
	}
	srv, err := startServer(ctx, cfg, dbURL)
	if err != nil {
		return err
	}
	defer srv.stop()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()

	b, err := newBench(ctx, cfg, pool)
	if err != nil {
		return err
	}
	defer b.close()
	res.Logins = b.logins

	progress("intake steps")
	for _, c := range cfg.concurrency {
		st, err := b.intakeStep(ctx, c, cfg.step)
		if err != nil {
			return err
		}
		res.Intake = append(res.Intake, st)
		progress(fmt.Sprintf("  %d agents: %.0f/s, p99 %.1f ms, drained in %.1f s", c, st.PerSecond, st.P99MS, st.DrainS))
	}
	for _, r := range res.Raw {
		for _, st := range res.Intake {
			if st.Agents == r.Clients && r.PerSecond > 0 {
				res.Ratios[r.Clients] = st.PerSecond / r.PerSecond
			}
		}
	}

	if cfg.rate > 0 && cfg.rateFor > 0 {
		progress(fmt.Sprintf("register → assigned at %d/s for %v", cfg.rate, cfg.rateFor))
		if res.Assigned, err = b.assignedLatency(ctx, cfg.rate, cfg.rateFor); err != nil {
			return err
		}
	}
	if cfg.lifecycleFor > 0 {
		progress(fmt.Sprintf("full lifecycles, %d at once for %v", cfg.lifecycleW, cfg.lifecycleFor))
		if res.Lifecycles, err = b.lifecycles(ctx, cfg.lifecycleW, cfg.lifecycleFor); err != nil {
			return err
		}
	}
	if cfg.burstFor > 0 {
		sustainable := 0.0
		for _, st := range res.Intake {
			if st.KeptUp && st.Errors == 0 && st.PerSecond > sustainable {
				sustainable = st.PerSecond
			}
		}
		rate := int(4 * sustainable)
		progress(fmt.Sprintf("burst at %d/s (4× %.0f/s) for %v", rate, sustainable, cfg.burstFor))
		if res.Burst, err = b.burst(ctx, rate, cfg.burstFor); err != nil {
			return err
		}
	}
	if cfg.history > 0 {
		progress(fmt.Sprintf("a state's history: %d complaints through gRPC", cfg.history))
		if res.History, err = b.history(ctx, cfg.history, len(b.agents)); err != nil {
			return err
		}
	}
	if cfg.stored > 0 {
		progress(fmt.Sprintf("queries with %d complaints stored", cfg.stored))
		if res.Queries, err = b.queryLatencies(ctx, cfg.stored, cfg.queries); err != nil {
			return err
		}
	}
	res.PeakRSSMB = srv.peakRSS()
	printResults(os.Stdout, res)
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(cfg.out, append(data, '\n'), 0o644)
}

func progress(s string) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), s)
}

// machine describes where the run happened.
func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(strings.SplitN(string(data), "\n", 2)[0], "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
		}
	}
	return fmt.Sprintf("%d cores (%s)%s", numCPU(), cpu, mem)
}

// serverProc is the server under test, a separate process.
type serverProc struct {
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
}

func startServer(ctx context.Context, cfg loadConfig, dbURL string) (*serverProc, error) {
	dir, err := os.MkdirTemp("", "helpline-bench-")
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(cfg.serverLog)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.server, "serve", "-seed")
	cmd.Env = append(os.Environ(),
		"HELPLINE_DATABASE_URL="+dbURL,
		"HELPLINE_GRPC_ADDR="+cfg.grpcAddr,
		"HELPLINE_HTTP_ADDR="+cfg.httpAddr,
		"HELPLINE_NATS_LISTEN="+cfg.natsAddr,
		"HELPLINE_NATS_URL=",
		"HELPLINE_DATA_DIR="+filepath.Join(dir, "nats"),
		"HELPLINE_DEMO_PASSWORD="+benchPassword,
		"HELPLINE_NATS_USER=helpline",
		"HELPLINE_NATS_PASSWORD="+benchNATSPassword,
		"HELPLINE_SERVICES="+cfg.services,
		"HELPLINE_LOG_LEVEL=warn",
		"HELPLINE_PPROF=true",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w (run `make build` first)", cfg.server, err)
	}
	p := &serverProc{cmd: cmd, dir: dir, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get("http://" + cfg.httpAddr + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("the server exited at start; see %s", cfg.serverLog)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("the server was not ready within 2 minutes; see %s", cfg.serverLog)
		}
	}
}

// peakRSS is the server's peak resident set (VmHWM), in MB.
func (p *serverProc) peakRSS() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%f kB", &kb); err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}

func (p *serverProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	os.RemoveAll(p.dir)
}

// benchPassword is the demo users' password on the server under test.
const benchPassword = "bench-demo-password"

// benchChosenPassword replaces the one-time password of the agents the
// bench creates, at their first login.
const benchChosenPassword = "bench-password-of-my-own"

// benchNATSPassword is the password the server's embedded NATS requires;
// the benchmark subscribes to it too.
const benchNATSPassword = "helpline-bench-nats"

// bench holds the clients: every agent and officer logged in with their
// own token, as they would be at a real call centre.
type bench struct {
	cfg       loadConfig
	pool      *pgxpool.Pool
	conns     []*grpc.ClientConn
	next      atomic.Uint64
	admin     context.Context
	agents    []context.Context
	officers  map[string]context.Context // by post code
	districts []string
	cats      []string
	logins    int
	nc        *nats.Conn

	mu       sync.Mutex
	waiters  map[string]chan *helplinev1.ComplaintEvent // by docket: who waits for its assignment
	seen     map[string]seenEvent                       // assignments nobody waited for, by docket
	routable map[[2]string]bool                         // (district, category) pairs seen assigned to a post
}

// seenEvent is an assignment that arrived before anyone waited for it.
type seenEvent struct {
	at   time.Time
	post string
}

func newBench(ctx context.Context, cfg loadConfig, pool *pgxpool.Pool) (*bench, error) {
	b := &bench{cfg: cfg, pool: pool, officers: map[string]context.Context{},
		waiters: map[string]chan *helplinev1.ComplaintEvent{}, seen: map[string]seenEvent{}, routable: map[[2]string]bool{}}
	for range 8 {
		conn, err := grpc.NewClient(cfg.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, err
		}
		b.conns = append(b.conns, conn)
	}
	var err error
	if b.admin, err = b.login(ctx, "admin", benchPassword); err != nil {
		return nil, err
	}
	ds, err := helplinev1.NewRoutingServiceClient(b.conn()).ListDistricts(b.admin, &helplinev1.ListDistrictsRequest{})
	if err != nil {
		return nil, err
	}
	for _, d := range ds.GetDistricts() {
		b.districts = append(b.districts, d.GetCode())
	}
	cs, err := helplinev1.NewRoutingServiceClient(b.conn()).ListCategories(b.admin, &helplinev1.ListCategoriesRequest{})
	if err != nil {
		return nil, err
	}
	for _, c := range cs.GetCategories() {
		b.cats = append(b.cats, c.GetCode())
	}
	// One agent account per concurrent agent, created and logged in like
	// real staff.
	maxAgents := 256
	for _, c := range cfg.concurrency {
		maxAgents = max(maxAgents, c)
	}
	progress(fmt.Sprintf("creating and logging in %d agents and every officer", maxAgents))
	ids := helplinev1.NewIdentityServiceClient(b.conn())
	for i := range maxAgents {
		name := fmt.Sprintf("bench-agent-%03d", i+1)
		_, err := ids.CreateUser(b.admin, &helplinev1.CreateUserRequest{Username: name, DisplayName: "Bench agent", Role: helplinev1.Role_ROLE_AGENT, Password: benchPassword})
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
	}
	b.agents = make([]context.Context, maxAgents)
	if err := parallel(16, maxAgents, func(i int) error {
		var err error
		b.agents[i], err = b.login(ctx, fmt.Sprintf("bench-agent-%03d", i+1), benchPassword)
		return err
	}); err != nil {
		return nil, err
	}
	posts, err := helplinev1.NewRoutingServiceClient(b.conn()).ListPosts(b.admin, &helplinev1.ListPostsRequest{})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	if err := parallel(16, len(posts.GetPosts()), func(i int) error {
		p := posts.GetPosts()[i]
		if p.GetHolderUsername() == "" {
			return nil
		}
		octx, err := b.login(ctx, p.GetHolderUsername(), benchPassword)
		if err != nil {
			return err
		}
		mu.Lock()
		b.officers[p.GetCode()] = octx
		mu.Unlock()
		return nil
	}); err != nil {
		return nil, err
	}
	if b.nc, err = nats.Connect("nats://"+cfg.natsAddr, nats.UserInfo("helpline", benchNATSPassword)); err != nil {
		return nil, fmt.Errorf("connect to the server's NATS: %w", err)
	}
	for _, subject := range []string{"helpline.complaint.assigned", "helpline.complaint.unrouted"} {
		if _, err := b.nc.Subscribe(subject, b.onAssigned); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *bench) onAssigned(m *nats.Msg) {
	now := time.Now()
	ev := &helplinev1.ComplaintEvent{}
	if proto.Unmarshal(m.Data, ev) != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	snap := ev.GetSnapshot()
	if snap.GetPost() != "" {
		b.routable[[2]string{snap.GetDistrictCode(), snap.GetCategoryCode()}] = true
	}
	if ch, ok := b.waiters[ev.GetDocket()]; ok {
		delete(b.waiters, ev.GetDocket())
		ch <- ev
		return
	}
	b.seen[ev.GetDocket()] = seenEvent{at: now, post: snap.GetPost()}
}

// forget drops the assignments nobody waited for.
func (b *bench) forget() {
	b.mu.Lock()
	b.seen = map[string]seenEvent{}
	b.mu.Unlock()
}

func (b *bench) close() {
	if b.nc != nil {
		b.nc.Close()
	}
	for _, c := range b.conns {
		c.Close()
	}
}

func (b *bench) conn() *grpc.ClientConn {
	return b.conns[b.next.Add(1)%uint64(len(b.conns))]
}

func (b *bench) login(ctx context.Context, user, pw string) (context.Context, error) {
	resp, err := helplinev1.NewIdentityServiceClient(b.conn()).Login(ctx, &helplinev1.LoginRequest{Username: user, Password: pw})
	if err != nil {
		return nil, fmt.Errorf("login %s: %w", user, err)
	}
	b.mu.Lock()
	b.logins++
	b.mu.Unlock()
	token := resp.GetToken()
	if resp.GetPasswordChangeRequired() {
		// An account the bench created: its password is a one-time one,
		// changed at the first login like real staff do.
		changed, err := helplinev1.NewIdentityServiceClient(b.conn()).ChangePassword(
			metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token),
			&helplinev1.ChangePasswordRequest{OldPassword: pw, NewPassword: benchChosenPassword})
		if err != nil {
			return nil, fmt.Errorf("%s changing the one-time password: %w", user, err)
		}
		token = changed.GetToken()
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token), nil
}

// parallel runs f(0..n-1) with at most k at once and returns the first error.
func parallel(k, n int, f func(i int) error) error {
	var wg sync.WaitGroup
	var first error
	var mu sync.Mutex
	sem := make(chan struct{}, k)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// descriptions are realistic complaint texts, in the scripts citizens use.
var descriptions = []string{
	"सड़क पर बड़े गड्ढे हैं, बरसात में पानी भर जाता है और दुर्घटना का खतरा है। कृपया जल्दी मरम्मत कराएं।",
	"Street light near the primary school has not worked for two weeks; the lane is dark after 7 pm.",
	"गांव में तीन दिन से पानी की आपूर्ति बंद है, टैंकर भी नहीं आया।",
	"Transformer burnt after the storm, whole ward without electricity since yesterday evening.",
	"ڈاکٹر صبح دس بجے تک ڈسپنسری نہیں آتے، مریض انتظار کرتے رہتے ہیں۔",
}

// registration builds a realistic registration with a fresh idempotency key.
func (b *bench) registration(r *rand.Rand) *helplinev1.RegisterComplaintRequest {
	return &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: uuid.NewString(),
		Citizen: &helplinev1.Citizen{
			Name:     "Bench Citizen " + fmt.Sprint(r.IntN(100000)),
			Phone:    fmt.Sprintf("9%09d", r.IntN(1_000_000_000)),
			Language: "hi",
		},
		Location:     &helplinev1.Location{DistrictCode: b.districts[r.IntN(len(b.districts))], Locality: "Ward 4, Main Bazaar"},
		CategoryCode: b.cats[r.IntN(len(b.cats))],
		Description:  descriptions[r.IntN(len(descriptions))] + fmt.Sprintf(" (#%d)", r.IntN(1_000_000)),
		Channel:      helplinev1.Channel_CHANNEL_PHONE,
		Helpline:     "1100",
	}
}

// backlog is how many complaints wait for routing.
func (b *bench) backlog(ctx context.Context) (int64, error) {
	var n int64
	err := b.pool.QueryRow(ctx, `SELECT count(*) FROM complaints WHERE status = 'REGISTERED'`).Scan(&n)
	return n, err
}

// drain waits until routing has caught up and returns how long it took.
func (b *bench) drain(ctx context.Context, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		n, err := b.backlog(ctx)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return time.Since(start), nil
		}
		if time.Since(start) > limit {
			return time.Since(start), nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// intakeStep registers with n concurrent agents for d.
func (b *bench) intakeStep(ctx context.Context, n int, d time.Duration) (intakeStep, error) {
	st := intakeStep{Agents: n}
	var lat latencies
	var okN, errN atomic.Int64
	var firstErr atomic.Value
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			actx := b.agents[i%len(b.agents)]
			client := helplinev1.NewIntakeServiceClient(b.conn())
			for time.Now().Before(stop) {
				t := time.Now()
				_, err := client.RegisterComplaint(actx, b.registration(r))
				if err != nil {
					errN.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat.add(time.Since(t))
				okN.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	st.OK, st.Errors = okN.Load(), errN.Load()
	st.PerSecond = float64(st.OK) / elapsed.Seconds()
	st.MedianMS, st.P99MS = lat.ms(0.5), lat.ms(0.99)
	if e := firstErr.Load(); e != nil {
		progress(fmt.Sprintf("  first error at %d agents: %v", n, e))
	}
	drain, err := b.drain(ctx, 60*time.Second)
	if err != nil {
		return st, err
	}
	st.DrainS = drain.Seconds()
	st.KeptUp = drain <= 5*time.Second
	return st, nil
}

// latencies collects durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) ms(p float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return percentileMS(l.d, p)
}

func (l *latencies) max() float64 { return l.ms(1) }
