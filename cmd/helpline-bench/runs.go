package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/services/stats"
)

// openLoop calls f at rate per second for d, each call in its own
// goroutine (at most limit at once), whatever the earlier calls are doing:
// a real call centre does not wait for the server. It returns how many
// calls started late because limit were busy.
func openLoop(ctx context.Context, rate int, d time.Duration, limit int, f func(i int, r *rand.Rand)) int64 {
	sem := make(chan struct{}, limit)
	var late atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	n := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if w := time.Until(at); w > 0 {
			time.Sleep(w)
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case sem <- struct{}{}:
		default:
			late.Add(1)
			sem <- struct{}{}
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i, rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano()))))
		}()
	}
	wg.Wait()
	return late.Load()
}

// assignedLatency registers at a steady rate and times each complaint from
// the moment its registration was sent to the moment its assigned event
// reached a subscriber, which is after routing committed.
func (b *bench) assignedLatency(ctx context.Context, rate int, d time.Duration) (*latencyRun, error) {
	type sent struct {
		at     time.Time
		docket string
	}
	var mu sync.Mutex
	var sends []sent
	var reg latencies
	var errN atomic.Int64
	b.forget()
	var firstErr atomic.Value
	start := time.Now()
	late := openLoop(ctx, rate, d, 2000, func(i int, r *rand.Rand) {
		t := time.Now()
		resp, err := helplinev1.NewIntakeServiceClient(b.conn()).RegisterComplaint(b.agents[i%len(b.agents)], b.registration(r))
		if err != nil {
			errN.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
			return
		}
		reg.add(time.Since(t))
		mu.Lock()
		sends = append(sends, sent{t, resp.GetComplaint().GetDocket()})
		mu.Unlock()
	})
	elapsed := time.Since(start)
	if _, err := b.drain(ctx, 60*time.Second); err != nil {
		return nil, err
	}
	time.Sleep(time.Second) // the last events' relay
	if e := firstErr.Load(); e != nil {
		progress(fmt.Sprintf("  first error: %v", e))
	}
	b.mu.Lock()
	seen := b.seen
	b.mu.Unlock()
	b.forget()
	var lat []time.Duration
	missing := 0
	for _, s := range sends {
		ev, ok := seen[s.docket]
		if !ok {
			missing++
			continue
		}
		lat = append(lat, ev.at.Sub(s.at))
	}
	return &latencyRun{
		Rate: rate, Achieved: float64(len(sends)) / elapsed.Seconds(), Seconds: elapsed.Seconds(),
		Count: len(lat), Missing: missing, Errors: errN.Load(),
		MedianMS: percentileMS(lat, 0.5), P99MS: percentileMS(lat, 0.99), MaxMS: percentileMS(lat, 1),
		RegP99MS: reg.ms(0.99), Unhandled: late,
	}, nil
}

// expect returns the post docket was assigned to if its event already
// arrived, or else a channel that will get the event.
func (b *bench) expect(docket string) (string, chan *helplinev1.ComplaintEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ev, ok := b.seen[docket]; ok {
		delete(b.seen, docket)
		return ev.post, nil
	}
	ch := make(chan *helplinev1.ComplaintEvent, 1)
	b.waiters[docket] = ch
	return "", ch
}

// lifecycles runs w concurrent complaints through their whole life, every
// step through gRPC as the person who does it: an agent registers, the
// assigned officer acknowledges and resolves with an action-taken report,
// an agent records the citizen's satisfied feedback, and it is closed.
func (b *bench) lifecycles(ctx context.Context, w int, d time.Duration) (*lifecycleRun, error) {
	var done, errN atomic.Int64
	var lat latencies
	var firstErr atomic.Value
	b.mu.Lock()
	var pairs [][2]string
	for p := range b.routable {
		pairs = append(pairs, p)
	}
	b.mu.Unlock()
	if len(pairs) == 0 {
		return nil, fmt.Errorf("no complaint was assigned to a post before the lifecycle run")
	}
	b.forget()
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))
			for time.Now().Before(stop) && ctx.Err() == nil {
				t := time.Now()
				if err := b.lifecycle(ctx, i, r, pairs[r.IntN(len(pairs))]); err != nil {
					errN.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat.add(time.Since(t))
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if e := firstErr.Load(); e != nil {
		progress(fmt.Sprintf("  first lifecycle error: %v", e))
	}
	return &lifecycleRun{Workers: w, Completed: done.Load(), Errors: errN.Load(), PerSecond: float64(done.Load()) / elapsed.Seconds(),
		MedianMS: lat.ms(0.5), P99MS: lat.ms(0.99)}, nil
}

func (b *bench) lifecycle(ctx context.Context, i int, r *rand.Rand, pair [2]string) error {
	agent := b.agents[i%len(b.agents)]
	req := b.registration(r)
	req.Location.DistrictCode, req.CategoryCode = pair[0], pair[1]
	resp, err := helplinev1.NewIntakeServiceClient(b.conn()).RegisterComplaint(agent, req)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	dkt := resp.GetComplaint().GetDocket()
	post, ch := b.expect(dkt)
	if ch != nil {
		select {
		case ev := <-ch:
			post = ev.GetSnapshot().GetPost()
		case <-time.After(30 * time.Second):
			return fmt.Errorf("%s not assigned within 30 s", dkt)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	officer, ok := b.officers[post]
	if !ok {
		return fmt.Errorf("%s went to %q, which has no officer", dkt, post)
	}
	res := helplinev1.NewResolutionServiceClient(b.conn())
	if _, err := res.AcknowledgeComplaint(officer, &helplinev1.AcknowledgeComplaintRequest{Docket: dkt}); err != nil {
		return fmt.Errorf("acknowledge: %w", err)
	}
	if _, err := res.ResolveComplaint(officer, &helplinev1.ResolveComplaintRequest{Docket: dkt,
		ActionTakenReport: "गड्ढे भर दिए गए, सड़क की मरम्मत पूरी। Pothole filled and road repaired."}); err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	fb, err := helplinev1.NewSatisfactionServiceClient(b.conn()).RecordFeedback(agent, &helplinev1.RecordFeedbackRequest{
		Docket: dkt, Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_REACHED, Satisfied: true, Rating: 5})
	if err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	if fb.GetComplaint().GetStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_CLOSED {
		return fmt.Errorf("%s is %v after satisfied feedback", dkt, fb.GetComplaint().GetStatus())
	}
	return nil
}

// burst registers at rate for d with a 2-second deadline per call, and
// sorts every answer: success within the deadline, a quick refusal
// (RESOURCE_EXHAUSTED or UNAVAILABLE), or anything else. It then checks
// that every acknowledged complaint is stored.
func (b *bench) burst(ctx context.Context, rate int, d time.Duration) (*burstRun, error) {
	out := &burstRun{Rate: rate}
	var ok, refused latencies
	var other atomic.Int64
	var mu sync.Mutex
	var acked []string
	var example atomic.Value
	start := time.Now()
	openLoop(ctx, rate, d, 20000, func(i int, r *rand.Rand) {
		cctx, cancel := context.WithTimeout(b.agents[i%len(b.agents)], 2*time.Second)
		defer cancel()
		t := time.Now()
		resp, err := helplinev1.NewIntakeServiceClient(b.conn()).RegisterComplaint(cctx, b.registration(r))
		took := time.Since(t)
		switch status.Code(err) {
		case codes.OK:
			ok.add(took)
			mu.Lock()
			acked = append(acked, resp.GetComplaint().GetDocket())
			mu.Unlock()
		case codes.ResourceExhausted, codes.Unavailable:
			refused.add(took)
		default:
			other.Add(1)
			example.CompareAndSwap(nil, err.Error())
		}
	})
	out.Seconds = time.Since(start).Seconds()
	out.OK, out.Refused, out.Other = int64(len(ok.d)), int64(len(refused.d)), other.Load()
	out.Sent = out.OK + out.Refused + out.Other
	out.OKP99MS, out.OKMaxMS = ok.ms(0.99), ok.max()
	out.RefusedP99MS, out.RefusedMaxMS = refused.ms(0.99), refused.max()
	for _, d := range refused.d {
		if d > 50*time.Millisecond {
			out.SlowRefusals++
		}
	}
	if e := example.Load(); e != nil {
		out.OtherExamples = e.(string)
	}
	var found int64
	if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM complaints WHERE docket = ANY($1)`, acked).Scan(&found); err != nil {
		return nil, err
	}
	out.LostAcked = int64(len(acked)) - found
	if _, err := b.drain(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	return out, nil
}

// history registers n complaints through gRPC with agents concurrent agents
// and waits until every one is routed.
func (b *bench) history(ctx context.Context, n, agents int) (*historyRun, error) {
	var left atomic.Int64
	left.Store(int64(n))
	var errN atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for i := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))
			client := helplinev1.NewIntakeServiceClient(b.conn())
			for left.Add(-1) >= 0 && ctx.Err() == nil {
				for {
					_, err := client.RegisterComplaint(b.agents[i], b.registration(r))
					if err == nil {
						break
					}
					errN.Add(1)
					if ctx.Err() != nil {
						return
					}
					time.Sleep(10 * time.Millisecond) // a refusal: retry as a client would
				}
			}
		}()
	}
	wg.Wait()
	if _, err := b.drain(ctx, 10*time.Minute); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	return &historyRun{Complaints: n, Errors: errN.Load(), Seconds: elapsed.Seconds(), PerSecond: float64(n) / elapsed.Seconds()}, nil
}

// queryLatencies tops the database up to n complaints, spread over the
// year, the posts and the outcomes, with their statistics, and times an
// officer's first queue page and every StatsService query but the export.
func (b *bench) queryLatencies(ctx context.Context, n, calls int) ([]queryLatency, error) {
	var have int
	if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM complaints`).Scan(&have); err != nil {
		return nil, err
	}
	if have < n {
		progress(fmt.Sprintf("  storing %d more complaints in SQL", n-have))
		if err := topUp(ctx, b.pool, n-have); err != nil {
			return nil, err
		}
	}
	var out []queryLatency
	add := func(q, g string, f func() (int, error)) error {
		rows, med, p99, err := timeIt(calls, f)
		if err != nil {
			return fmt.Errorf("%s %s: %w", q, g, err)
		}
		out = append(out, queryLatency{Query: q, Grouping: g, Rows: rows,
			MedianMS: float64(med.Microseconds()) / 1000, P99MS: float64(p99.Microseconds()) / 1000})
		return nil
	}
	officer := b.officers["PWD-SHIMLA-L1"]
	res := helplinev1.NewResolutionServiceClient(b.conn())
	if err := add("ListAssignedComplaints (first page of 50)", "pwd-shimla-l1", func() (int, error) {
		r, err := res.ListAssignedComplaints(officer, &helplinev1.ListAssignedComplaintsRequest{PageSize: 50})
		return len(r.GetComplaints()), err
	}); err != nil {
		return nil, err
	}
	client := helplinev1.NewStatsServiceClient(b.conn())
	year := time.Now().In(clock.IST).Format("2006")
	for _, g := range []helplinev1.StatsGrouping{
		helplinev1.StatsGrouping_STATS_GROUPING_DEPARTMENT, helplinev1.StatsGrouping_STATS_GROUPING_DISTRICT,
		helplinev1.StatsGrouping_STATS_GROUPING_CATEGORY, helplinev1.StatsGrouping_STATS_GROUPING_OFFICER,
		helplinev1.StatsGrouping_STATS_GROUPING_CHANNEL, helplinev1.StatsGrouping_STATS_GROUPING_LINE,
	} {
		name := strings.TrimPrefix(g.String(), "STATS_GROUPING_")
		if err := add("GetResolutionStats (the year)", name, func() (int, error) {
			r, err := client.GetResolutionStats(b.admin, &helplinev1.GetResolutionStatsRequest{FromDate: year + "-01-01", ToDate: year + "-12-31", GroupBy: g})
			return len(r.GetRows()), err
		}); err != nil {
			return nil, err
		}
		if err := add("GetPendencyAging", name, func() (int, error) {
			r, err := client.GetPendencyAging(b.admin, &helplinev1.GetPendencyAgingRequest{GroupBy: g})
			return len(r.GetRows()), err
		}); err != nil {
			return nil, err
		}
	}
	if err := add("GetDepartmentGrades (this month)", "DEPARTMENT", func() (int, error) {
		r, err := client.GetDepartmentGrades(b.admin, &helplinev1.GetDepartmentGradesRequest{Month: time.Now().In(clock.IST).Format("2006-01")})
		return len(r.GetGrades()), err
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// topUp stores n complaints in SQL, as if registered over this year before
// the run: each with a citizen, a register history entry and a statistics
// fact; a tenth still pending at an L1 post. Then the rollups are rebuilt
// from the facts, as `helpline stats rebuild` would.
func topUp(ctx context.Context, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}, n int) error {
	const chunk = 100_000
	if err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `CREATE SEQUENCE IF NOT EXISTS bench_stored_seq`)
		return err
	}); err != nil {
		return err
	}
	for done := 0; done < n; done += chunk {
		k := min(chunk, n-done)
		err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `
				WITH cats AS (SELECT row_number() OVER (ORDER BY c.id) - 1 AS i, c.id, c.code, c.department_id, d.code AS dept
				              FROM categories c JOIN departments d ON d.id = c.department_id),
				     dists AS (SELECT row_number() OVER (ORDER BY id) - 1 AS i, id, code FROM locations WHERE kind = 'DISTRICT'),
				     nc AS (SELECT count(*) AS n FROM cats), nd AS (SELECT count(*) AS n FROM dists),
				     g AS (SELECT g, random() AS r, (random() * 1e9)::bigint AS h, '+917' || lpad(($2 + g)::text, 9, '0') AS phone
				           FROM generate_series(1, $1) g),
				     cit AS (INSERT INTO citizens (phone, name, language, created_at, updated_at)
				             SELECT phone, 'Stored Citizen', 'hi', now(), now() FROM g
				             ON CONFLICT (phone) DO UPDATE SET updated_at = excluded.updated_at RETURNING id, phone),
				     rows AS (SELECT g.*, cats.id AS cat_id, cats.code AS cat_code, cats.department_id, cats.dept, dists.id AS dist_id, dists.code AS dist_code,
				                     date_trunc('year', now()) + ((g.h % 320) || ' days')::interval + ((g.h % 86400) || ' seconds')::interval AS at,
				                     CASE WHEN g.r < 0.1 THEN 'ASSIGNED' ELSE 'CLOSED' END AS status
				              FROM g JOIN nc ON true JOIN nd ON true
				              JOIN cats ON cats.i = g.h % nc.n JOIN dists ON dists.i = (g.h / 7) % nd.n),
				     ins AS (INSERT INTO complaints (docket, version, status, citizen_id, district_id, locality, address, category_id, department_id,
				                                     post_id, level, sla_due_at, description, channel, helpline, created_at, updated_at, closed_at, closure,
				                                     resolved_at, idem_scope, idem_key, idem_hash)
				             SELECT '25-' || lpad(nextval('bench_stored_seq')::text, 7, '0') || '-0', 2, rows.status,
				                    cit.id,
				                    rows.dist_id, 'Stored', '', rows.cat_id, rows.department_id,
				                    (SELECT p.id FROM posts p WHERE p.department_id = rows.department_id AND p.level = 1 AND p.district_id = rows.dist_id),
				                    1, rows.at + interval '7 days', 'stored complaint ' || rows.g, 'PHONE', '1100', rows.at, rows.at,
				                    CASE WHEN rows.status = 'CLOSED' THEN rows.at + interval '3 days' END,
				                    CASE WHEN rows.status = 'CLOSED' THEN 'SATISFIED' END,
				                    CASE WHEN rows.status = 'CLOSED' THEN rows.at + interval '2 days' END,
				                    'stored', gen_random_uuid()::text, ''::bytea
				             FROM rows JOIN cit ON cit.phone = rows.phone RETURNING id, created_at, status, category_id, district_id)
				INSERT INTO complaint_history (complaint_id, version, action, to_status, actor, actor_role, at, category_code, district_code, level)
				SELECT ins.id, 1, 'register', 'REGISTERED', 'stored', 'AGENT', ins.created_at, c.code, l.code, 0
				FROM ins JOIN categories c ON c.id = ins.category_id JOIN locations l ON l.id = ins.district_id`, k, done)
			if err != nil {
				return fmt.Errorf("store complaints: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return db.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO stats_facts (complaint_id, version, day, department, district, category, officer, channel, line, status, closure,
			                         reopened, escalated, reached, resolved, sla_met, bucket, assignments, acks_on_time)
			SELECT c.id, 2, (c.created_at AT TIME ZONE 'Asia/Kolkata')::date, d.code, l.code, cat.code, coalesce(p.code, ''),
			       c.channel, c.helpline, c.status, coalesce(c.closure, ''), 0, 0, (c.status = 'CLOSED')::int, c.status = 'CLOSED',
			       c.status = 'CLOSED', CASE WHEN c.status = 'CLOSED' THEN 5 ELSE -1 END, 1, 1
			FROM complaints c JOIN departments d ON d.id = c.department_id JOIN locations l ON l.id = c.district_id
			JOIN categories cat ON cat.id = c.category_id LEFT JOIN posts p ON p.id = c.post_id
			WHERE c.idem_scope = 'stored'
			ON CONFLICT (complaint_id) DO NOTHING`)
		if err != nil {
			return fmt.Errorf("store facts: %w", err)
		}
		// Rebuild every rollup from the facts, as `helpline stats rebuild` does.
		rows, err := tx.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
			AND tablename LIKE 'stats\_%' AND tablename NOT IN ('stats_facts', 'stats_grades')`)
		if err != nil {
			return err
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `TRUNCATE `+strings.Join(tables, ", ")); err != nil {
			return fmt.Errorf("clear rollups: %w", err)
		}
		return stats.RollupFromFacts(ctx, tx)
	})
}

func percentileMS(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := min(len(s)-1, int(float64(len(s))*p))
	return float64(s[i].Microseconds()) / 1000
}
