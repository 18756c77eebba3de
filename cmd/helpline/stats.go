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
	var q statstable.Query
	q.Register(fs)
	if err := c.parseArgs(fs, args[1:]); err != nil {
		return err
	}
	cal, err := calendarFromEnv()
	if err != nil {
		return err
	}
	if err := cal.Validate(); err != nil {
		return err
	}
	pool, err := db.Open(ctx, c.DatabaseURL, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := stats.New(pool, clock.Real{}, cal, log, stats.DefaultGrades)
	admin := caller.With(ctx, caller.Caller{Username: "operator:" + osUser(), Role: caller.Admin})

	var table statstable.Table
	switch args[0] {
	case "resolution":
		resp, err := svc.GetResolutionStats(admin, q.ResolutionRequest())
		if err != nil {
			return describe(err)
		}
		table = statstable.Resolution(resp, q.By)
	case "aging":
		resp, err := svc.GetPendencyAging(admin, q.AgingRequest())
		if err != nil {
			return describe(err)
		}
		table = statstable.Aging(resp, q.By)
	case "grades":
		resp, err := svc.GetDepartmentGrades(admin, &helplinev1.GetDepartmentGradesRequest{Month: q.Month})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "Department grades for %s (frozen: %v)\n", resp.GetMonth(), resp.GetFrozen())
		table = statstable.Grades(resp)
	case "export":
		out := stdout
		if q.CSV != "" {
			f, err := os.Create(q.CSV)
			if err != nil {
				return err
			}
			defer f.Close()
			out = f
		}
		w := csv.NewWriter(out)
		_ = w.Write(statstable.ExportHeader)
		err := svc.ExportComplaints(&helplinev1.ExportComplaintsRequest{FromDate: q.From, ToDate: q.To, DepartmentCode: q.Department, DistrictCode: q.District},
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
	return q.Output(stdout, table)
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
