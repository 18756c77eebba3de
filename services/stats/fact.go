package stats

import (
	"time"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/calendar"
)

// BucketHours are the upper bounds of the resolution-time histogram, in
// hours; a last bucket holds everything longer.
var BucketHours = []float64{1, 4, 12, 24, 48, 72, 120, 168, 240, 360, 720}

// BucketNames label the histogram's buckets.
var BucketNames = []string{"≤1h", "≤4h", "≤12h", "≤24h", "≤48h", "≤72h", "≤120h", "≤168h", "≤240h", "≤360h", "≤720h", ">720h"}

// bucket returns the histogram bucket of a resolution time.
func bucket(d time.Duration) int {
	h := d.Hours()
	for i, b := range BucketHours {
		if h <= b {
			return i
		}
	}
	return len(BucketHours)
}

// Fact is one complaint as the statistics count it: its group keys and its
// outcome as of the newest applied event.
type Fact struct {
	ComplaintID int64
	Version     int64
	// Day is the registration day (IST).
	Day                                                    time.Time
	Department, District, Category, Officer, Channel, Line string
	Status, Closure                                        string
	Reopened, Escalated, Reached                           int
	Resolved, SLAMet                                       bool
	Bucket                                                 int // -1: not resolved
	Assignments, AcksOnTime                                int
}

// FactFromEvent is the fact a complaint event's snapshot describes.
func FactFromEvent(ev *helplinev1.ComplaintEvent) Fact {
	s := ev.GetSnapshot()
	f := Fact{
		ComplaintID: ev.GetComplaintId(), Version: ev.GetVersion(),
		Day:        calendar.Day(s.GetCreatedAt().AsTime()),
		Department: s.GetDepartmentCode(), District: s.GetDistrictCode(), Category: s.GetCategoryCode(),
		Officer: s.GetPost(), Channel: trim(s.GetChannel().String(), "CHANNEL_"), Line: s.GetHelpline(),
		Status: trim(s.GetStatus().String(), "COMPLAINT_STATUS_"), Closure: trim(s.GetClosure().String(), "CLOSURE_"),
		Reopened: int(s.GetReopenCount()), Escalated: int(s.GetEscalationCount()), Reached: int(s.GetFeedbackReached()),
		Assignments: int(s.GetAssignments()), AcksOnTime: int(s.GetAcksOnTime()), Bucket: -1,
	}
	if f.Closure == "UNSPECIFIED" {
		f.Closure = ""
	}
	f.Resolved = f.Status == "RESOLVED" || (f.Status == "CLOSED" && (f.Closure == "SATISFIED" || f.Closure == "NO_RESPONSE"))
	if f.Resolved && s.GetResolvedAt() != nil {
		f.SLAMet = s.GetResolvedOnTime()
		f.Bucket = bucket(s.GetResolvedAt().AsTime().Sub(s.GetCreatedAt().AsTime()))
	}
	return f
}

func trim(s, prefix string) string {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):]
	}
	return s
}

// Counter indexes the counters of a rollup row.
const (
	cRegistered = iota
	cResolved
	cSatisfied
	cNoResponse
	cSpecial
	cClosed
	cReopened
	cEscalated
	cReached
	cSLAMet
	cAssignments
	cAcksOnTime
	cHist     // first of the histogram's buckets
	nCounters = cHist + 12
)

// counterColumns are the rollup tables' counter columns, in counter order.
var counterColumns = []string{"registered", "resolved", "satisfied", "no_response", "special", "closed", "reopened",
	"escalated", "reached", "sla_met", "assignments", "acks_on_time",
	"h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9", "h10", "h11"}

// Counters are a rollup row's counters.
type Counters [nCounters]int64

// contribution is what a fact adds to its rollup rows.
func (f Fact) contribution() Counters {
	var c Counters
	b := func(v bool) int64 {
		if v {
			return 1
		}
		return 0
	}
	c[cRegistered] = 1
	c[cResolved] = b(f.Resolved)
	closed := f.Status == "CLOSED"
	c[cSatisfied] = b(closed && f.Closure == "SATISFIED")
	c[cNoResponse] = b(closed && f.Closure == "NO_RESPONSE")
	c[cSpecial] = b(closed && f.Closure == "SPECIAL")
	c[cClosed] = b(closed)
	c[cReopened] = int64(f.Reopened)
	c[cEscalated] = int64(f.Escalated)
	// Complaints with at least one reached feedback call (not calls): the
	// denominator of "satisfied / feedback reached", whose numerator, the
	// complaints whose latest reached call was satisfied, is cSatisfied.
	c[cReached] = b(f.Reached > 0)
	c[cSLAMet] = b(f.Resolved && f.SLAMet)
	c[cAssignments] = int64(f.Assignments)
	c[cAcksOnTime] = int64(f.AcksOnTime)
	if f.Resolved && f.Bucket >= 0 {
		c[cHist+f.Bucket] = 1
	}
	return c
}

// table is a rollup table and the fact field that is its extra key.
type table struct {
	name  string
	extra string // column name; "" for stats_base
	key   func(f Fact) string
}

// tables are the rollups, one per grouping (department and district share
// stats_base, which every table's department and district columns extend).
var tables = []table{
	{"stats_base", "", nil},
	{"stats_category", "category", func(f Fact) string { return f.Category }},
	{"stats_channel", "channel", func(f Fact) string { return f.Channel }},
	{"stats_line", "line", func(f Fact) string { return f.Line }},
	{"stats_officer", "officer", func(f Fact) string { return f.Officer }},
}

// rowKey identifies one rollup row.
type rowKey struct {
	table                       int
	day                         string
	department, district, extra string
}

func (f Fact) rowKey(t int) rowKey {
	k := rowKey{table: t, day: f.Day.Format(time.DateOnly), department: f.Department, district: f.District}
	if tables[t].key != nil {
		k.extra = tables[t].key(f)
	}
	return k
}
