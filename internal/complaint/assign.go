package complaint

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// Climb is where a complaint goes one level up: the first level above with
// a post that has a holder, and the levels passed over on the way.
type Climb struct {
	// Post is the held post found; nil when there is none above.
	Post *Post
	// PassedOver says, for each level skipped, why: no post, or no holder.
	PassedOver []string
}

// Why describes the levels passed over ("" when none were).
func (c Climb) Why() string {
	if len(c.PassedOver) == 0 {
		return ""
	}
	return "passed over " + strings.Join(c.PassedOver, "; ")
}

// ClimbFrom finds where a complaint of departmentID in districtID at level
// goes one level up: level+1, or where that level has no post or its post
// no holder, the next level up that has a held post (up to 4).
func ClimbFrom(ctx context.Context, q Querier, departmentID int64, level int, districtID int64) (Climb, error) {
	var c Climb
	for l := level + 1; l <= 4; l++ {
		p, err := PostFor(ctx, q, departmentID, l, districtID)
		switch {
		case errors.Is(err, apperr.ErrNotFound):
			c.PassedOver = append(c.PassedOver, fmt.Sprintf("L%d: the department has no post at that level here", l))
		case err != nil:
			return c, err
		case p.Holder == "":
			c.PassedOver = append(c.PassedOver, fmt.Sprintf("L%d: post %s has no holder", l, p.Code))
		default:
			c.Post = p
			return c, nil
		}
	}
	return c, nil
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

// SLAsDays returns the SLA in working days at level of each category of
// ids, in one statement.
func SLAsDays(ctx context.Context, q Querier, ids []int64, level int) (map[int64]int, error) {
	rows, err := q.Query(ctx, `SELECT id, sla_days[$2] FROM categories WHERE id = ANY($1)`, ids, level)
	if err != nil {
		return nil, fmt.Errorf("read slas: %w", err)
	}
	out := map[int64]int{}
	var id int64
	var days int
	if _, err := pgx.ForEachRow(rows, []any{&id, &days}, func() error { out[id] = days; return nil }); err != nil {
		return nil, fmt.Errorf("read slas: %w", err)
	}
	return out, nil
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

// NoHolderFlag is the supervisor flag of a complaint at a post without a holder.
func NoHolderFlag(p *Post) string {
	return fmt.Sprintf("post %s (L%d) has no holder", p.Code, p.Level)
}

// AssignTo returns a mutation putting the complaint at post with deadline
// due, to be acknowledged by ackDue; it counts the assignment. A post
// without a holder flags the complaint for the supervisor (nobody would
// see it); a held post clears the flag.
func AssignTo(p *Post, due, ackDue time.Time) func(r *Record) error {
	return func(r *Record) error {
		r.SupervisorFlag = ""
		if p.Holder == "" {
			r.SupervisorFlag = NoHolderFlag(p)
		}
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

// RouteKey is what routing depends on: a category and a place (location ids, 0: none).
type RouteKey struct {
	Category, District, Block, Ward int64
}

// RouteKeyOf is the routing key of a complaint of categoryID at r's place.
func RouteKeyOf(categoryID int64, r *Record) RouteKey {
	k := RouteKey{Category: categoryID, District: r.DistrictID}
	if r.BlockID != nil {
		k.Block = *r.BlockID
	}
	if r.WardID != nil {
		k.Ward = *r.WardID
	}
	return k
}

// DepartmentFor returns the department the most specific routing rule
// gives for a category at r's location (ward, then block, then district,
// then state-wide), or ErrNotFound.
func DepartmentFor(ctx context.Context, q Querier, categoryID int64, r *Record) (int64, error) {
	k := RouteKeyOf(categoryID, r)
	depts, err := DepartmentsFor(ctx, q, []RouteKey{k})
	if err != nil {
		return 0, err
	}
	dept, ok := depts[k]
	if !ok {
		return 0, apperr.ErrNotFound
	}
	return dept, nil
}

// DepartmentsFor is DepartmentFor for many places in one statement; a key
// without a rule is missing from the answer.
func DepartmentsFor(ctx context.Context, q Querier, keys []RouteKey) (map[RouteKey]int64, error) {
	cats, dists, blocks, wards := make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		cats[i], dists[i], blocks[i], wards[i] = k.Category, k.District, k.Block, k.Ward
	}
	rows, err := q.Query(ctx, `
		SELECT u.cat, u.district, u.block, u.ward, r.department_id
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS u(cat, district, block, ward)
		CROSS JOIN LATERAL (
		    SELECT r.department_id FROM routing_rules r LEFT JOIN locations l ON l.id = r.location_id
		    WHERE r.category_id = u.cat AND (r.location_id IS NULL OR r.location_id IN (u.district, u.block, u.ward))
		    ORDER BY CASE l.kind WHEN 'WARD' THEN 3 WHEN 'BLOCK' THEN 2 WHEN 'DISTRICT' THEN 1 ELSE 0 END DESC
		    LIMIT 1) r`, cats, dists, blocks, wards)
	if err != nil {
		return nil, fmt.Errorf("find routing rules: %w", err)
	}
	out := make(map[RouteKey]int64, len(keys))
	var k RouteKey
	var dept int64
	if _, err := pgx.ForEachRow(rows, []any{&k.Category, &k.District, &k.Block, &k.Ward, &dept}, func() error { out[k] = dept; return nil }); err != nil {
		return nil, fmt.Errorf("find routing rules: %w", err)
	}
	return out, nil
}

// DistrictPosts returns the posts of level (1 or 2) of each (department,
// district) pair, in one statement; pairs without one are missing.
func DistrictPosts(ctx context.Context, q Querier, level int, depts, districts []int64) (map[[2]int64]*Post, error) {
	rows, err := q.Query(ctx, postSQL+`WHERE p.level = $1 AND (p.department_id, p.district_id) IN
		(SELECT * FROM unnest($2::bigint[], $3::bigint[]))`, level, depts, districts)
	if err != nil {
		return nil, fmt.Errorf("read posts: %w", err)
	}
	defer rows.Close()
	out := map[[2]int64]*Post{}
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, err
		}
		out[[2]int64{p.DepartmentID, *p.DistrictID}] = p
	}
	return out, rows.Err()
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
