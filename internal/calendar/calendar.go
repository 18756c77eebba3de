// Package calendar counts working days for SLA deadlines: weekly offs and
// the holidays listed in the master data are skipped.
package calendar

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/helpline/helpline/internal/clock"
)

// Querier runs queries; a pgx.Tx or a pool.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Calendar knows the weekly offs; holidays come from the holidays table.
type Calendar struct {
	WeeklyOff []time.Weekday
}

// Default has Sunday as the weekly off.
var Default = Calendar{WeeklyOff: []time.Weekday{time.Sunday}}

// Day returns the IST calendar day of t at midnight IST.
func Day(t time.Time) time.Time {
	y, m, d := t.In(clock.IST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, clock.IST)
}

// EndOfDay returns 23:59:59 IST of t's IST day.
func EndOfDay(t time.Time) time.Time {
	return Day(t).Add(24*time.Hour - time.Second)
}

// Validate refuses a weekly off that names something other than a day of
// the week, or that leaves no working day (no deadline could be computed).
func (c Calendar) Validate() error {
	off := map[time.Weekday]bool{}
	for _, w := range c.WeeklyOff {
		if w < time.Sunday || w > time.Saturday {
			return fmt.Errorf("weekly off: %d is not a day of the week", int(w))
		}
		off[w] = true
	}
	if len(off) == 7 {
		return errors.New("weekly off: every day of the week is off, which leaves no working day for SLA deadlines")
	}
	return nil
}

func (c Calendar) weeklyOff(d time.Time) bool {
	for _, w := range c.WeeklyOff {
		if d.Weekday() == w {
			return true
		}
	}
	return false
}

func holidays(ctx context.Context, q Querier, from time.Time, days int) (map[string]bool, error) {
	rows, err := q.Query(ctx, `SELECT day::text FROM holidays WHERE day > $1::date AND day <= $1::date + $2::int`,
		from.Format(time.DateOnly), days)
	if err != nil {
		return nil, fmt.Errorf("read holidays: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read holidays: %w", err)
	}
	set := make(map[string]bool, len(list))
	for _, d := range list {
		set[d] = true
	}
	return set, nil
}

// DueAt returns the end (23:59:59 IST) of the n-th working day after from.
// A calendar that fails Validate returns its error.
func (c Calendar) DueAt(ctx context.Context, q Querier, from time.Time, n int) (time.Time, error) {
	if err := c.Validate(); err != nil {
		return time.Time{}, err
	}
	if n < 1 {
		n = 1
	}
	start := Day(from)
	span := n*3 + 60 // generous: weekly offs and holiday runs
	hol, err := holidays(ctx, q, start, span)
	if err != nil {
		return time.Time{}, err
	}
	d := start
	for counted := 0; counted < n; {
		d = d.AddDate(0, 0, 1)
		if c.weeklyOff(d) || hol[d.Format(time.DateOnly)] {
			continue
		}
		counted++
	}
	return d.Add(24*time.Hour - time.Second), nil
}

// WorkingDaysBetween counts the working days after from's day up to and
// including to's day.
func (c Calendar) WorkingDaysBetween(ctx context.Context, q Querier, from, to time.Time) (int, error) {
	start, end := Day(from), Day(to)
	if !end.After(start) {
		return 0, nil
	}
	span := int(end.Sub(start).Hours()/24) + 1
	hol, err := holidays(ctx, q, start, span)
	if err != nil {
		return 0, err
	}
	n := 0
	for d := start.AddDate(0, 0, 1); !d.After(end); d = d.AddDate(0, 0, 1) {
		if !c.weeklyOff(d) && !hol[d.Format(time.DateOnly)] {
			n++
		}
	}
	return n, nil
}

// Fixed is a calendar with its holidays loaded, for computing many
// deadlines without a query each.
type Fixed struct {
	cal      Calendar
	holidays map[string]bool
}

// Load reads every holiday; a calendar that fails Validate returns its error.
func (c Calendar) Load(ctx context.Context, q Querier) (Fixed, error) {
	if err := c.Validate(); err != nil {
		return Fixed{}, err
	}
	rows, err := q.Query(ctx, `SELECT day::text FROM holidays`)
	if err != nil {
		return Fixed{}, fmt.Errorf("read holidays: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Fixed{}, fmt.Errorf("read holidays: %w", err)
	}
	f := Fixed{cal: c, holidays: make(map[string]bool, len(list))}
	for _, d := range list {
		f.holidays[d] = true
	}
	return f, nil
}

// DueAt is Calendar.DueAt with the loaded holidays.
func (f Fixed) DueAt(from time.Time, n int) time.Time {
	if n < 1 {
		n = 1
	}
	d := Day(from)
	for counted := 0; counted < n; {
		d = d.AddDate(0, 0, 1)
		if f.cal.weeklyOff(d) || f.holidays[d.Format(time.DateOnly)] {
			continue
		}
		counted++
	}
	return d.Add(24*time.Hour - time.Second)
}
