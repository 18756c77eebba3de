//go:build faults

// Package faults is Helpline's fault-injection suite. It runs the real
// binaries as separate processes (helpline serve; NATS JetStream as
// helpline-nats; PostgreSQL), drives load from concurrent gRPC clients that
// record every acknowledged docket, injects one fault per scenario in the
// middle of the load, and then checks that every acknowledged complaint
// exists exactly once, reached its routed state, and that every consumer
// applied every event exactly once.
//
// It needs HELPLINE_TEST_DATABASE_URL (as `make test` sets it) and runs
// with `make test-faults`:
//
//	go test -tags faults -count=1 -timeout 20m -v ./test/faults/
package faults

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/docket"
	"github.com/helpline/helpline/internal/natsbus"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/internal/testproc"
	"github.com/helpline/helpline/services/notification"
	"github.com/helpline/helpline/services/routing"
	"github.com/helpline/helpline/services/satisfaction"
	"github.com/helpline/helpline/services/stats"
)

const (
	demoPassword = testenv.DemoPassword
	// clients is how many agents register complaints at once.
	clients = 12
	// pace is the shortest time between two new complaints of one agent
	// (a retry is not paced): 12 agents register at most 48 complaints a
	// second, below what routing sustains on a busy two-core machine, so
	// that a backlog left after the load reflects the fault, not the load.
	pace = 250 * time.Millisecond
	// settleTimeout bounds the wait, after the load, for every complaint
	// to be routed and every event applied. A server killed with SIGKILL
	// leaves fetched, unacknowledged events that JetStream redelivers only
	// after the consumers' AckWait (30 s).
	settleTimeout = 75 * time.Second
	// drainTimeout bounds how long, after the load window, a client keeps
	// retrying the request it had in flight.
	drainTimeout = 60 * time.Second
)

// consumerSpec is a durable consumer and the event types it consumes
// (none: every type), as the services configure them.
type consumerSpec struct {
	name   string
	events []string
}

var consumerSpecs = func() []consumerSpec {
	var out []consumerSpec
	for _, c := range []struct {
		name   string
		events []string
	}{
		{routing.ConsumerName, (&routing.Service{}).RouterConfig().Events},
		{satisfaction.QueueConsumerName, (&satisfaction.Service{}).QueueConfig().Events},
		{notification.ConsumerName, (&notification.Notifier{}).ConsumerConfig().Events},
		{stats.ConsumerName, (&stats.Service{}).ConsumerConfig().Events},
	} {
		out = append(out, consumerSpec{c.name, c.events})
	}
	return out
}()

// row is one line of the result table.
type row struct {
	scenario   string
	acked      int
	found      int
	duplicated int
	stuck      int
	lost       int
	stream     uint64  // events published: messages in the JetStream stream
	applied    []int64 // per consumerSpecs
	errors     string
	took       time.Duration
	failed     bool
}

var (
	tableMu sync.Mutex
	table   []row
)

func TestFaults(t *testing.T) {
	start := time.Now()
	scenarios := []struct {
		name string
		run  func(t *testing.T) row
	}{
		{"kill9-server", scenarioKillServer},
		{"nats-down-20s", scenarioNATSDown},
		{"postgres-restart", scenarioPostgresRestart},
		{"nats-cluster-node-killed", scenarioNATSCluster},
		{"two-replicas", scenarioTwoReplicas},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			began := time.Now()
			var r row
			defer func() { // also after t.Fatal: the scenario's row is then empty and marked failed
				r.scenario, r.took, r.failed = sc.name, time.Since(began), t.Failed()
				tableMu.Lock()
				table = append(table, r)
				tableMu.Unlock()
				out := formatTable([]row{r})
				t.Log("\n" + out)
				fmt.Print(out)
			}()
			r = sc.run(t)
		})
	}
	out := formatTable(table) + fmt.Sprintf("fault suite total: %v\n", time.Since(start).Round(time.Second))
	t.Log("\n" + out)
	fmt.Print("\n" + out)
}

func formatTable(rows []row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %6s %6s %4s %5s %4s %9s", "scenario", "acked", "found", "dup", "stuck", "lost", "published")
	for _, c := range consumerSpecs {
		fmt.Fprintf(&b, " %*s", max(len(c.name), 7), c.name)
	}
	fmt.Fprintf(&b, " %6s %4s  %s\n", "took", "ok", "rpc errors during the load")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-25s %6d %6d %4d %5d %4d %9d", r.scenario, r.acked, r.found, r.duplicated, r.stuck, r.lost, r.stream)
		for i, c := range consumerSpecs {
			var n int64
			if i < len(r.applied) {
				n = r.applied[i]
			}
			fmt.Fprintf(&b, " %*d", max(len(c.name), 7), n)
		}
		ok := "yes"
		if r.failed {
			ok = "NO"
		}
		fmt.Fprintf(&b, " %5ds %4s  %s\n", int(r.took.Seconds()), ok, r.errors)
	}
	return b.String()
}

// ---- scenarios ----

// seededDB is a fresh database of the shared test cluster with the demo seed.
func seededDB(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	pool := testenv.SeededDB(t)
	return testenv.URL(t, pool), pool
}

func singleNATS(t *testing.T) *natsNode {
	t.Helper()
	n := startNATS(t, "nats", testproc.FreeAddr(t), "", "")
	waitJetStream(t, n.url, 30*time.Second, n)
	return n
}

// 1. kill -9 of the server in the middle of the load, then restart.
func scenarioKillServer(t *testing.T) row {
	url, pool := seededDB(t)
	n := singleNATS(t)
	srv := startServer(t, "helpline", serveOpts{dbURL: url, natsURL: n.url})
	l := newLoad(t, "kill9", srv.addr)
	l.run(30*time.Second, func(start time.Time) {
		sleepUntil(start.Add(10 * time.Second))
		srv.Kill()
		t.Logf("%v: helpline killed with SIGKILL", since(start))
		time.Sleep(time.Second)
		srv.Start()
		srv.waitReady(60 * time.Second)
		t.Logf("%v: helpline restarted and serving", since(start))
	})
	return check(t, checkEnv{pool: pool, natsURL: n.url, servers: []*server{srv}, load: l})
}

// 2. NATS stopped for 20 seconds in the middle of the load, then started;
// intake keeps accepting complaints meanwhile.
func scenarioNATSDown(t *testing.T) row {
	url, pool := seededDB(t)
	n := singleNATS(t)
	srv := startServer(t, "helpline", serveOpts{dbURL: url, natsURL: n.url})
	l := newLoad(t, "natsdown", srv.addr)
	var down, up time.Time
	l.run(40*time.Second, func(start time.Time) {
		sleepUntil(start.Add(8 * time.Second))
		n.Stop()
		down = time.Now()
		t.Logf("%v: NATS stopped (SIGTERM)", since(start))
		sleepUntil(down.Add(20 * time.Second))
		up = time.Now()
		n.Start()
		waitJetStream(t, n.url, 30*time.Second, n)
		t.Logf("%v: NATS started again after %v", since(start), up.Sub(down).Round(time.Millisecond))
	})
	during := l.acksBetween(down.Add(time.Second), up)
	t.Logf("complaints acknowledged while NATS was down: %d", during)
	r := check(t, checkEnv{pool: pool, natsURL: n.url, servers: []*server{srv}, load: l})
	if during == 0 {
		t.Errorf("intake acknowledged no complaint while NATS was down")
	}
	return r
}

// 3. PostgreSQL restarted in the middle of the load: callers get
// UNAVAILABLE, and the server recovers without a restart.
func scenarioPostgresRestart(t *testing.T) row {
	pg := startOwnPostgres(t)
	pool, err := db.Open(context.Background(), pg.url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	n := singleNATS(t)
	srv := startServer(t, "helpline", serveOpts{dbURL: pg.url, natsURL: n.url})
	l := newLoad(t, "pgrestart", srv.addr)
	l.run(30*time.Second, func(start time.Time) {
		sleepUntil(start.Add(10 * time.Second))
		took := pg.restart()
		t.Logf("%v: PostgreSQL restarted (pg_ctl restart -m fast took %v)", since(start), took.Round(time.Millisecond))
	})
	// The test's own pool lost its connections too; pgxpool replaces them.
	r := check(t, checkEnv{pool: pool, natsURL: n.url, servers: []*server{srv}, load: l})
	if srv.Starts() != 1 {
		t.Errorf("the server was started %d times; it must recover without a restart", srv.Starts())
	}
	if l.codeCount(codes.Unavailable) == 0 {
		t.Errorf("no caller got UNAVAILABLE while PostgreSQL restarted (errors: %s)", l.errorSummary())
	}
	for c, n := range l.codeCounts() {
		if c != codes.Unavailable && c != codes.DeadlineExceeded {
			t.Errorf("%d calls failed with %v while PostgreSQL restarted, want UNAVAILABLE (e.g. %q)", n, c, l.sample(c))
		}
	}
	return r
}

// 4. A three-node NATS JetStream cluster with replicated streams; the
// stream's leader is killed with SIGKILL in the middle of the load.
func scenarioNATSCluster(t *testing.T) row {
	url, pool := seededDB(t)
	var clientAddrs, routeAddrs []string
	for range 3 {
		clientAddrs = append(clientAddrs, testproc.FreeAddr(t))
		routeAddrs = append(routeAddrs, testproc.FreeAddr(t))
	}
	var nodes []*natsNode
	var urls []string
	for i := range 3 {
		name := fmt.Sprintf("nats-%d", i+1)
		nodes = append(nodes, startNATS(t, name, clientAddrs[i], routeAddrs[i], strings.Join(routeAddrs, ",")))
		urls = append(urls, "nats://"+clientAddrs[i])
	}
	natsURL := strings.Join(urls, ",")
	waitJetStream(t, natsURL, 60*time.Second, nodes...)
	srv := startServer(t, "helpline", serveOpts{dbURL: url, natsURL: natsURL, replicas: 3})
	info := streamInfo(t, natsURL)
	if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("stream %s is not replicated on three nodes: replicas %d, cluster %+v", natsbus.StreamName, info.Config.Replicas, info.Cluster)
	}
	l := newLoad(t, "cluster", srv.addr)
	l.run(30*time.Second, func(start time.Time) {
		sleepUntil(start.Add(12 * time.Second))
		victim := nodes[0]
		if info := streamInfo(t, natsURL); info.Cluster != nil {
			for _, n := range nodes {
				if n.name == info.Cluster.Leader {
					victim = n
				}
			}
		}
		victim.Kill()
		t.Logf("%v: NATS node %s (the stream leader) killed with SIGKILL", since(start), victim.name)
	})
	return check(t, checkEnv{pool: pool, natsURL: natsURL, servers: []*server{srv}, load: l})
}

// 5. Two server replicas at once on one PostgreSQL and one NATS: every
// event applied once, and the relay, the escalation job and the
// feedback-expiry job not doubled.
func scenarioTwoReplicas(t *testing.T) row {
	url, pool := seededDB(t)
	n := singleNATS(t)
	// One unreachable feedback call closes a resolved complaint as no-response.
	opts := serveOpts{dbURL: url, natsURL: n.url, extra: []string{"-feedback-max-attempts", "1"}}
	a := startServer(t, "helpline-a", opts)
	b := startServer(t, "helpline-b", opts)
	l := newLoad(t, "replicas", a.addr, b.addr)
	var escalate, expire []string
	l.run(30*time.Second, func(start time.Time) {
		sleepUntil(start.Add(10 * time.Second))
		escalate, expire = jobFixtures(t, pool, a.addr, b.addr)
		t.Logf("%v: %d complaints made overdue, %d resolved and their citizens not reachable", since(start), len(escalate), len(expire))
	})
	return check(t, checkEnv{pool: pool, natsURL: n.url, servers: []*server{a, b}, load: l, escalate: escalate, expire: expire})
}

// jobFixtures gives both replicas' jobs work: 20 routed complaints whose
// deadline has just passed (the escalation job must escalate each once),
// and 20 that an officer resolves and whose citizen an agent cannot reach
// (the feedback-expiry job must close each once).
func jobFixtures(t *testing.T, pool *pgxpool.Pool, addrs ...string) (escalate, expire []string) {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT docket FROM complaints WHERE status = 'ASSIGNED' AND level = 1 ORDER BY id LIMIT 40`)
	if err != nil {
		t.Fatal(err)
	}
	var dockets []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		dockets = append(dockets, d)
	}
	if rows.Err() != nil || len(dockets) < 40 {
		t.Fatalf("only %d routed complaints to give the jobs work (%v)", len(dockets), rows.Err())
	}
	escalate, expire = dockets[:20], dockets[20:]
	// Time passes: their deadline was a minute ago.
	if _, err := pool.Exec(ctx, `UPDATE complaints SET sla_due_at = now() - interval '1 minute' WHERE docket = ANY($1)`, escalate); err != nil {
		t.Fatal(err)
	}
	var conns []*grpc.ClientConn
	var officers, agents []context.Context
	for _, addr := range addrs {
		conn := dial(t, addr)
		officers = append(officers, testenv.WithToken(ctx, login(t, conn, "pwd-shimla-l1")))
		agents = append(agents, testenv.WithToken(ctx, login(t, conn, "agent1")))
		conns = append(conns, conn)
	}
	for i, d := range expire {
		conn := conns[i%len(conns)]
		officer, agent := officers[i%len(officers)], agents[i%len(agents)]
		res := helplinev1.NewResolutionServiceClient(conn)
		if _, err := res.AcknowledgeComplaint(officer, &helplinev1.AcknowledgeComplaintRequest{Docket: d}); err != nil {
			t.Fatalf("acknowledge %s: %v", d, err)
		}
		if _, err := res.ResolveComplaint(officer, &helplinev1.ResolveComplaintRequest{Docket: d, ActionTakenReport: "potholes filled"}); err != nil {
			t.Fatalf("resolve %s: %v", d, err)
		}
		sat := helplinev1.NewSatisfactionServiceClient(conn)
		if _, err := sat.RecordFeedback(agent, &helplinev1.RecordFeedbackRequest{Docket: d, Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_NOT_REACHABLE}); err != nil {
			t.Fatalf("record feedback %s: %v", d, err)
		}
	}
	return escalate, expire
}

func streamInfo(t *testing.T, urls string) *jetstream.StreamInfo {
	t.Helper()
	nc, err := nats.Connect(urls, natsAuth, nats.Timeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		s, err := js.Stream(ctx, natsbus.StreamName)
		if err == nil {
			var info *jetstream.StreamInfo
			if info, err = s.Info(ctx); err == nil {
				return info
			}
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("stream info: %v", last)
	return nil
}

func sleepUntil(at time.Time) { time.Sleep(time.Until(at)) }

func since(start time.Time) time.Duration { return time.Since(start).Round(100 * time.Millisecond) }

// ---- load ----

// load is a set of agents registering complaints, each retrying a failed
// request with the same idempotency key, and what they saw.
type load struct {
	t      *testing.T
	prefix string
	addrs  []string

	mu       sync.Mutex
	acked    map[string]string // idempotency key → docket
	ackAt    []time.Time
	issued   int
	pending  map[string]bool // issued and never acknowledged
	errs     map[codes.Code]int
	samples  map[codes.Code]string
	replayed int
	problems []string
}

func newLoad(t *testing.T, prefix string, addrs ...string) *load {
	return &load{t: t, prefix: prefix, addrs: addrs, acked: map[string]string{}, pending: map[string]bool{},
		errs: map[codes.Code]int{}, samples: map[codes.Code]string{}}
}

// login logs username in with the demo password, retrying for up to 30
// seconds, and returns the bearer token.
func login(t testing.TB, conn *grpc.ClientConn, username string) string {
	t.Helper()
	id := helplinev1.NewIdentityServiceClient(conn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := id.Login(ctx, &helplinev1.LoginRequest{Username: username, Password: demoPassword})
		cancel()
		if err == nil {
			return resp.GetToken()
		}
		if time.Now().After(deadline) {
			t.Fatalf("login %s: %v", username, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// request is the n-th complaint of client c: the same for every retry.
func (l *load) request(c, n int) *helplinev1.RegisterComplaintRequest {
	key := fmt.Sprintf("%s-%02d-%06d", l.prefix, c, n)
	lang := []string{"hi", "en"}[n%2]
	return &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: key,
		Citizen:        &helplinev1.Citizen{Name: fmt.Sprintf("Caller %d-%d", c, n), Phone: fmt.Sprintf("98%02d%06d", c, n%1000000), Language: lang},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", Locality: "Theog bazaar"},
		CategoryCode:   "PWD_ROAD_POTHOLES",
		Description:    "Potholes on the road near the bus stand (fault suite request " + key + ")",
		Channel:        helplinev1.Channel_CHANNEL_PHONE,
	}
}

// run lets the clients register complaints for dur, calls fault (in the
// test's goroutine) with the load's start time, then waits for every
// client to finish its last request (retrying up to drainTimeout).
func (l *load) run(dur time.Duration, fault func(start time.Time)) {
	t := l.t
	hard, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	type agent struct {
		intake helplinev1.IntakeServiceClient
		ctx    context.Context
	}
	agents := make([]agent, clients)
	for i := range agents {
		conn := dial(t, l.addrs[i%len(l.addrs)])
		tok := login(t, conn, "agent1")
		agents[i] = agent{helplinev1.NewIntakeServiceClient(conn), testenv.WithToken(hard, tok)}
	}
	start := time.Now()
	stopIssuing := start.Add(dur)
	drainUntil := stopIssuing.Add(drainTimeout)
	var wg sync.WaitGroup
	for c, a := range agents {
		wg.Go(func() {
			for n := 0; time.Now().Before(stopIssuing) && hard.Err() == nil; n++ {
				next := time.Now().Add(pace)
				req := l.request(c, n)
				l.issue(req.GetIdempotencyKey())
				for {
					if hard.Err() != nil || time.Now().After(drainUntil) {
						return
					}
					ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
					resp, err := a.intake.RegisterComplaint(ctx, req)
					cancel()
					if err == nil {
						l.ack(req.GetIdempotencyKey(), resp)
						break
					}
					l.fail(err)
					select {
					case <-hard.Done():
					case <-time.After(100 * time.Millisecond):
					}
				}
				select {
				case <-hard.Done():
				case <-time.After(time.Until(next)):
				}
			}
		})
	}
	fault(start)
	wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Logf("load: %d clients for %v: %d requests, %d acknowledged (%d replayed after a lost reply), %d never acknowledged; errors: %s; took %v",
		clients, dur, l.issued, len(l.acked), l.replayed, len(l.pending), l.errorSummaryLocked(), since(start))
}

func (l *load) issue(key string) {
	l.mu.Lock()
	l.issued++
	l.pending[key] = true
	l.mu.Unlock()
}

func (l *load) ack(key string, resp *helplinev1.RegisterComplaintResponse) {
	d := resp.GetComplaint().GetDocket()
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, _, err := docket.Parse(d); err != nil {
		l.problems = append(l.problems, fmt.Sprintf("key %s acknowledged with a malformed docket %q", key, d))
	}
	if prev, ok := l.acked[key]; ok && prev != d {
		l.problems = append(l.problems, fmt.Sprintf("key %s acknowledged twice with different dockets %s and %s", key, prev, d))
	}
	l.acked[key] = d
	l.ackAt = append(l.ackAt, time.Now())
	delete(l.pending, key)
	if resp.GetReplayed() {
		l.replayed++
	}
}

func (l *load) fail(err error) {
	st := status.Convert(err)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs[st.Code()]++
	if _, ok := l.samples[st.Code()]; !ok {
		l.samples[st.Code()] = st.Message()
	}
}

func (l *load) acksBetween(from, to time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, at := range l.ackAt {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

func (l *load) codeCount(c codes.Code) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errs[c]
}

func (l *load) codeCounts() map[codes.Code]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.errs)
}

func (l *load) sample(c codes.Code) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.samples[c]
}

func (l *load) errorSummary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errorSummaryLocked()
}

func (l *load) errorSummaryLocked() string {
	if len(l.errs) == 0 {
		return "none"
	}
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(l.errs)) {
		parts = append(parts, fmt.Sprintf("%v:%d", c, l.errs[c]))
	}
	return strings.Join(parts, " ")
}

// ---- checks ----

// checkEnv is what a scenario's check looks at.
type checkEnv struct {
	pool     *pgxpool.Pool
	natsURL  string
	servers  []*server
	load     *load
	escalate []string // dockets the escalation job must escalate once
	expire   []string // dockets the feedback-expiry job must close once
}

// counts is the state the settle loop watches.
type counts struct {
	complaints, registered, unrouted int64
	history, outbox, unpublished     int64
	byType                           map[string]int64 // outbox events by type
	applied                          map[string]int64 // applied-event records by consumer
	stream                           uint64           // messages in the JetStream stream
	escalatedOnce, expiredOnce       int64            // fixtures done
	streamErr                        error
}

// expected is how many events consumer c must have applied.
func (c counts) expected(spec consumerSpec) int64 {
	if len(spec.events) == 0 {
		return c.outbox
	}
	var n int64
	for _, e := range spec.events {
		n += c.byType[e]
	}
	return n
}

func (c counts) settled(e checkEnv) bool {
	if c.registered != 0 || c.unpublished != 0 || c.streamErr != nil || c.stream != uint64(c.outbox) || c.history != c.outbox {
		return false
	}
	for _, spec := range consumerSpecs {
		if c.applied[spec.name] != c.expected(spec) {
			return false
		}
	}
	return c.escalatedOnce == int64(len(e.escalate)) && c.expiredOnce == int64(len(e.expire))
}

func (c counts) String() string {
	var ap []string
	for _, spec := range consumerSpecs {
		ap = append(ap, fmt.Sprintf("%s %d/%d", spec.name, c.applied[spec.name], c.expected(spec)))
	}
	return fmt.Sprintf("complaints %d (registered %d, unrouted %d), history %d, outbox %d (unpublished %d), stream %d (err %v), applied: %s",
		c.complaints, c.registered, c.unrouted, c.history, c.outbox, c.unpublished, c.stream, c.streamErr, strings.Join(ap, ", "))
}

func snapshot(ctx context.Context, e checkEnv, js jetstream.JetStream) (counts, error) {
	c := counts{byType: map[string]int64{}, applied: map[string]int64{}}
	p := e.pool
	if err := p.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'REGISTERED'), count(*) FILTER (WHERE status = 'UNROUTED') FROM complaints`).
		Scan(&c.complaints, &c.registered, &c.unrouted); err != nil {
		return c, err
	}
	if err := p.QueryRow(ctx, `SELECT count(*) FROM complaint_history`).Scan(&c.history); err != nil {
		return c, err
	}
	if err := p.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM outbox`).Scan(&c.outbox, &c.unpublished); err != nil {
		return c, err
	}
	if err := groupCounts(ctx, p, c.byType, `SELECT substr(subject, $1), count(*) FROM outbox GROUP BY 1`, len(natsbus.SubjectPrefix)+1); err != nil {
		return c, err
	}
	if err := groupCounts(ctx, p, c.applied, `SELECT consumer, count(*) FROM applied_events GROUP BY 1`); err != nil {
		return c, err
	}
	if err := p.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE docket = ANY($1) AND level = 2 AND status = 'ASSIGNED'
		                          AND (SELECT count(*) FROM complaint_history h WHERE h.complaint_id = c.id AND h.action = 'escalate') = 1),
		       count(*) FILTER (WHERE docket = ANY($2) AND status = 'CLOSED' AND closure = 'NO_RESPONSE'
		                          AND (SELECT count(*) FROM complaint_history h WHERE h.complaint_id = c.id AND h.action = 'feedback_expired') = 1)
		FROM complaints c WHERE docket = ANY($1) OR docket = ANY($2)`, nonNil(e.escalate), nonNil(e.expire)).
		Scan(&c.escalatedOnce, &c.expiredOnce); err != nil {
		return c, err
	}
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	s, err := js.Stream(sctx, natsbus.StreamName)
	if err == nil {
		var info *jetstream.StreamInfo
		if info, err = s.Info(sctx); err == nil {
			c.stream = info.State.Msgs
		}
	}
	c.streamErr = err
	return c, nil
}

// streamDiff explains a stream that does not hold exactly the outbox's
// events: duplicated message ids, and ids the outbox does not have.
func streamDiff(ctx context.Context, t *testing.T, pool *pgxpool.Pool, js jetstream.JetStream) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, natsbus.StreamName)
	if err != nil {
		return []string{fmt.Sprintf("stream: %v", err)}
	}
	info, err := s.Info(ctx)
	if err != nil {
		return []string{fmt.Sprintf("stream info: %v", err)}
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return []string{fmt.Sprintf("ordered consumer: %v", err)}
	}
	type msgInfo struct {
		seqs    []uint64
		subject string
	}
	ids := map[string]*msgInfo{}
	var last uint64
	for last < info.State.LastSeq && ctx.Err() == nil {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return []string{fmt.Sprintf("read stream: %v", err)}
		}
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			last = md.Sequence.Stream
			id := m.Headers().Get(jetstream.MsgIDHeader)
			if ids[id] == nil {
				ids[id] = &msgInfo{subject: m.Subject()}
			}
			ids[id].seqs = append(ids[id].seqs, last)
		}
	}
	inOutbox := map[string]bool{}
	rows, err := pool.Query(ctx, `SELECT event_id::text FROM outbox`)
	if err != nil {
		return []string{fmt.Sprintf("outbox: %v", err)}
	}
	for rows.Next() {
		var id string
		if rows.Scan(&id) == nil {
			inOutbox[id] = true
		}
	}
	rows.Close()
	var out []string
	for id, mi := range ids {
		if len(mi.seqs) > 1 {
			out = append(out, fmt.Sprintf("the stream holds event %s (%s) %d times, at sequences %v", id, mi.subject, len(mi.seqs), mi.seqs))
		}
		if !inOutbox[id] {
			out = append(out, fmt.Sprintf("the stream holds event %s (%s) that the outbox does not have", id, mi.subject))
		}
	}
	for id := range inOutbox {
		if ids[id] == nil {
			out = append(out, fmt.Sprintf("outbox event %s is not in the stream", id))
		}
	}
	sort.Strings(out)
	if len(out) > 20 {
		out = append(out[:20], fmt.Sprintf("... %d more stream differences", len(out)-20))
	}
	return out
}

// notifierOrder explains complaints without a 'registered' notification:
// the order in which the notifier applied their events.
func notifierOrder(ctx context.Context, t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(ctx, `
		SELECT c.id, c.docket FROM complaints c
		WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.complaint_id = c.id AND n.kind = 'registered')
		ORDER BY c.id LIMIT 5`)
	if err != nil {
		t.Fatal(err)
	}
	dockets := map[int64]string{}
	for rows.Next() {
		var id int64
		var d string
		if err := rows.Scan(&id, &d); err != nil {
			t.Fatal(err)
		}
		dockets[id] = d
	}
	rows.Close()
	if len(dockets) == 0 {
		return nil
	}
	type applied struct {
		version int64
		typ     string
		at      *time.Time
	}
	events := map[int64][]applied{}
	rows, err = pool.Query(ctx, `
		SELECT o.payload, a.applied_at FROM outbox o
		LEFT JOIN applied_events a ON a.consumer = $1 AND a.event_id = o.event_id`, notification.ConsumerName)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var payload []byte
		var at *time.Time
		if err := rows.Scan(&payload, &at); err != nil {
			t.Fatal(err)
		}
		ev := &helplinev1.ComplaintEvent{}
		if proto.Unmarshal(payload, ev) != nil {
			continue
		}
		if _, ok := dockets[ev.GetComplaintId()]; ok {
			events[ev.GetComplaintId()] = append(events[ev.GetComplaintId()], applied{ev.GetVersion(), ev.GetType(), at})
		}
	}
	rows.Close()
	var out []string
	for id, d := range dockets {
		evs := events[id]
		sort.Slice(evs, func(i, j int) bool {
			if evs[i].at == nil || evs[j].at == nil {
				return evs[j].at == nil && evs[i].at != nil
			}
			return evs[i].at.Before(*evs[j].at)
		})
		var order []string
		for _, ev := range evs {
			at := "never"
			if ev.at != nil {
				at = ev.at.Format("15:04:05.000000")
			}
			order = append(order, fmt.Sprintf("v%d %s at %s", ev.version, ev.typ, at))
		}
		out = append(out, fmt.Sprintf("complaint %s has no 'registered' notification; the notifier recorded its events as applied in this order: %s",
			d, strings.Join(order, ", ")))
	}
	sort.Strings(out)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func groupCounts(ctx context.Context, p *pgxpool.Pool, into map[string]int64, q string, args ...any) error {
	rows, err := p.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		into[k] = n
	}
	return rows.Err()
}

// check waits for the system to settle and then checks every invariant;
// it fails the test on any lost, duplicated or stuck complaint or any
// mismatch, and returns the scenario's row.
func check(t *testing.T, e checkEnv) row {
	t.Helper()
	ctx := context.Background()
	r := row{acked: len(e.load.acked), errors: e.load.errorSummary()}
	for _, s := range e.servers {
		if ok, err := s.Running(); !ok {
			t.Errorf("%s is not running after the load: %v", s.Name, err)
		}
	}
	nc, err := nats.Connect(e.natsURL, natsAuth, nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true), nats.Timeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}

	// Settle: every complaint routed, the outbox drained, every consumer caught up.
	began := time.Now()
	lastLog := began
	var c counts
	for {
		c, err = snapshot(ctx, e, js)
		if err == nil && c.settled(e) {
			t.Logf("settled %v after the load: %v", since(began), c)
			break
		}
		if time.Since(lastLog) >= 10*time.Second {
			t.Logf("settling, %v after the load: %v (err %v)", since(began), c, err)
			lastLog = time.Now()
		}
		if time.Since(began) > settleTimeout {
			t.Errorf("not settled %v after the load: %v (err %v)", settleTimeout, c, err)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	r.stream = c.stream
	for _, spec := range consumerSpecs {
		r.applied = append(r.applied, c.applied[spec.name])
	}
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	e.load.mu.Lock()
	problems = append(problems, e.load.problems...)
	acked := maps.Clone(e.load.acked)
	pending := maps.Clone(e.load.pending)
	e.load.mu.Unlock()

	// Every acknowledged docket exists exactly once, by docket and by key.
	type found struct {
		docket, status, description string
		routes                      int
	}
	byKey := map[string][]found{}
	byDocket := map[string]int{}
	byDescription := map[string]int{}
	rows, err := e.pool.Query(ctx, `
		SELECT idem_key, docket, status, description,
		       (SELECT count(*) FROM complaint_history h WHERE h.complaint_id = c.id AND h.action = 'route')
		FROM complaints c`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var key string
		var f found
		if err := rows.Scan(&key, &f.docket, &f.status, &f.description, &f.routes); err != nil {
			t.Fatal(err)
		}
		byKey[key] = append(byKey[key], f)
		byDocket[f.docket]++
		byDescription[f.description]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	ackedDockets := map[string]string{}
	for key, d := range acked {
		if other, ok := ackedDockets[d]; ok {
			r.duplicated++
			fail("keys %s and %s were both acknowledged with docket %s", other, key, d)
		}
		ackedDockets[d] = key
		fs := byKey[key]
		switch {
		case len(fs) == 0:
			r.lost++
			fail("acknowledged complaint %s (key %s) does not exist", d, key)
			continue
		case len(fs) > 1:
			r.duplicated++
			fail("key %s registered %d complaints", key, len(fs))
		}
		f := fs[0]
		if f.docket != d {
			r.lost++
			fail("key %s was acknowledged as %s but is stored as %s", key, d, f.docket)
			continue
		}
		if byDocket[d] != 1 || byDescription[f.description] != 1 {
			r.duplicated++
			fail("complaint %s exists %d times by docket, %d times by content", d, byDocket[d], byDescription[f.description])
			continue
		}
		if f.status == "REGISTERED" || f.status == "UNROUTED" || f.routes != 1 {
			r.stuck++
			fail("complaint %s is %s with %d routing entries", d, f.status, f.routes)
			continue
		}
		r.found++
	}
	// Nothing else was registered, but requests whose reply never came.
	for key, fs := range byKey {
		if _, ok := acked[key]; ok {
			continue
		}
		if !pending[key] {
			fail("complaint %s has key %s that no client sent", fs[0].docket, key)
		} else if len(fs) > 1 {
			r.duplicated++
			fail("unacknowledged key %s registered %d complaints", key, len(fs))
		}
	}
	if len(pending) > 0 {
		fail("%d requests were never acknowledged within %v of the load's end", len(pending), drainTimeout)
	}

	// History, outbox and stream agree; nothing waits to be published.
	if c.history != c.outbox || c.stream != uint64(c.outbox) {
		fail("history has %d entries, the outbox %d events, the stream %d messages (err %v)", c.history, c.outbox, c.stream, c.streamErr)
	}
	if c.unpublished != 0 {
		fail("%d outbox events are unpublished", c.unpublished)
	}
	if c.stream != uint64(c.outbox) {
		for _, p := range streamDiff(ctx, t, e.pool, js) {
			fail("%s", p)
		}
	}
	q := func(what string, want int64, sql string, args ...any) {
		var got int64
		if err := e.pool.QueryRow(ctx, sql, args...).Scan(&got); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got != want {
			fail("%s: %d, want %d", what, got, want)
		}
	}
	q("complaints whose version is not their number of history entries", 0,
		`SELECT count(*) FROM complaints c WHERE c.version <> (SELECT count(*) FROM complaint_history h WHERE h.complaint_id = c.id)`)

	// Every consumer applied every event of its types once, and nothing else.
	prefix := len(natsbus.SubjectPrefix) + 1
	for _, spec := range consumerSpecs {
		types := nonNil(spec.events)
		if got, want := c.applied[spec.name], c.expected(spec); got != want {
			fail("consumer %s applied %d events, want %d", spec.name, got, want)
		}
		q("events consumer "+spec.name+" did not apply", 0, `
			SELECT count(*) FROM outbox o
			WHERE (cardinality($2::text[]) = 0 OR substr(o.subject, $3) = ANY($2))
			  AND NOT EXISTS (SELECT 1 FROM applied_events a WHERE a.consumer = $1 AND a.event_id = o.event_id)`, spec.name, types, prefix)
		q("events consumer "+spec.name+" applied that are not in the outbox", 0, `
			SELECT count(*) FROM applied_events a WHERE a.consumer = $1 AND NOT EXISTS (
			    SELECT 1 FROM outbox o WHERE o.event_id = a.event_id AND (cardinality($2::text[]) = 0 OR substr(o.subject, $3) = ANY($2)))`,
			spec.name, types, prefix)
		if len(spec.events) == 0 {
			q("complaints whose latest version consumer "+spec.name+" has not applied", 0, `
				SELECT count(*) FROM complaints c LEFT JOIN consumer_versions v ON v.consumer = $1 AND v.complaint_id = c.id
				WHERE v.version IS DISTINCT FROM c.version`, spec.name)
		}
	}

	// Notifications: one per event and recipient; every complaint one docket SMS.
	notified := map[string]int64{}
	if err := groupCounts(ctx, e.pool, notified, `SELECT kind, count(*) FROM notifications GROUP BY 1`); err != nil {
		t.Fatal(err)
	}
	for _, spec := range consumerSpecs {
		if spec.name != notification.ConsumerName {
			continue
		}
		for _, typ := range spec.events {
			if notified[typ] != c.byType[typ] {
				fail("%d %q notifications for %d %q events", notified[typ], typ, c.byType[typ], typ)
			}
		}
	}
	q("complaints without exactly one 'registered' notification", 0, `
		SELECT count(*) FROM complaints c WHERE (SELECT count(*) FROM notifications n WHERE n.complaint_id = c.id AND n.kind = 'registered') <> 1`)
	for _, p := range notifierOrder(ctx, t, e.pool) {
		fail("%s", p)
	}

	// Statistics: one fact per complaint at its latest version; rollups add up.
	q("stats_base registered", c.complaints, `SELECT coalesce(sum(registered), 0) FROM stats_base`)
	q("stats facts at the complaint's latest version", c.complaints,
		`SELECT count(*) FROM complaints c JOIN stats_facts f ON f.complaint_id = c.id AND f.version = c.version`)
	q("stats facts", c.complaints, `SELECT count(*) FROM stats_facts`)
	var escalations, closed, noResponse int64
	if err := e.pool.QueryRow(ctx, `SELECT coalesce(sum(escalation_count), 0), count(*) FILTER (WHERE status = 'CLOSED'),
		count(*) FILTER (WHERE closure = 'NO_RESPONSE') FROM complaints`).Scan(&escalations, &closed, &noResponse); err != nil {
		t.Fatal(err)
	}
	q("stats_base escalated", escalations, `SELECT coalesce(sum(escalated), 0) FROM stats_base`)
	q("stats_base closed", closed, `SELECT coalesce(sum(closed), 0) FROM stats_base`)
	q("stats_base no_response", noResponse, `SELECT coalesce(sum(no_response), 0) FROM stats_base`)

	// The feedback queue holds exactly the resolved complaints.
	q("resolved complaints missing from the feedback queue", 0,
		`SELECT count(*) FROM complaints c WHERE c.status = 'RESOLVED' AND NOT EXISTS (SELECT 1 FROM feedback_queue q WHERE q.complaint_id = c.id)`)
	q("feedback queue entries of complaints not resolved", 0,
		`SELECT count(*) FROM feedback_queue q JOIN complaints c ON c.id = q.complaint_id WHERE c.status <> 'RESOLVED'`)

	// Jobs: each due complaint escalated once, each unreachable one closed once, nothing else.
	q("escalations", int64(len(e.escalate)), `SELECT count(*) FROM complaint_history WHERE action = 'escalate'`)
	q("no-response closures", int64(len(e.expire)), `SELECT count(*) FROM complaint_history WHERE action = 'feedback_expired'`)
	if c.escalatedOnce != int64(len(e.escalate)) {
		fail("%d of %d overdue complaints were escalated exactly once to level 2", c.escalatedOnce, len(e.escalate))
	}
	if c.expiredOnce != int64(len(e.expire)) {
		fail("%d of %d unreachable complaints were closed NO_RESPONSE exactly once", c.expiredOnce, len(e.expire))
	}

	sort.Strings(problems)
	const show = 40
	for i, p := range problems {
		if i == show {
			t.Errorf("... and %d more problems", len(problems)-show)
			break
		}
		t.Error(p)
	}
	return r
}

// ---- processes ----

// bins are the binaries TestMain builds once.
var bins struct {
	dir      string
	helpline string
	nats     string
}

// moduleRoot is the repository root, relative to this package's directory
// (go test runs a package's tests in its directory).
const moduleRoot = "../.."

func TestMain(m *testing.M) {
	code, err := buildAndRun(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func buildAndRun(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "helpline-faults-bin-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	bins.dir = dir
	start := time.Now()
	built, err := testproc.Build(moduleRoot, dir, "./cmd/helpline", "./cmd/helpline-nats")
	if err != nil {
		return 0, err
	}
	bins.helpline, bins.nats = built["./cmd/helpline"], built["./cmd/helpline-nats"]
	fmt.Printf("faults: built helpline and helpline-nats in %v\n", time.Since(start).Round(time.Millisecond))
	return m.Run(), nil
}

// The NATS nodes require authentication; the servers and this test's own
// clients give it (the password through the environment, as in production).
const (
	natsUser     = "helpline"
	natsPassword = "faults-nats-password"
)

var (
	natsEnv  = []string{"HELPLINE_NATS_PASSWORD=" + natsPassword}
	natsAuth = nats.UserInfo(natsUser, natsPassword)
)

// natsNode is one helpline-nats process.
type natsNode struct {
	*testproc.Proc
	name  string
	addr  string
	url   string
	store string
}

// startNATS runs helpline-nats on addr with its store under dir; cluster
// and routes are empty for a single server.
func startNATS(t testing.TB, name, addr, cluster, routes string) *natsNode {
	t.Helper()
	store := filepath.Join(t.TempDir(), "store-"+name)
	args := []string{"-addr", addr, "-store", store, "-name", name}
	if cluster != "" {
		args = append(args, "-cluster", cluster, "-routes", routes, "-cluster-name", "helpline-faults")
	}
	n := &natsNode{Proc: testproc.New(t, testproc.LogDir(t, "HELPLINE_FAULTS_LOG_DIR"), name, bins.nats, testproc.ChildEnv(natsEnv...), append(args, "-user", natsUser)...), name: name, addr: addr, url: "nats://" + addr, store: store}
	n.Start()
	return n
}

// waitJetStream waits until JetStream answers on urls (for a cluster: a
// meta leader is elected).
func waitJetStream(t testing.TB, urls string, timeout time.Duration, nodes ...*natsNode) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if ok, err := n.Running(); !ok {
				t.Fatalf("%s exited: %v", n.name, err)
			}
		}
		nc, err := nats.Connect(urls, natsAuth, nats.Timeout(time.Second))
		if err == nil {
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err = js.AccountInfo(ctx)
			cancel()
			nc.Close()
			if err == nil {
				return
			}
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("JetStream on %s not ready within %v: %v", urls, timeout, last)
}

// server is one `helpline serve` process.
type server struct {
	*testproc.Proc
	t    testing.TB
	addr string
}

// serveOpts is how a server process runs.
type serveOpts struct {
	dbURL    string
	natsURL  string
	replicas int
	extra    []string
}

func startServer(t testing.TB, name string, o serveOpts) *server {
	t.Helper()
	addr := testproc.FreeAddr(t)
	if o.replicas < 1 {
		o.replicas = 1
	}
	args := []string{"serve",
		"-database-url", o.dbURL,
		"-nats-url", o.natsURL,
		"-grpc-addr", addr,
		"-http-addr=",
		"-job-interval", "1s",
		"-seed=false",
		"-stream-replicas", strconv.Itoa(o.replicas),
		"-log-level", "warn",
	}
	args = append(args, o.extra...)
	s := &server{Proc: testproc.New(t, testproc.LogDir(t, "HELPLINE_FAULTS_LOG_DIR"), name, bins.helpline, testproc.ChildEnv(append(natsEnv, "HELPLINE_NATS_USER="+natsUser)...), args...), t: t, addr: addr}
	s.Start()
	s.waitReady(60 * time.Second)
	return s
}

// waitReady waits until the server answers grpc.health.v1 with SERVING.
func (s *server) waitReady(timeout time.Duration) {
	s.t.Helper()
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close()
	h := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if ok, err := s.Running(); !ok {
			s.t.Fatalf("%s exited while starting: %v", s.Name, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := h.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("%s not serving on %s within %v: %v", s.Name, s.addr, timeout, last)
}

// dial returns a client connection that reconnects quickly, as an agent's
// application would after the server comes back.
func dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: 2 * time.Second,
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// ownPostgres is a PostgreSQL cluster of this test alone (scripts/postgres.sh).
type ownPostgres struct {
	t    testing.TB
	name string
	port int
	dir  string
	url  string // the helpline database
}

// pgBin is the newest installed PostgreSQL's bin directory.
func pgBin(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(dirs) == 0 {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql: run `make test-postgres` first")
	}
	best, bestV := dirs[0], -1
	for _, d := range dirs {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if v > bestV {
			best, bestV = d, v
		}
	}
	return best
}

// startOwnPostgres starts a fresh cluster faults-<port>, creates the
// helpline database and loads the demo seed with `helpline seed`.
func startOwnPostgres(t testing.TB) *ownPostgres {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("the PostgreSQL restart scenario runs its own cluster as the postgres user and needs root")
	}
	root := os.Getenv("HELPLINE_PG_ROOT")
	if root == "" {
		root = "/var/tmp/helpline-pg"
	}
	port := testproc.FreePort(t)
	pg := &ownPostgres{t: t, name: fmt.Sprintf("faults-%d", port), port: port}
	pg.dir = filepath.Join(root, pg.name)
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = moduleRoot
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
		}
	}
	stopAndRemove := func() {
		cmd := exec.Command("bash", "scripts/postgres.sh", "stop", pg.name)
		cmd.Dir = moduleRoot
		_ = cmd.Run()
		_ = os.RemoveAll(pg.dir)
	}
	stopAndRemove() // a leftover of an interrupted run on this port
	sweepStaleClusters(root)
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(pg.dir, "server.log")); err == nil {
				if len(b) > 16<<10 {
					b = b[len(b)-16<<10:]
				}
				t.Logf("---- PostgreSQL %s server.log ----\n%s", pg.name, b)
			}
		}
		stopAndRemove()
	})
	run("bash", "scripts/postgres.sh", "start", pg.name, strconv.Itoa(port))

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port))
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.Exec(ctx, `CREATE DATABASE helpline ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0`)
	_ = admin.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pg.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/helpline?sslmode=disable", port)
	seed := exec.Command(bins.helpline, "seed", "-database-url", pg.url, "-log-level", "warn")
	seed.Env = testproc.ChildEnv("HELPLINE_DEMO_PASSWORD=" + demoPassword)
	if b, err := seed.CombinedOutput(); err != nil {
		t.Fatalf("helpline seed: %v\n%s", err, b)
	}
	return pg
}

// sweepStaleClusters stops and removes faults-* clusters created more than
// 30 minutes ago (longer than the suite's timeout): leftovers of a test
// process that was killed before its cleanup ran.
func sweepStaleClusters(root string) {
	dirs, _ := filepath.Glob(filepath.Join(root, "faults-*"))
	for _, dir := range dirs {
		st, err := os.Stat(filepath.Join(dir, "PG_VERSION"))
		if err != nil || time.Since(st.ModTime()) < 30*time.Minute {
			continue
		}
		cmd := exec.Command("bash", "scripts/postgres.sh", "stop", filepath.Base(dir))
		cmd.Dir = moduleRoot
		cmd.Env = append(os.Environ(), "HELPLINE_PG_ROOT="+root)
		_ = cmd.Run()
		_ = os.RemoveAll(dir)
	}
}

// restart restarts the cluster with pg_ctl restart (fast shutdown: every
// connection is cut), as the postgres user.
func (pg *ownPostgres) restart() time.Duration {
	pg.t.Helper()
	start := time.Now()
	cmd := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(pgBin(pg.t), "pg_ctl"),
		"-D", pg.dir, "-l", filepath.Join(pg.dir, "server.log"), "-m", "fast", "-w", "-t", "60", "restart")
	if b, err := cmd.CombinedOutput(); err != nil {
		pg.t.Fatalf("pg_ctl restart: %v\n%s", err, b)
	}
	return time.Since(start)
}
