// Package statstable turns StatsService answers into table rows, for the
// command-line tools' tables and CSV files.
package statstable

import (
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/clock"
)

// Table is a header and its rows.
type Table struct {
	Header []string
	Rows   [][]string
}

func n(v int64) string { return strconv.FormatInt(v, 10) }

func pct(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

// Resolution is the resolution statistics, grouped by "by", with the total last.
func Resolution(resp *helplinev1.GetResolutionStatsResponse, by string) Table {
	t := Table{Header: []string{strings.ToUpper(by), "registered", "resolved", "satisfied", "no_response", "special", "pending", "reopened", "escalated",
		"resolution_rate", "satisfaction_rate", "satisfied_of_reached", "sla_compliance", "median", "p90"}}
	for _, r := range append(resp.GetRows(), resp.GetTotal()) {
		t.Rows = append(t.Rows, []string{r.GetKey(), n(r.GetRegistered()), n(r.GetResolved()), n(r.GetClosedSatisfied()), n(r.GetClosedNoResponse()),
			n(r.GetSpecialClosures()), n(r.GetPending()), n(r.GetReopened()), n(r.GetEscalated()), pct(r.GetResolutionRate()),
			pct(r.GetSatisfactionRate()), pct(r.GetSatisfiedShareOfReached()), pct(r.GetSlaCompliance()),
			r.GetMedianResolutionBucket(), r.GetP90ResolutionBucket()})
	}
	return t
}

// Aging is the pendency aging, grouped by "by", with the total last.
func Aging(resp *helplinev1.GetPendencyAgingResponse, by string) Table {
	t := Table{Header: []string{strings.ToUpper(by), "0-7 days", "8-15", "16-30", "31-50", ">50", "pending"}}
	for _, r := range append(resp.GetRows(), resp.GetTotal()) {
		t.Rows = append(t.Rows, []string{r.GetKey(), n(r.GetDays_0_7()), n(r.GetDays_8_15()), n(r.GetDays_16_30()), n(r.GetDays_31_50()), n(r.GetDaysOver_50()), n(r.GetTotal())})
	}
	return t
}

// Grades is a month's department grades, ranked.
func Grades(resp *helplinev1.GetDepartmentGradesResponse) Table {
	t := Table{Header: []string{"rank", "department", "grade", "score", "registered", "satisfied", "pending>50d", "special", "unacknowledged"}}
	for _, g := range resp.GetGrades() {
		t.Rows = append(t.Rows, []string{strconv.Itoa(int(g.GetRank())), g.GetDepartmentCode(), g.GetGrade(), fmt.Sprintf("%.1f", g.GetScore()),
			n(g.GetRegistered()), pct(g.GetSatisfiedShare()), pct(g.GetPendingOver_50Share()), pct(g.GetSpecialClosureShare()), pct(g.GetUnacknowledgedShare())})
	}
	return t
}

// ExportHeader is the header of an export's CSV.
var ExportHeader = []string{"docket", "registered_at", "status", "department", "district", "category", "channel", "helpline", "post", "officer",
	"level", "sla_due_at", "overdue", "resolved_at", "closed_at", "closure", "reopen_count", "escalation_count", "follow_up_count"}

func ts(t *timestamppb.Timestamp) string {
	if t == nil {
		return ""
	}
	return t.AsTime().In(clock.IST).Format(time.RFC3339)
}

// ExportRow is one exported complaint as a CSV row.
func ExportRow(r *helplinev1.ExportComplaintsResponse) []string {
	return []string{r.GetDocket(), ts(r.GetRegisteredAt()), strings.TrimPrefix(r.GetStatus().String(), "COMPLAINT_STATUS_"),
		r.GetDepartmentCode(), r.GetDistrictCode(), r.GetCategoryCode(), strings.TrimPrefix(r.GetChannel().String(), "CHANNEL_"), r.GetHelpline(),
		r.GetPost(), r.GetOfficer(), strconv.Itoa(int(r.GetLevel())), ts(r.GetSlaDueAt()), strconv.FormatBool(r.GetOverdue()),
		ts(r.GetResolvedAt()), ts(r.GetClosedAt()), strings.TrimPrefix(strings.TrimPrefix(r.GetClosure().String(), "CLOSURE_"), "UNSPECIFIED"),
		strconv.Itoa(int(r.GetReopenCount())), strconv.Itoa(int(r.GetEscalationCount())), strconv.Itoa(int(r.GetFollowUpCount()))}
}

// Print writes t as an aligned text table.
func (t Table) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(t.Header, "\t")+"\t")
	for _, r := range t.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	return tw.Flush()
}

// WriteCSV writes t as CSV.
func (t Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(t.Header)
	_ = cw.WriteAll(t.Rows)
	return cw.Error()
}

// Query is what a statistics command asks for, from its flags.
type Query struct {
	From, To, By, Department, District, Month, CSV string
}

// Register adds the statistics flags to fs.
func (q *Query) Register(fs *flag.FlagSet) {
	fs.StringVar(&q.From, "from", "", "first registration day (YYYY-MM-DD)")
	fs.StringVar(&q.To, "to", "", "last registration day (YYYY-MM-DD)")
	fs.StringVar(&q.By, "by", "department", "grouping: department, district, category, officer, channel or line")
	fs.StringVar(&q.Department, "department", "", "only this department")
	fs.StringVar(&q.District, "district", "", "only this district")
	fs.StringVar(&q.Month, "month", "", "grades: the month (YYYY-MM)")
	fs.StringVar(&q.CSV, "csv", "", "also write the table as CSV to this file")
}

// Grouping is the -by flag as a StatsGrouping; false when it names none.
func (q *Query) Grouping() (helplinev1.StatsGrouping, bool) {
	v, ok := helplinev1.StatsGrouping_value["STATS_GROUPING_"+strings.ToUpper(q.By)]
	return helplinev1.StatsGrouping(v), ok
}

// ResolutionRequest is the query as a GetResolutionStats request.
func (q *Query) ResolutionRequest() *helplinev1.GetResolutionStatsRequest {
	g, _ := q.Grouping()
	return &helplinev1.GetResolutionStatsRequest{FromDate: q.From, ToDate: q.To, GroupBy: g, DepartmentCode: q.Department, DistrictCode: q.District}
}

// AgingRequest is the query as a GetPendencyAging request.
func (q *Query) AgingRequest() *helplinev1.GetPendencyAgingRequest {
	g, _ := q.Grouping()
	return &helplinev1.GetPendencyAgingRequest{FromDate: q.From, ToDate: q.To, GroupBy: g, DepartmentCode: q.Department, DistrictCode: q.District}
}

// Output prints t and, when the query names a CSV file, writes t there too.
func (q *Query) Output(w io.Writer, t Table) error {
	if err := t.Print(w); err != nil {
		return err
	}
	if q.CSV == "" {
		return nil
	}
	f, err := os.Create(q.CSV)
	if err != nil {
		return err
	}
	err = t.WriteCSV(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		fmt.Fprintln(w, "wrote", q.CSV)
	}
	return err
}
