package main

import (
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"
)

func numCPU() int { return runtime.NumCPU() }

// printResults prints the run as one table, target beside each figure.
func printResults(w io.Writer, r *results) {
	fmt.Fprintf(w, "\nHelpline benchmark, %s, on %s\n\n", r.StartedAt.Format("2006-01-02 15:04 MST"), r.Machine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "measure\tfigure\ttarget\n")
	raw := map[int]rawStep{}
	for _, s := range r.Raw {
		raw[s.Clients] = s
	}
	for _, s := range r.Intake {
		target := ""
		switch s.Agents {
		case 64:
			target = "≥ 1.0× raw, p99 ≤ 50 ms"
		case 256:
			target = "no errors, p99 ≤ 100 ms"
		}
		kept := "routing kept up"
		if !s.KeptUp {
			kept = "routing FELL BEHIND"
		}
		fmt.Fprintf(tw, "intake, %d agents\t%.0f/s, median %.1f ms, p99 %.1f ms, %d errors; %s (drained in %.1f s)\t%s\n",
			s.Agents, s.PerSecond, s.MedianMS, s.P99MS, s.Errors, kept, s.DrainS, target)
		if rs, ok := raw[s.Agents]; ok {
			fmt.Fprintf(tw, "  raw PostgreSQL, %d clients (pgbench)\t%.0f/s, median %.1f ms, p99 %.1f ms; intake/raw = %.2f\t\n",
				rs.Clients, rs.PerSecond, rs.MedianMS, rs.P99MS, r.Ratios[s.Agents])
		}
	}
	if a := r.Assigned; a != nil {
		fmt.Fprintf(tw, "register → assigned at %d/s for %.0f s\t%.0f/s achieved; median %.1f ms, p99 %.1f ms, max %.1f ms; %d not assigned, %d errors\tp99 ≤ 200 ms\n",
			a.Rate, a.Seconds, a.Achieved, a.MedianMS, a.P99MS, a.MaxMS, a.Missing, a.Errors)
	}
	if l := r.Lifecycles; l != nil {
		fmt.Fprintf(tw, "full lifecycles (%d at once, 6 RPCs each)\t%.0f/s; each median %.0f ms, p99 %.0f ms; %d errors\t≥ 400/s\n",
			l.Workers, l.PerSecond, l.MedianMS, l.P99MS, l.Errors)
	}
	if b := r.Burst; b != nil {
		fmt.Fprintf(tw, "burst at %d/s for %.0f s, 2 s deadline\t%d sent: %d ok (p99 %.0f ms, max %.0f ms), %d refused (p99 %.1f ms, max %.1f ms, %d over 50 ms), %d other; %d acknowledged but missing\tok in 2 s or refused in 50 ms; none lost\n",
			b.Rate, b.Seconds, b.Sent, b.OK, b.OKP99MS, b.OKMaxMS, b.Refused, b.RefusedP99MS, b.RefusedMaxMS, b.SlowRefusals, b.Other, b.LostAcked)
	}
	if h := r.History; h != nil {
		fmt.Fprintf(tw, "a state's history through gRPC\t%d complaints registered and routed in %.0f s (%.0f/s), %d refusals retried\t< 300 s\n",
			h.Complaints, h.Seconds, h.PerSecond, h.Errors)
	}
	for _, q := range r.Queries {
		fmt.Fprintf(tw, "%s %s\tmedian %.1f ms, p99 %.1f ms (%d rows)\tp99 ≤ 20 ms\n", q.Query, q.Grouping, q.MedianMS, q.P99MS, q.Rows)
	}
	fmt.Fprintf(tw, "server peak resident memory (%d logins)\t%.0f MB\t≤ 300 MB\n", r.Logins, r.PeakRSSMB)
	_ = tw.Flush()
}
