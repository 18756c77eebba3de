package stats

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/db"
)

// historyRow is one audit entry as the rebuild reads it.
type historyRow struct {
	complaintID                          int64
	createdAt                            time.Time
	channel, line                        string
	version                              int64
	action, toStatus                     string
	at                                   time.Time
	department, category, district, post string
	slaDueAt                             *time.Time
}

// Rebuild recomputes every fact and rollup from the history table, in one
// transaction that locks the stats tables, and returns how many complaints
// it counted. The live consumer waits meanwhile and then carries on from
// the rebuilt facts.
func (s *Service) Rebuild(ctx context.Context) (int, error) {
	n := 0
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `TRUNCATE stats_facts, stats_base, stats_category, stats_channel, stats_line, stats_officer`); err != nil {
			return fmt.Errorf("truncate: %w", err)
		}
		cal, err := s.calendar.Load(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT c.id, c.created_at, c.channel, c.helpline, h.version, h.action, h.to_status, h.at,
			       coalesce(h.department_code, ''), h.category_code, h.district_code, coalesce(h.post_code, ''), h.sla_due_at
			FROM complaints c JOIN complaint_history h ON h.complaint_id = c.id
			ORDER BY c.id, h.version`)
		if err != nil {
			return fmt.Errorf("read history: %w", err)
		}
		var facts []Fact
		var current []historyRow
		for rows.Next() {
			var h historyRow
			if err := rows.Scan(&h.complaintID, &h.createdAt, &h.channel, &h.line, &h.version, &h.action, &h.toStatus, &h.at,
				&h.department, &h.category, &h.district, &h.post, &h.slaDueAt); err != nil {
				return fmt.Errorf("read history: %w", err)
			}
			if len(current) > 0 && current[0].complaintID != h.complaintID {
				facts = append(facts, factFromHistory(current, cal))
				current = current[:0]
			}
			current = append(current, h)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read history: %w", err)
		}
		if len(current) > 0 {
			facts = append(facts, factFromHistory(current, cal))
		}
		n = len(facts)
		for start := 0; start < len(facts); start += 5000 {
			chunk := facts[start:min(start+5000, len(facts))]
			m := make(map[int64]Fact, len(chunk))
			for _, f := range chunk {
				m[f.ComplaintID] = f
			}
			if err := saveFacts(ctx, tx, m); err != nil {
				return err
			}
		}
		if err := RollupFromFacts(ctx, tx); err != nil {
			return err
		}
		return s.regrade(ctx, tx)
	})
	return n, err
}

// regrade recomputes the frozen grades of every month from the history
// (as at each month's last second, IST), keeping when they were frozen:
// the figures come out the same, since they depend on the history alone.
func (s *Service) regrade(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT month, min(frozen_at) FROM stats_grades GROUP BY month ORDER BY month`)
	if err != nil {
		return fmt.Errorf("read frozen months: %w", err)
	}
	type frozenMonth struct{ month, at time.Time }
	months, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (frozenMonth, error) {
		var m frozenMonth
		return m, r.Scan(&m.month, &m.at)
	})
	if err != nil {
		return fmt.Errorf("read frozen months: %w", err)
	}
	for _, m := range months {
		_, last := monthBounds(m.month)
		grades, err := s.computeGrades(ctx, m.month, last)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM stats_grades WHERE month = $1`, m.month); err != nil {
			return fmt.Errorf("regrade: %w", err)
		}
		if err := insertGrades(ctx, tx, m.month, grades, m.at); err != nil {
			return err
		}
	}
	return nil
}

// assigning actions put a complaint at a post, to be acknowledged in a working day.
var assigning = map[string]bool{"route": true, "assign": true, "transfer": true, "escalate": true, "feedback_not_satisfied": true}

// closures are the actions that close a complaint, and their closure.
var closures = map[string]string{"feedback_satisfied": "SATISFIED", "feedback_expired": "NO_RESPONSE", "approve_special_closure": "SPECIAL"}

// factFromHistory computes the fact of one complaint from its audit trail,
// the way the live consumer derives it from the latest event.
func factFromHistory(hist []historyRow, cal calendar.Fixed) Fact {
	last := hist[len(hist)-1]
	f := Fact{
		ComplaintID: last.complaintID, Version: last.version, Day: calendar.Day(last.createdAt),
		Department: last.department, District: last.district, Category: last.category, Officer: last.post,
		Channel: last.channel, Line: last.line, Status: last.toStatus, Bucket: -1,
	}
	var lastResolve *historyRow
	var ackDue *time.Time
	for i := range hist {
		h := &hist[i]
		// The closure is that of the action that closed the complaint, not
		// of the last entry: a link may follow the closure.
		if c, ok := closures[h.action]; ok && h.toStatus == "CLOSED" {
			f.Closure = c
		}
		switch {
		case h.action == "escalate":
			f.Escalated++
		case h.action == "feedback_not_satisfied":
			f.Reopened++
			f.Reached++
			lastResolve = nil
		case h.action == "feedback_satisfied":
			f.Reached++
		case h.action == "resolve":
			lastResolve = h
		case h.action == "acknowledge":
			if ackDue == nil || !h.at.After(*ackDue) {
				f.AcksOnTime++
			}
		}
		if assigning[h.action] {
			f.Assignments++
			due := cal.DueAt(h.at, 1)
			ackDue = &due
		}
	}
	if f.Status != "CLOSED" {
		f.Closure = ""
	}
	f.Resolved = f.Status == "RESOLVED" || (f.Status == "CLOSED" && (f.Closure == "SATISFIED" || f.Closure == "NO_RESPONSE"))
	if f.Resolved && lastResolve != nil {
		f.SLAMet = lastResolve.slaDueAt == nil || !lastResolve.at.After(*lastResolve.slaDueAt)
		f.Bucket = bucket(lastResolve.at.Sub(lastResolve.createdAt))
	}
	return f
}

// RollupFromFacts fills the (empty) rollup tables by summing stats_facts,
// the way the consumer's deltas add up.
func RollupFromFacts(ctx context.Context, tx pgx.Tx) error {
	sums := []string{
		"count(*)", "count(*) FILTER (WHERE resolved)",
		"count(*) FILTER (WHERE status = 'CLOSED' AND closure = 'SATISFIED')",
		"count(*) FILTER (WHERE status = 'CLOSED' AND closure = 'NO_RESPONSE')",
		"count(*) FILTER (WHERE status = 'CLOSED' AND closure = 'SPECIAL')",
		"count(*) FILTER (WHERE status = 'CLOSED')",
		"sum(reopened)", "sum(escalated)", "count(*) FILTER (WHERE reached > 0)",
		"count(*) FILTER (WHERE resolved AND sla_met)", "sum(assignments)", "sum(acks_on_time)",
	}
	for i := 0; i < 12; i++ {
		sums = append(sums, fmt.Sprintf("count(*) FILTER (WHERE resolved AND bucket = %d)", i))
	}
	for _, t := range tables {
		keys := "day, department, district"
		if t.extra != "" {
			keys += ", " + t.extra
		}
		q := fmt.Sprintf(`INSERT INTO %s (%s, %s) SELECT %s, %s FROM stats_facts GROUP BY %s`,
			t.name, keys, strings.Join(counterColumns, ", "), keys, strings.Join(sums, ", "), keys)
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("rollup %s: %w", t.name, err)
		}
	}
	return nil
}
