package stats

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clock"
)

// GetDepartmentGrades scores departments for a month: complaints registered
// that month, as they stood at the month's last second (IST) by their
// history, frozen once computed; the month in progress is scored as of now.
func (s *Service) GetDepartmentGrades(ctx context.Context, req *helplinev1.GetDepartmentGradesRequest) (*helplinev1.GetDepartmentGradesResponse, error) {
	today := calendar.Day(s.clock.Now())
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	if req.GetMonth() != "" {
		m, err := time.Parse("2006-01", req.GetMonth())
		if err != nil {
			return nil, apperr.Invalid("month", "must look like 2026-11")
		}
		month = m
	}
	current := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	if month.After(current) {
		return nil, apperr.Invalid("month", "is in the future")
	}
	var grades []*helplinev1.DepartmentGrade
	var frozenAt time.Time
	var err error
	if month.Before(current) {
		grades, frozenAt, err = s.FreezeGrades(ctx, month)
	} else {
		grades, err = s.computeGrades(ctx, month, s.clock.Now())
	}
	if err != nil {
		return nil, err
	}
	if c := caller.From(ctx); c.Role == caller.Officer {
		grades = s.ownDepartments(ctx, c, grades)
	}
	resp := &helplinev1.GetDepartmentGradesResponse{Month: month.Format("2006-01"), Grades: grades, Frozen: !frozenAt.IsZero()}
	if !frozenAt.IsZero() {
		resp.FrozenAt = timestamppb.New(frozenAt)
	}
	return resp, nil
}

// ownDepartments keeps the grades of an officer's departments.
func (s *Service) ownDepartments(ctx context.Context, c caller.Caller, all []*helplinev1.DepartmentGrade) []*helplinev1.DepartmentGrade {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT d.code FROM posts p JOIN departments d ON d.id = p.department_id WHERE p.holder_user_id = $1`, c.UserID)
	if err != nil {
		return nil
	}
	mine, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(all, func(g *helplinev1.DepartmentGrade) bool { return !slices.Contains(mine, g.GetDepartmentCode()) })
}

// FreezeGrades returns a closed month's frozen grades, computing and
// storing them the first time.
func (s *Service) FreezeGrades(ctx context.Context, month time.Time) ([]*helplinev1.DepartmentGrade, time.Time, error) {
	grades, at, err := s.frozen(ctx, month)
	if err != nil || !at.IsZero() {
		return grades, at, err
	}
	_, last := monthBounds(month)
	computed, err := s.computeGrades(ctx, month, last)
	if err != nil {
		return nil, time.Time{}, err
	}
	now := s.clock.Now()
	if err := insertGrades(ctx, s.pool, month, computed, now); err != nil {
		return nil, time.Time{}, err
	}
	if len(computed) == 0 {
		return nil, now, nil
	}
	return s.frozen(ctx, month)
}

func (s *Service) frozen(ctx context.Context, month time.Time) ([]*helplinev1.DepartmentGrade, time.Time, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT department, registered, score, grade, rank, satisfied_share, pending_over_50_share, special_share, unacknowledged_share, frozen_at
		FROM stats_grades WHERE month = $1 ORDER BY rank, department`, month.Format(time.DateOnly))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read grades: %w", err)
	}
	var at time.Time
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*helplinev1.DepartmentGrade, error) {
		g := &helplinev1.DepartmentGrade{}
		return g, r.Scan(&g.DepartmentCode, &g.Registered, &g.Score, &g.Grade, &g.Rank, &g.SatisfiedShare, &g.PendingOver_50Share,
			&g.SpecialClosureShare, &g.UnacknowledgedShare, &at)
	})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, fmt.Errorf("read grades: %w", err)
	}
	return list, at, nil
}

// monthBounds are the IST instants a month starts and ends: its first
// second, and its last (23:59:59 IST of its last day).
func monthBounds(month time.Time) (start, last time.Time) {
	start = time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, clock.IST)
	return start, start.AddDate(0, 1, 0).Add(-time.Second)
}

// gradeCounts are a department's figures behind its grade.
type gradeCounts struct {
	registered, satisfied, special, closed, pending, old, assignments, acks int64
}

// computeGrades scores every department with complaints registered in
// month, from the history as it stood at asOf (the month's last second,
// IST, or now for the month in progress): each complaint's status,
// closure and department are those of its latest history entry at asOf,
// so the grades of a closed month are the same whenever they are computed.
func (s *Service) computeGrades(ctx context.Context, month, asOf time.Time) ([]*helplinev1.DepartmentGrade, error) {
	start, last := monthBounds(month)
	next := last.Add(time.Second)
	endDay := calendar.Day(last)
	oldBefore := time.Date(endDay.Year(), endDay.Month(), endDay.Day()-50, 0, 0, 0, 0, clock.IST)
	// Status, closure and department at asOf of every complaint registered
	// before the month ended: the month's own for the shares, all of them
	// for the backlog.
	rows, err := s.pool.Query(ctx, `
		SELECT x.dept,
		       count(*) FILTER (WHERE x.created_at >= $1),
		       count(*) FILTER (WHERE x.created_at >= $1 AND x.status = 'CLOSED' AND x.closing = 'feedback_satisfied'),
		       count(*) FILTER (WHERE x.created_at >= $1 AND x.status = 'CLOSED' AND x.closing = 'approve_special_closure'),
		       count(*) FILTER (WHERE x.created_at >= $1 AND x.status = 'CLOSED'),
		       count(*) FILTER (WHERE x.status <> 'CLOSED'),
		       count(*) FILTER (WHERE x.status <> 'CLOSED' AND x.created_at < $4)
		FROM (
		    SELECT c.created_at, l.to_status AS status, coalesce(l.department_code, '') AS dept,
		           (SELECT h.action FROM complaint_history h
		            WHERE h.complaint_id = c.id AND h.at <= $3 AND h.to_status = 'CLOSED'
		              AND h.action IN ('feedback_satisfied', 'feedback_expired', 'approve_special_closure')
		            ORDER BY h.version DESC LIMIT 1) AS closing
		    FROM complaints c
		    CROSS JOIN LATERAL (SELECT h.to_status, h.department_code FROM complaint_history h
		                        WHERE h.complaint_id = c.id AND h.at <= $3 ORDER BY h.version DESC LIMIT 1) l
		    WHERE c.created_at < $2
		) x
		WHERE x.dept <> '' GROUP BY x.dept`, start, next, asOf, oldBefore)
	if err != nil {
		return nil, fmt.Errorf("grades: %w", err)
	}
	counts := map[string]*gradeCounts{}
	var dept string
	var gc gradeCounts
	if _, err := pgx.ForEachRow(rows, []any{&dept, &gc.registered, &gc.satisfied, &gc.special, &gc.closed, &gc.pending, &gc.old}, func() error {
		c := gc
		counts[dept] = &c
		return nil
	}); err != nil {
		return nil, fmt.Errorf("grades: %w", err)
	}
	if err := s.countAcks(ctx, start, next, asOf, counts); err != nil {
		return nil, err
	}
	var depts []string
	for d, c := range counts {
		if c.registered > 0 {
			depts = append(depts, d)
		}
	}
	slices.Sort(depts)
	w, bounds := s.grades.Weights, s.grades.Bounds
	list := make([]*helplinev1.DepartmentGrade, 0, len(depts))
	for _, dept := range depts {
		c := counts[dept]
		g := &helplinev1.DepartmentGrade{
			DepartmentCode: dept, Registered: c.registered,
			SatisfiedShare:      ratio(c.satisfied, c.registered),
			PendingOver_50Share: ratio(c.old, c.pending),
			SpecialClosureShare: ratio(c.special, c.closed),
			UnacknowledgedShare: ratio(c.assignments-c.acks, c.assignments),
		}
		g.Score = w[0]*g.SatisfiedShare + w[1]*(1-g.PendingOver_50Share) + w[2]*(1-g.SpecialClosureShare) + w[3]*(1-g.UnacknowledgedShare)
		switch {
		case g.Score >= bounds[0]:
			g.Grade = "A"
		case g.Score >= bounds[1]:
			g.Grade = "B"
		case g.Score >= bounds[2]:
			g.Grade = "C"
		default:
			g.Grade = "D"
		}
		list = append(list, g)
	}
	slices.SortFunc(list, func(a, b *helplinev1.DepartmentGrade) int {
		return cmp.Or(cmp.Compare(b.GetScore(), a.GetScore()), cmp.Compare(a.GetDepartmentCode(), b.GetDepartmentCode()))
	})
	for i, g := range list {
		g.Rank = int32(i + 1)
	}
	return list, nil
}

// countAcks adds to counts, by each complaint's department at asOf, the
// assignments of the complaints registered in [start, next) made by asOf
// and those acknowledged within one working day, from the history (as
// the rebuild counts them).
func (s *Service) countAcks(ctx context.Context, start, next, asOf time.Time, counts map[string]*gradeCounts) error {
	cal, err := s.calendar.Load(ctx, s.pool)
	if err != nil {
		return err
	}
	actions := []string{"acknowledge"}
	for a := range assigning {
		actions = append(actions, a)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT h.complaint_id, coalesce(l.department_code, ''), h.action, h.at
		FROM complaints c
		CROSS JOIN LATERAL (SELECT x.department_code FROM complaint_history x
		                    WHERE x.complaint_id = c.id AND x.at <= $3 ORDER BY x.version DESC LIMIT 1) l
		JOIN complaint_history h ON h.complaint_id = c.id AND h.at <= $3 AND h.action = ANY($4)
		WHERE c.created_at >= $1 AND c.created_at < $2
		ORDER BY h.complaint_id, h.version`, start, next, asOf, actions)
	if err != nil {
		return fmt.Errorf("grades: acknowledgements: %w", err)
	}
	var id, current int64
	var dept, action string
	var at time.Time
	var ackDue *time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &dept, &action, &at}, func() error {
		if id != current {
			current, ackDue = id, nil
		}
		c := counts[dept]
		if c == nil {
			return nil // no department at asOf: not graded
		}
		if action == "acknowledge" {
			if ackDue == nil || !at.After(*ackDue) {
				c.acks++
			}
			return nil
		}
		c.assignments++
		due := cal.DueAt(at, 1)
		ackDue = &due
		return nil
	})
	if err != nil {
		return fmt.Errorf("grades: acknowledgements: %w", err)
	}
	return nil
}

// batchSender sends a batch: a pool or a transaction.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// insertGrades stores a month's grades as frozen at frozenAt (a month
// frozen already keeps its rows).
func insertGrades(ctx context.Context, q batchSender, month time.Time, grades []*helplinev1.DepartmentGrade, frozenAt time.Time) error {
	b := &pgx.Batch{}
	for _, g := range grades {
		b.Queue(`INSERT INTO stats_grades (month, department, registered, score, grade, rank, satisfied_share, pending_over_50_share,
			special_share, unacknowledged_share, frozen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
			month.Format(time.DateOnly), g.GetDepartmentCode(), g.GetRegistered(), g.GetScore(), g.GetGrade(), g.GetRank(),
			g.GetSatisfiedShare(), g.GetPendingOver_50Share(), g.GetSpecialClosureShare(), g.GetUnacknowledgedShare(), frozenAt)
	}
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("freeze grades: %w", err)
	}
	return nil
}

// RunFreezer freezes the previous month's grades soon after it ends.
func (s *Service) RunFreezer(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		today := calendar.Day(s.clock.Now())
		prev := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
		if _, _, err := s.FreezeGrades(ctx, prev); err != nil && ctx.Err() == nil {
			s.log.Warn("freezing last month's grades failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
