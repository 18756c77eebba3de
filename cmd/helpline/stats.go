package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/services/stats"
)

const statsUsage = `usage: helpline stats <resolution|aging|grades|export|rebuild> [flags]

  resolution  [-from 2026-11-01 -to 2026-11-30] [-by department|district|category|officer|channel|line] [-department D] [-district D] [-csv FILE]
  aging       [-by ...] [-department D] [-district D] [-csv FILE]
  grades      [-month 2026-11] [-csv FILE]
  export      -from 2026-11-01 -to 2026-11-30 [-department D] [-district D] [-csv FILE (default: standard output)]
  rebuild     recompute every fact and rollup from the complaint history`

// statsCommand prints statistics as tables (and CSV), straight from the
// database through the StatsService's own handlers, as an administrator.
func statsCommand(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprintln(stdout, statsUsage)
		return errors.New("no stats command given")
	}
	var c config
	fs := flag.NewFlagSet("helpline stats "+args[0], flag.ContinueOnError)
	c.flags(fs)
	from := fs.String("from", "", "first registration day (YYYY-MM-DD)")
	to := fs.String("to", "", "last registration day (YYYY-MM-DD)")
	by := fs.String("by", "department", "grouping: department, district, category, officer, channel or line")
	dept := fs.String("department", "", "only this department")
	district := fs.String("district", "", "only this district")
	month := fs.String("month", "", "month for grades (YYYY-MM)")
	csvPath := fs.String("csv", "", "also write the table as CSV to this file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	pool, err := db.Open(ctx, c.DatabaseURL, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := stats.New(pool, clock.Real{}, calendarFromEnv(), log, stats.DefaultGrades)
	admin := caller.With(ctx, caller.Caller{Username: "operator:" + osUser(), Role: caller.Admin})
	group := helplinev1.StatsGrouping(helplinev1.StatsGrouping_value["STATS_GROUPING_"+strings.ToUpper(*by)])

	var header []string
	var rows [][]string
	switch args[0] {
	case "resolution":
		resp, err := svc.GetResolutionStats(admin, &helplinev1.GetResolutionStatsRequest{FromDate: *from, ToDate: *to, GroupBy: group, DepartmentCode: *dept, DistrictCode: *district})
		if err != nil {
			return describe(err)
		}
		header = []string{strings.ToUpper(*by), "registered", "resolved", "satisfied", "no_response", "special", "pending", "reopened", "escalated",
			"resolution_rate", "satisfaction_rate", "satisfied_of_reached", "sla_compliance", "median", "p90"}
		for _, r := range append(resp.GetRows(), resp.GetTotal()) {
			rows = append(rows, []string{r.GetKey(), n(r.GetRegistered()), n(r.GetResolved()), n(r.GetClosedSatisfied()), n(r.GetClosedNoResponse()),
				n(r.GetSpecialClosures()), n(r.GetPending()), n(r.GetReopened()), n(r.GetEscalated()), pct(r.GetResolutionRate()),
				pct(r.GetSatisfactionRate()), pct(r.GetSatisfiedShareOfReached()), pct(r.GetSlaCompliance()),
				r.GetMedianResolutionBucket(), r.GetP90ResolutionBucket()})
		}
	case "aging":
		resp, err := svc.GetPendencyAging(admin, &helplinev1.GetPendencyAgingRequest{GroupBy: group, DepartmentCode: *dept, DistrictCode: *district, FromDate: *from, ToDate: *to})
		if err != nil {
			return describe(err)
		}
		header = []string{strings.ToUpper(*by), "0-7 days", "8-15", "16-30", "31-50", ">50", "pending"}
		for _, r := range append(resp.GetRows(), resp.GetTotal()) {
			rows = append(rows, []string{r.GetKey(), n(r.GetDays_0_7()), n(r.GetDays_8_15()), n(r.GetDays_16_30()), n(r.GetDays_31_50()), n(r.GetDaysOver_50()), n(r.GetTotal())})
		}
	case "grades":
		resp, err := svc.GetDepartmentGrades(admin, &helplinev1.GetDepartmentGradesRequest{Month: *month})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "Department grades for %s (frozen: %v)\n", resp.GetMonth(), resp.GetFrozen())
		header = []string{"rank", "department", "grade", "score", "registered", "satisfied", "pending>50d", "special", "unacknowledged"}
		for _, g := range resp.GetGrades() {
			rows = append(rows, []string{strconv.Itoa(int(g.GetRank())), g.GetDepartmentCode(), g.GetGrade(), fmt.Sprintf("%.1f", g.GetScore()),
				n(g.GetRegistered()), pct(g.GetSatisfiedShare()), pct(g.GetPendingOver_50Share()), pct(g.GetSpecialClosureShare()), pct(g.GetUnacknowledgedShare())})
		}
	case "export":
		out := stdout
		if *csvPath != "" {
			f, err := os.Create(*csvPath)
			if err != nil {
				return err
			}
			defer f.Close()
			out = f
		}
		w := csv.NewWriter(out)
		_ = w.Write([]string{"docket", "registered_at", "status", "department", "district", "category", "channel", "helpline", "post", "officer",
			"level", "sla_due_at", "overdue", "resolved_at", "closed_at", "closure", "reopen_count", "escalation_count", "follow_up_count"})
		err := svc.ExportComplaints(&helplinev1.ExportComplaintsRequest{FromDate: *from, ToDate: *to, DepartmentCode: *dept, DistrictCode: *district},
			&exportStream{ctx: admin, w: w})
		w.Flush()
		if err != nil {
			return describe(err)
		}
		return w.Error()
	case "rebuild":
		start := time.Now()
		count, err := svc.Rebuild(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rebuilt the statistics of %d complaints from their history in %v\n", count, time.Since(start).Round(time.Millisecond))
		return nil
	default:
		fmt.Fprintln(stdout, statsUsage)
		return fmt.Errorf("unknown stats command %q", args[0])
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if *csvPath != "" {
		f, err := os.Create(*csvPath)
		if err != nil {
			return err
		}
		w := csv.NewWriter(f)
		_ = w.Write(header)
		_ = w.WriteAll(rows)
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "wrote", *csvPath)
	}
	return nil
}

func n(v int64) string { return strconv.FormatInt(v, 10) }

func pct(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

// exportStream writes the export's rows as CSV.
type exportStream struct {
	grpc.ServerStream
	ctx context.Context
	w   *csv.Writer
}

func (s *exportStream) Context() context.Context { return s.ctx }

func (s *exportStream) SetHeader(metadata.MD) error { return nil }

func (s *exportStream) Send(r *helplinev1.ExportComplaintsResponse) error {
	t := func(ts interface{ AsTime() time.Time }, ok bool) string {
		if !ok {
			return ""
		}
		return ts.AsTime().In(clock.IST).Format(time.RFC3339)
	}
	return s.w.Write([]string{r.GetDocket(), t(r.GetRegisteredAt(), r.GetRegisteredAt() != nil), strings.TrimPrefix(r.GetStatus().String(), "COMPLAINT_STATUS_"),
		r.GetDepartmentCode(), r.GetDistrictCode(), r.GetCategoryCode(), strings.TrimPrefix(r.GetChannel().String(), "CHANNEL_"), r.GetHelpline(),
		r.GetPost(), r.GetOfficer(), strconv.Itoa(int(r.GetLevel())), t(r.GetSlaDueAt(), r.GetSlaDueAt() != nil), strconv.FormatBool(r.GetOverdue()),
		t(r.GetResolvedAt(), r.GetResolvedAt() != nil), t(r.GetClosedAt(), r.GetClosedAt() != nil), strings.TrimPrefix(strings.TrimPrefix(r.GetClosure().String(), "CLOSURE_"), "UNSPECIFIED"),
		strconv.Itoa(int(r.GetReopenCount())), strconv.Itoa(int(r.GetEscalationCount())), strconv.Itoa(int(r.GetFollowUpCount()))})
}
