package complaint

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/calendar"
)

// Post is a seat a complaint can be assigned to.
type Post struct {
	ID             int64
	Code           string
	DepartmentID   int64
	DepartmentCode string
	Level          int
	DistrictID     *int64
	Holder         string
}

const postSQL = `
SELECT p.id, p.code, p.department_id, d.code, p.level, p.district_id, coalesce(u.username, '')
FROM posts p JOIN departments d ON d.id = p.department_id LEFT JOIN users u ON u.id = p.holder_user_id `

func scanPost(row pgx.Row) (*Post, error) {
	p := &Post{}
	err := row.Scan(&p.ID, &p.Code, &p.DepartmentID, &p.DepartmentCode, &p.Level, &p.DistrictID, &p.Holder)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read post: %w", err)
	}
	return p, nil
}

// PostFor returns the department's post of level for a complaint in
// districtID: district posts for levels 1-2, state posts for 3-4. It
// returns ErrNotFound when the department has no such post.
func PostFor(ctx context.Context, q Querier, departmentID int64, level int, districtID int64) (*Post, error) {
	if level >= 3 {
		return scanPost(q.QueryRow(ctx, postSQL+`WHERE p.department_id = $1 AND p.level = $2 AND p.district_id IS NULL`, departmentID, level))
	}
	return scanPost(q.QueryRow(ctx, postSQL+`WHERE p.department_id = $1 AND p.level = $2 AND p.district_id = $3`, departmentID, level, districtID))
}

// PostByCode returns a post by its code, or ErrNotFound.
func PostByCode(ctx context.Context, q Querier, code string) (*Post, error) {
	return scanPost(q.QueryRow(ctx, postSQL+`WHERE p.code = $1`, code))
}

// SLADays returns a category's SLA in working days at level (1..4).
func SLADays(ctx context.Context, q Querier, categoryID int64, level int) (int, error) {
	var days int
	err := q.QueryRow(ctx, `SELECT sla_days[$2] FROM categories WHERE id = $1`, categoryID, level).Scan(&days)
	if err != nil {
		return 0, fmt.Errorf("read sla: %w", err)
	}
	return days, nil
}

// Deadline returns the SLA deadline of an assignment of categoryID at
// level starting from from.
func Deadline(ctx context.Context, tx pgx.Tx, cal calendar.Calendar, categoryID int64, level int, from time.Time) (time.Time, error) {
	days, err := SLADays(ctx, tx, categoryID, level)
	if err != nil {
		return time.Time{}, err
	}
	return cal.DueAt(ctx, tx, from, days)
}

// AckDue is when an assignment made at now must be acknowledged: the end of
// the next working day.
func AckDue(ctx context.Context, tx pgx.Tx, cal calendar.Calendar, now time.Time) (time.Time, error) {
	return cal.DueAt(ctx, tx, now, 1)
}

// AssignTo returns a mutation putting the complaint at post with deadline
// due, to be acknowledged by ackDue; it counts the assignment.
func AssignTo(p *Post, due, ackDue time.Time) func(r *Record) error {
	return func(r *Record) error {
		r.Assignments++
		r.AckDueAt = &ackDue
		deptID, postID := p.DepartmentID, p.ID
		r.DepartmentID, r.DepartmentCode = &deptID, p.DepartmentCode
		r.PostID, r.PostCode, r.Officer = &postID, p.Code, p.Holder
		r.Level = p.Level
		r.SLADueAt = &due
		return nil
	}
}

// DepartmentFor returns the department the most specific routing rule
// gives for a category at r's location (ward, then block, then district,
// then state-wide), or ErrNotFound.
func DepartmentFor(ctx context.Context, q Querier, categoryID int64, r *Record) (int64, error) {
	var dept int64
	err := q.QueryRow(ctx, `
		SELECT r.department_id FROM routing_rules r LEFT JOIN locations l ON l.id = r.location_id
		WHERE r.category_id = $1 AND (r.location_id IS NULL OR r.location_id IN ($2, $3, $4))
		ORDER BY CASE l.kind WHEN 'WARD' THEN 3 WHEN 'BLOCK' THEN 2 WHEN 'DISTRICT' THEN 1 ELSE 0 END DESC
		LIMIT 1`, categoryID, r.DistrictID, r.BlockID, r.WardID).Scan(&dept)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, apperr.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("find routing rule: %w", err)
	}
	return dept, nil
}

// ResumeClock restarts a paused SLA clock at now: the deadline moves on by
// the working days spent on hold.
func ResumeClock(ctx context.Context, tx pgx.Tx, cal calendar.Calendar, r *Record, now time.Time) error {
	if r.OnHoldSince == nil {
		return nil
	}
	if r.SLADueAt != nil {
		days, err := cal.WorkingDaysBetween(ctx, tx, *r.OnHoldSince, now)
		if err != nil {
			return err
		}
		if days > 0 {
			due, err := cal.DueAt(ctx, tx, *r.SLADueAt, days)
			if err != nil {
				return err
			}
			r.SLADueAt = &due
		}
	}
	r.OnHoldSince = nil
	return nil
}
