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
)

// GetDepartmentGrades scores departments for a month: complaints registered
// that month, measured at the month's end and then frozen.
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
		grades, err = s.computeGrades(ctx, month)
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
	computed, err := s.computeGrades(ctx, month)
	if err != nil {
		return nil, time.Time{}, err
	}
	now := s.clock.Now()
	b := &pgx.Batch{}
	for _, g := range computed {
		b.Queue(`INSERT INTO stats_grades (month, department, registered, score, grade, rank, satisfied_share, pending_over_50_share,
			special_share, unacknowledged_share, frozen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
			month.Format(time.DateOnly), g.GetDepartmentCode(), g.GetRegistered(), g.GetScore(), g.GetGrade(), g.GetRank(),
			g.GetSatisfiedShare(), g.GetPendingOver_50Share(), g.GetSpecialClosureShare(), g.GetUnacknowledgedShare(), now)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, time.Time{}, fmt.Errorf("freeze grades: %w", err)
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

// computeGrades scores every department with complaints registered in month.
func (s *Service) computeGrades(ctx context.Context, month time.Time) ([]*helplinev1.DepartmentGrade, error) {
	end := month.AddDate(0, 1, -1) // the month's last day
	rows, err := s.pool.Query(ctx, `
		WITH month AS (
		    SELECT department, sum(registered)::bigint AS registered, sum(satisfied)::bigint AS satisfied,
		           sum(special)::bigint AS special, sum(closed)::bigint AS closed,
		           sum(assignments)::bigint AS assignments, sum(acks_on_time)::bigint AS acks
		    FROM stats_base WHERE day BETWEEN $1 AND $2 AND department <> '' GROUP BY department
		), backlog AS (
		    SELECT department, sum(registered - closed)::bigint AS pending,
		           sum(registered - closed) FILTER (WHERE day < $2::date - 50)::bigint AS old
		    FROM stats_base WHERE day <= $2 AND department <> '' GROUP BY department
		)
		SELECT m.department, m.registered, m.satisfied, m.special, m.closed, m.assignments, m.acks,
		       coalesce(b.pending, 0), coalesce(b.old, 0)
		FROM month m LEFT JOIN backlog b USING (department)`, month.Format(time.DateOnly), end.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("grades: %w", err)
	}
	w, bounds := s.grades.Weights, s.grades.Bounds
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*helplinev1.DepartmentGrade, error) {
		var dept string
		var reg, sat, special, closed, assignments, acks, pending, old int64
		if err := r.Scan(&dept, &reg, &sat, &special, &closed, &assignments, &acks, &pending, &old); err != nil {
			return nil, err
		}
		g := &helplinev1.DepartmentGrade{
			DepartmentCode: dept, Registered: reg,
			SatisfiedShare:      ratio(sat, reg),
			PendingOver_50Share: ratio(old, pending),
			SpecialClosureShare: ratio(special, closed),
			UnacknowledgedShare: ratio(assignments-acks, assignments),
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
		return g, nil
	})
	if err != nil {
		return nil, fmt.Errorf("grades: %w", err)
	}
	slices.SortFunc(list, func(a, b *helplinev1.DepartmentGrade) int {
		return cmp.Or(cmp.Compare(b.GetScore(), a.GetScore()), cmp.Compare(a.GetDepartmentCode(), b.GetDepartmentCode()))
	})
	for i, g := range list {
		g.Rank = int32(i + 1)
	}
	return list, nil
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
