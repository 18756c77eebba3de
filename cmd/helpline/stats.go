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
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/statstable"
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

	var table statstable.Table
	switch args[0] {
	case "resolution":
		resp, err := svc.GetResolutionStats(admin, &helplinev1.GetResolutionStatsRequest{FromDate: *from, ToDate: *to, GroupBy: group, DepartmentCode: *dept, DistrictCode: *district})
		if err != nil {
			return describe(err)
		}
		table = statstable.Resolution(resp, *by)
	case "aging":
		resp, err := svc.GetPendencyAging(admin, &helplinev1.GetPendencyAgingRequest{GroupBy: group, DepartmentCode: *dept, DistrictCode: *district, FromDate: *from, ToDate: *to})
		if err != nil {
			return describe(err)
		}
		table = statstable.Aging(resp, *by)
	case "grades":
		resp, err := svc.GetDepartmentGrades(admin, &helplinev1.GetDepartmentGradesRequest{Month: *month})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "Department grades for %s (frozen: %v)\n", resp.GetMonth(), resp.GetFrozen())
		table = statstable.Grades(resp)
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
		_ = w.Write(statstable.ExportHeader)
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
	if err := table.Print(stdout); err != nil {
		return err
	}
	if *csvPath != "" {
		f, err := os.Create(*csvPath)
		if err != nil {
			return err
		}
		err = table.WriteCSV(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "wrote", *csvPath)
	}
	return nil
}

// exportStream writes the export's rows as CSV.
type exportStream struct {
	grpc.ServerStream
	ctx context.Context
	w   *csv.Writer
}

func (s *exportStream) Context() context.Context { return s.ctx }

func (s *exportStream) SetHeader(metadata.MD) error { return nil }

func (s *exportStream) Send(r *helplinev1.ExportComplaintsResponse) error {
	return s.w.Write(statstable.ExportRow(r))
}
