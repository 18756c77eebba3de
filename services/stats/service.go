// Package stats is the StatsService: resolution, satisfaction, SLA and
// pendency figures and monthly department grades, answered from per-day
// rollups that the stats consumer keeps, so that a query costs the same at
// ten million complaints as at ten thousand.
package stats

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/input"
)

// GradeConfig is the department grading formula of DESIGN.md.
type GradeConfig struct {
	// Weights of: satisfied share, no old pendency, no special closures, prompt acknowledgement.
	Weights [4]float64
	// Bounds of grades A, B and C; below C is D.
	Bounds [3]float64
}

// DefaultGrades is DESIGN.md's formula.
var DefaultGrades = GradeConfig{Weights: [4]float64{40, 30, 15, 15}, Bounds: [3]float64{80, 65, 50}}

// Service implements helplinev1.StatsServiceServer.
type Service struct {
	helplinev1.UnimplementedStatsServiceServer
	pool     *pgxpool.Pool
	clock    clock.Clock
	calendar calendar.Calendar
	log      *slog.Logger
	grades   GradeConfig
}

// New returns the stats service.
func New(pool *pgxpool.Pool, clk clock.Clock, cal calendar.Calendar, log *slog.Logger, grades GradeConfig) *Service {
	if grades == (GradeConfig{}) {
		grades = DefaultGrades
	}
	return &Service{pool: pool, clock: clk, calendar: cal, log: log, grades: grades}
}

// grouping is the rollup table and key column of a StatsGrouping.
func grouping(g helplinev1.StatsGrouping) (tableName, key string, err error) {
	switch g {
	case helplinev1.StatsGrouping_STATS_GROUPING_DEPARTMENT:
		return "stats_base", "department", nil
	case helplinev1.StatsGrouping_STATS_GROUPING_DISTRICT:
		return "stats_base", "district", nil
	case helplinev1.StatsGrouping_STATS_GROUPING_CATEGORY:
		return "stats_category", "category", nil
	case helplinev1.StatsGrouping_STATS_GROUPING_OFFICER:
		// Rows hold the post; the officer is whoever holds it now.
		return "stats_officer s LEFT JOIN posts sp ON sp.code = s.officer LEFT JOIN users su ON su.id = sp.holder_user_id",
			"coalesce(su.username, '')", nil
	case helplinev1.StatsGrouping_STATS_GROUPING_CHANNEL:
		return "stats_channel", "channel", nil
	case helplinev1.StatsGrouping_STATS_GROUPING_LINE:
		return "stats_line", "line", nil
	}
	return "", "", apperr.Invalid("group_by", "must be DEPARTMENT, DISTRICT, CATEGORY, OFFICER, CHANNEL or LINE")
}

// period parses an inclusive registration-day range; empty means the
// current month so far.
func (s *Service) period(from, to string, optional bool) (time.Time, time.Time, bool, error) {
	if from == "" && to == "" {
		if optional {
			return time.Time{}, time.Time{}, false, nil
		}
		today := calendar.Day(s.clock.Now())
		return time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC), time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC), true, nil
	}
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return f, f, false, apperr.Invalid("from_date", "must be a date like 2026-11-01")
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return f, t, false, apperr.Invalid("to_date", "must be a date like 2026-11-30")
	}
	if t.Before(f) {
		return f, t, false, apperr.Invalid("to_date", "must not be before from_date")
	}
	if t.Sub(f) > 3660*24*time.Hour {
		return f, t, false, apperr.Invalid("to_date", "a period is at most ten years")
	}
	return f, t, true, nil
}

// filter builds the WHERE clause shared by the rollup queries: the period,
// the optional department and district, and an officer's scope.
type filter struct {
	where []string
	args  []any
}

func (f *filter) arg(v any) string {
	f.args = append(f.args, v)
	return "$" + strconv.Itoa(len(f.args))
}

func (s *Service) newFilter(ctx context.Context, from, to time.Time, hasPeriod bool, dept, district string) (*filter, error) {
	f := &filter{where: []string{"true"}}
	if hasPeriod {
		f.where = append(f.where, "day BETWEEN "+f.arg(from.Format(time.DateOnly))+" AND "+f.arg(to.Format(time.DateOnly)))
	}
	if dept != "" {
		f.where = append(f.where, "department = "+f.arg(dept))
	}
	if district != "" {
		f.where = append(f.where, "district = "+f.arg(district))
	}
	c := caller.From(ctx)
	if c.Role != caller.Officer {
		return f, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT d.code, coalesce(l.code, '') FROM posts p JOIN departments d ON d.id = p.department_id
		LEFT JOIN locations l ON l.id = p.district_id WHERE p.holder_user_id = $1`, c.UserID)
	if err != nil {
		return nil, fmt.Errorf("officer scope: %w", err)
	}
	type scope struct{ dept, district string }
	scopes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (scope, error) {
		var x scope
		return x, r.Scan(&x.dept, &x.district)
	})
	if err != nil {
		return nil, fmt.Errorf("officer scope: %w", err)
	}
	any := []string{"false"}
	for _, sc := range scopes {
		cond := "department = " + f.arg(sc.dept)
		if sc.district != "" {
			cond += " AND district = " + f.arg(sc.district)
		}
		any = append(any, "("+cond+")")
	}
	f.where = append(f.where, "("+strings.Join(any, " OR ")+")")
	return f, nil
}

func (f *filter) sql() string { return strings.Join(f.where, " AND ") }

// codeFilters checks the optional department and district filters: well
// formed, and codes that exist.
func (s *Service) codeFilters(ctx context.Context, dept, district string) (string, string, error) {
	d, err := input.Code("department_code", dept, false)
	if err != nil {
		return "", "", err
	}
	di, err := input.Code("district_code", district, false)
	if err != nil {
		return "", "", err
	}
	if err := complaint.CheckFilterCode(ctx, s.pool, "department_code", complaint.DepartmentCode, d); err != nil {
		return "", "", err
	}
	if err := complaint.CheckFilterCode(ctx, s.pool, "district_code", complaint.DistrictCode, di); err != nil {
		return "", "", err
	}
	return d, di, nil
}

// GetResolutionStats sums the rollups of a period by group.
func (s *Service) GetResolutionStats(ctx context.Context, req *helplinev1.GetResolutionStatsRequest) (*helplinev1.GetResolutionStatsResponse, error) {
	tbl, key, err := grouping(req.GetGroupBy())
	if err != nil {
		return nil, err
	}
	dept, district, err := s.codeFilters(ctx, req.GetDepartmentCode(), req.GetDistrictCode())
	if err != nil {
		return nil, err
	}
	from, to, _, err := s.period(req.GetFromDate(), req.GetToDate(), false)
	if err != nil {
		return nil, err
	}
	f, err := s.newFilter(ctx, from, to, true, dept, district)
	if err != nil {
		return nil, err
	}
	sums := make([]string, len(counterColumns))
	for i, c := range counterColumns {
		sums[i] = "sum(" + c + ")::bigint"
	}
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %s GROUP BY %s ORDER BY %s`,
		key, strings.Join(sums, ", "), tbl, f.sql(), key, key), f.args...)
	if err != nil {
		return nil, fmt.Errorf("resolution stats: %w", err)
	}
	defer rows.Close()
	resp := &helplinev1.GetResolutionStatsResponse{HistogramBuckets: BucketNames}
	var total Counters
	for rows.Next() {
		var k string
		var c Counters
		dst := []any{&k}
		for i := range c {
			dst = append(dst, &c[i])
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("resolution stats: %w", err)
		}
		if c[cRegistered] == 0 {
			continue
		}
		for i := range c {
			total[i] += c[i]
		}
		resp.Rows = append(resp.Rows, resolutionRow(k, c))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("resolution stats: %w", err)
	}
	resp.Total = resolutionRow("TOTAL", total)
	return resp, nil
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// resolutionRow derives a row's rates from its counters.
func resolutionRow(key string, c Counters) *helplinev1.ResolutionStatsRow {
	r := &helplinev1.ResolutionStatsRow{
		Key: key, Registered: c[cRegistered], Resolved: c[cResolved], ClosedSatisfied: c[cSatisfied],
		ClosedNoResponse: c[cNoResponse], SpecialClosures: c[cSpecial], Pending: c[cRegistered] - c[cClosed],
		Reopened: c[cReopened], Escalated: c[cEscalated], FeedbackReached: c[cReached], ResolvedOnTime: c[cSLAMet],
		ResolutionRate:          ratio(c[cResolved], c[cRegistered]),
		SatisfactionRate:        ratio(c[cSatisfied], c[cRegistered]),
		SatisfiedShareOfReached: ratio(c[cSatisfied], c[cReached]),
		SlaCompliance:           ratio(c[cSLAMet], c[cResolved]),
		ResolutionHistogram:     append([]int64(nil), c[cHist:]...),
	}
	r.MedianResolutionBucket = percentileBucket(c[cHist:], 0.5)
	r.P90ResolutionBucket = percentileBucket(c[cHist:], 0.9)
	return r
}

// percentileBucket names the bucket holding the p-th percentile.
func percentileBucket(hist []int64, p float64) string {
	var n int64
	for _, v := range hist {
		n += v
	}
	if n == 0 {
		return ""
	}
	rank := int64(float64(n)*p + 0.999999999) // ceil
	if rank < 1 {
		rank = 1
	}
	var cum int64
	for i, v := range hist {
		cum += v
		if cum >= rank {
			return BucketNames[i]
		}
	}
	return BucketNames[len(BucketNames)-1]
}

// GetPendencyAging counts pending complaints by age since registration.
func (s *Service) GetPendencyAging(ctx context.Context, req *helplinev1.GetPendencyAgingRequest) (*helplinev1.GetPendencyAgingResponse, error) {
	tbl, key, err := grouping(req.GetGroupBy())
	if err != nil {
		return nil, err
	}
	dept, district, err := s.codeFilters(ctx, req.GetDepartmentCode(), req.GetDistrictCode())
	if err != nil {
		return nil, err
	}
	from, to, hasPeriod, err := s.period(req.GetFromDate(), req.GetToDate(), true)
	if err != nil {
		return nil, err
	}
	f, err := s.newFilter(ctx, from, to, hasPeriod, dept, district)
	if err != nil {
		return nil, err
	}
	today := calendar.Day(s.clock.Now()).Format(time.DateOnly)
	t := f.arg(today)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`
		SELECT %s, CASE WHEN day >= %s::date - 7 THEN 0 WHEN day >= %s::date - 15 THEN 1 WHEN day >= %s::date - 30 THEN 2
		                WHEN day >= %s::date - 50 THEN 3 ELSE 4 END AS bucket,
		       sum(registered - closed)::bigint
		FROM %s WHERE %s GROUP BY 1, 2 HAVING sum(registered - closed) <> 0 ORDER BY 1, 2`,
		key, t, t, t, t, tbl, f.sql()), f.args...)
	if err != nil {
		return nil, fmt.Errorf("pendency aging: %w", err)
	}
	defer rows.Close()
	resp := &helplinev1.GetPendencyAgingResponse{AsOf: today, Total: &helplinev1.PendencyAgingRow{Key: "TOTAL"}}
	var row *helplinev1.PendencyAgingRow
	for rows.Next() {
		var k string
		var b int
		var n int64
		if err := rows.Scan(&k, &b, &n); err != nil {
			return nil, fmt.Errorf("pendency aging: %w", err)
		}
		if row == nil || row.Key != k {
			row = &helplinev1.PendencyAgingRow{Key: k}
			resp.Rows = append(resp.Rows, row)
		}
		addAge(row, b, n)
		addAge(resp.Total, b, n)
	}
	return resp, rows.Err()
}

func addAge(r *helplinev1.PendencyAgingRow, bucket int, n int64) {
	switch bucket {
	case 0:
		r.Days_0_7 += n
	case 1:
		r.Days_8_15 += n
	case 2:
		r.Days_16_30 += n
	case 3:
		r.Days_31_50 += n
	default:
		r.DaysOver_50 += n
	}
	r.Total += n
}
