// Command helpline-bench measures Helpline under load and prints a table.
//
//	helpline-bench load [-concurrency 1,16,64,256] [-history 604557] ...
//	helpline-bench stats -complaints 1000000
//
// load (`make bench`) starts `helpline serve` as a separate process on the
// benchmark PostgreSQL cluster and drives it through gRPC like a call
// centre: intake steps, the raw PostgreSQL limit measured with pgbench,
// register→assigned latency, full lifecycles, a burst, a state's history,
// and query latencies at a million complaints.
//
// stats loads facts and rollups for N complaints into a fresh database
// (helpline_bench on the local cluster), starts the stats service behind
// gRPC, and times every StatsService query for every grouping.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/password"
	"github.com/helpline/helpline/internal/seed"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/services/stats"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "helpline-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "load" {
		return runLoad(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "stats" {
		return errors.New("usage: helpline-bench load [flags] | helpline-bench stats [-complaints N] [-admin-url URL] [-queries N]")
	}
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	n := fs.Int("complaints", 1_000_000, "complaints to load")
	admin := fs.String("admin-url", "postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable", "superuser URL of the PostgreSQL cluster")
	queries := fs.Int("queries", 50, "calls per query and grouping")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dbURL, err := freshDatabase(ctx, *admin, "helpline_bench")
	if err != nil {
		return err
	}
	pool, err := db.Open(ctx, dbURL, 4)
	if err != nil {
		return err
	}
	if err := db.Migrate(ctx, pool, log); err != nil {
		return err
	}
	const pw = "bench-password"
	hash, err := password.NewHasher(password.Cheap, 1).Hash(ctx, pw)
	if err != nil {
		return err
	}
	if _, err := seed.Load(ctx, pool, hash, time.Now()); err != nil {
		return err
	}
	start := time.Now()
	if err := loadFacts(ctx, pool, *n); err != nil {
		return err
	}
	var rollupRows int64
	_ = pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM stats_base) + (SELECT count(*) FROM stats_category) + (SELECT count(*) FROM stats_officer)
		+ (SELECT count(*) FROM stats_channel) + (SELECT count(*) FROM stats_line)`).Scan(&rollupRows)
	fmt.Printf("loaded %d complaints' facts and %d rollup rows in %v\n", *n, rollupRows, time.Since(start).Round(time.Second))
	pool.Close()

	dir, err := os.MkdirTemp("", "helpline-bench-nats-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := server.Start(ctx, server.Config{
		GRPCAddr: "127.0.0.1:0", DatabaseURL: dbURL, DBMaxConns: 8, NATSListen: "127.0.0.1:0", DataDir: dir,
		Services: []string{server.ServiceIdentity, server.ServiceStats}, Retention: time.Hour, Calendar: calendar.Default,
		Clock: clock.Real{}, Password: password.Cheap,
	}, log)
	if err != nil {
		return err
	}
	defer srv.Shutdown(context.Background())
	conn, err := grpc.NewClient(srv.GRPCAddr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	login, err := helplinev1.NewIdentityServiceClient(conn).Login(ctx, &helplinev1.LoginRequest{Username: "admin", Password: pw})
	if err != nil {
		return err
	}
	actx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+login.GetToken())
	client := helplinev1.NewStatsServiceClient(conn)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "query\tgrouping\trows\tmedian\tp99\t\n")
	groupings := []helplinev1.StatsGrouping{
		helplinev1.StatsGrouping_STATS_GROUPING_DEPARTMENT, helplinev1.StatsGrouping_STATS_GROUPING_DISTRICT,
		helplinev1.StatsGrouping_STATS_GROUPING_CATEGORY, helplinev1.StatsGrouping_STATS_GROUPING_OFFICER,
		helplinev1.StatsGrouping_STATS_GROUPING_CHANNEL, helplinev1.StatsGrouping_STATS_GROUPING_LINE,
	}
	for _, g := range groupings {
		name := strings.TrimPrefix(g.String(), "STATS_GROUPING_")
		rows, med, p99, err := timeIt(*queries, func() (int, error) {
			r, err := client.GetResolutionStats(actx, &helplinev1.GetResolutionStatsRequest{FromDate: "2026-01-01", ToDate: "2026-12-31", GroupBy: g})
			return len(r.GetRows()), err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "GetResolutionStats (a year)\t%s\t%d\t%v\t%v\t\n", name, rows, med, p99)
		rows, med, p99, err = timeIt(*queries, func() (int, error) {
			r, err := client.GetPendencyAging(actx, &helplinev1.GetPendencyAgingRequest{GroupBy: g})
			return len(r.GetRows()), err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "GetPendencyAging (all days)\t%s\t%d\t%v\t%v\t\n", name, rows, med, p99)
	}
	rows, med, p99, err := timeIt(*queries, func() (int, error) {
		r, err := client.GetDepartmentGrades(actx, &helplinev1.GetDepartmentGradesRequest{Month: time.Now().In(clock.IST).Format("2006-01")})
		return len(r.GetGrades()), err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(tw, "GetDepartmentGrades (this month, live)\tDEPARTMENT\t%d\t%v\t%v\t\n", rows, med, p99)
	return tw.Flush()
}

func timeIt(n int, f func() (int, error)) (int, time.Duration, time.Duration, error) {
	var d []time.Duration
	rows := 0
	for i := 0; i < n; i++ {
		t := time.Now()
		r, err := f()
		if err != nil {
			return 0, 0, 0, err
		}
		d = append(d, time.Since(t))
		rows = r
	}
	slices.Sort(d)
	return rows, d[len(d)/2].Round(10 * time.Microsecond), d[min(len(d)-1, len(d)*99/100)].Round(10 * time.Microsecond), nil
}

// freshDatabase drops and creates database name on the cluster of admin.
func freshDatabase(ctx context.Context, admin, name string) (string, error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w (start the cluster with make run or scripts/postgres.sh start dev 5433)", admin, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name+` ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0`); err != nil {
		return "", err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// loadFacts writes n facts spread over this year's days, every department,
// district, category, channel and line, with a realistic mix of outcomes,
// then sums them into the rollups as the rebuild does.
func loadFacts(ctx context.Context, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}, n int) error {
	return db.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			WITH cats AS (SELECT row_number() OVER (ORDER BY c.code) - 1 AS i, c.code, d.code AS dept
			              FROM categories c JOIN departments d ON d.id = c.department_id),
			     dists AS (SELECT row_number() OVER (ORDER BY code) - 1 AS i, code FROM locations WHERE kind = 'DISTRICT'),
			     nc AS (SELECT count(*) AS n FROM cats), nd AS (SELECT count(*) AS n FROM dists),
			     g AS (SELECT g, random() AS r, random() AS r2, (random() * 1e9)::bigint AS h FROM generate_series(1, $1) g)
			INSERT INTO stats_facts (complaint_id, version, day, department, district, category, officer, channel, line, status, closure,
			                         reopened, escalated, reached, resolved, sla_met, bucket, assignments, acks_on_time)
			SELECT g.g, 5, date_trunc('year', now())::date + (g.h % 330)::int, cats.dept, dists.code, cats.code,
			       lower(cats.dept || '-' || dists.code || '-l1'),
			       (ARRAY['PHONE','WHATSAPP','WEB','MOBILE_APP','EMAIL','SOCIAL_MEDIA','WALK_IN'])[1 + g.h % 7],
			       (ARRAY['1100','1100','1100','181','1077'])[1 + g.h % 5],
			       o.status, o.closure, o.reopened, (g.r2 < 0.2)::int, o.reached,
			       o.status IN ('RESOLVED') OR o.closure IN ('SATISFIED', 'NO_RESPONSE'), g.r2 < 0.8,
			       CASE WHEN o.status IN ('RESOLVED') OR o.closure IN ('SATISFIED', 'NO_RESPONSE') THEN (g.h % 12)::int ELSE -1 END,
			       1 + (g.r2 < 0.2)::int, (g.r2 < 0.9)::int
			FROM g
			JOIN nc ON true JOIN nd ON true
			JOIN cats ON cats.i = g.h % nc.n
			JOIN dists ON dists.i = (g.h / 7) % nd.n
			CROSS JOIN LATERAL (SELECT CASE WHEN g.r < 0.10 THEN 'ASSIGNED' WHEN g.r < 0.15 THEN 'IN_PROGRESS' WHEN g.r < 0.25 THEN 'RESOLVED'
			                               WHEN g.r < 0.97 THEN 'CLOSED' ELSE 'REOPENED' END AS status,
			                          CASE WHEN g.r < 0.25 OR g.r >= 0.97 THEN '' WHEN g.r < 0.80 THEN 'SATISFIED' WHEN g.r < 0.92 THEN 'NO_RESPONSE' ELSE 'SPECIAL' END AS closure,
			                          (g.r >= 0.97 OR (g.r >= 0.25 AND g.r < 0.30))::int AS reopened,
			                          CASE WHEN g.r >= 0.25 AND g.r < 0.80 THEN 1 ELSE 0 END AS reached) o`, n)
		if err != nil {
			return fmt.Errorf("load facts: %w", err)
		}
		return stats.RollupFromFacts(ctx, tx)
	})
}
