// Package metrics is the process's Prometheus metrics: RPC counts and
// latencies by method and code (recorded by gRPC interceptors), and, read
// at scrape time, the outbox backlog, each JetStream consumer's lag,
// complaints by state and escalations. Database and NATS readings are
// cached for a few seconds so frequent scrapes cost nothing.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/natsbus"
)

// Metrics is one process's registry and RPC instruments.
type Metrics struct {
	reg *prometheus.Registry
	rpc *prometheus.HistogramVec
}

// New returns a registry with the Go runtime and process collectors, the RPC
// histogram and the system state read from pool and js (either may be nil
// in a process that has none).
func New(pool *pgxpool.Pool, js jetstream.JetStream, clk clock.Clock, log *slog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		rpc: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "helpline_rpc_duration_seconds",
			Help: "Time to serve an RPC (gRPC or REST), by service, method and gRPC code; _count is the number of calls.",
			// From a cached token check to a slow statistics query.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"service", "method", "code"}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), m.rpc)
	m.reg.MustRegister(&state{pool: pool, js: js, clock: clk, log: log})
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *Metrics) observe(fullMethod string, start time.Time, err error) {
	svc, method := "unknown", fullMethod
	if i := strings.LastIndexByte(fullMethod, '/'); i > 0 {
		svc, method = strings.TrimPrefix(fullMethod[:i], "/"), fullMethod[i+1:]
	}
	m.rpc.WithLabelValues(svc, method, status.Code(err).String()).Observe(time.Since(start).Seconds())
}

// UnaryInterceptor records every unary RPC; install it first, so refusals
// (authentication, limits) are counted with their codes.
func (m *Metrics) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		m.observe(info.FullMethod, start, err)
		return resp, err
	}
}

// StreamInterceptor records every streaming RPC, for its whole duration.
func (m *Metrics) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		m.observe(info.FullMethod, start, err)
		return err
	}
}

var (
	outboxBacklog = prometheus.NewDesc("helpline_outbox_backlog",
		"Events committed but not yet published to NATS.", nil, nil)
	outboxOldest = prometheus.NewDesc("helpline_outbox_oldest_age_seconds",
		"Age of the oldest unpublished event; 0 when none waits.", nil, nil)
	consumerPending = prometheus.NewDesc("helpline_consumer_pending",
		"Events in the stream not yet delivered to the consumer.", []string{"consumer"}, nil)
	consumerAckPending = prometheus.NewDesc("helpline_consumer_ack_pending",
		"Events delivered to the consumer and not yet acknowledged.", []string{"consumer"}, nil)
	consumerRedelivered = prometheus.NewDesc("helpline_consumer_redelivered",
		"Events delivered more than once and not yet acknowledged.", []string{"consumer"}, nil)
	complaintsByStatus = prometheus.NewDesc("helpline_complaints",
		"Complaints by lifecycle status.", []string{"status"}, nil)
	escalations = prometheus.NewDesc("helpline_escalations_total",
		"Escalations of all complaints (from the statistics rollups).", nil, nil)
	scrapeErrors = prometheus.NewDesc("helpline_metrics_scrape_errors",
		"1 when the last reading of the database or NATS failed.", []string{"source"}, nil)
)

// state reads the system's state at scrape time, at most every cacheFor.
type state struct {
	pool  *pgxpool.Pool
	js    jetstream.JetStream
	clock clock.Clock
	log   *slog.Logger

	mu     sync.Mutex
	readAt time.Time
	cached []prometheus.Metric
}

const cacheFor = 5 * time.Second

func (s *state) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{outboxBacklog, outboxOldest, consumerPending, consumerAckPending,
		consumerRedelivered, complaintsByStatus, escalations, scrapeErrors} {
		ch <- d
	}
}

func (s *state) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.readAt) > cacheFor {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.cached = s.read(ctx)
		cancel()
		s.readAt = time.Now()
	}
	for _, m := range s.cached {
		ch <- m
	}
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func (s *state) read(ctx context.Context) []prometheus.Metric {
	var out []prometheus.Metric
	if s.pool != nil {
		dbErr := 0.0
		db, err := s.readDB(ctx)
		if err != nil {
			s.log.WarnContext(ctx, "metrics: reading the database", "err", err)
			dbErr = 1
		}
		out = append(out, db...)
		out = append(out, gauge(scrapeErrors, dbErr, "postgresql"))
	}
	if s.js != nil {
		natsErr := 0.0
		lag, err := s.readNATS(ctx)
		if err != nil {
			s.log.WarnContext(ctx, "metrics: reading NATS", "err", err)
			natsErr = 1
		}
		out = append(out, lag...)
		out = append(out, gauge(scrapeErrors, natsErr, "nats"))
	}
	return out
}

func (s *state) readDB(ctx context.Context) ([]prometheus.Metric, error) {
	var out []prometheus.Metric
	var backlog int64
	var oldest float64
	err := s.pool.QueryRow(ctx, `
		SELECT count(*), coalesce(extract(epoch FROM $1 - min(created_at)), 0)::float8
		FROM outbox WHERE published_at IS NULL`, s.clock.Now()).Scan(&backlog, &oldest)
	if err != nil {
		return out, err
	}
	out = append(out, gauge(outboxBacklog, float64(backlog)), gauge(outboxOldest, max(oldest, 0)))

	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM complaints GROUP BY status`)
	if err != nil {
		return out, err
	}
	seen := map[string]bool{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return out, err
		}
		seen[st] = true
		out = append(out, gauge(complaintsByStatus, float64(n), st))
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	for _, st := range []string{"REGISTERED", "UNROUTED", "ASSIGNED", "IN_PROGRESS", "ON_HOLD", "RESOLVED", "REOPENED", "CLOSED"} {
		if !seen[st] {
			out = append(out, gauge(complaintsByStatus, 0, st))
		}
	}
	var esc int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(escalated), 0)::bigint FROM stats_base`).Scan(&esc); err != nil {
		return out, err
	}
	out = append(out, prometheus.MustNewConstMetric(escalations, prometheus.CounterValue, float64(esc)))
	return out, nil
}

func (s *state) readNATS(ctx context.Context) ([]prometheus.Metric, error) {
	stream, err := s.js.Stream(ctx, natsbus.StreamName)
	if err != nil {
		return nil, err
	}
	var out []prometheus.Metric
	infos := stream.ListConsumers(ctx)
	for info := range infos.Info() {
		out = append(out,
			gauge(consumerPending, float64(info.NumPending), info.Name),
			gauge(consumerAckPending, float64(info.NumAckPending), info.Name),
			gauge(consumerRedelivered, float64(info.NumRedelivered), info.Name))
	}
	return out, infos.Err()
}
