package seed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpline/helpline/internal/db"
)

// Counts says what Load wrote.
type Counts struct {
	Locations, Departments, Categories, Posts, Rules, Holidays, Lines, Users int
}

// Demo users who are not officers: username and role.
var staff = []struct{ username, name, role string }{
	{"admin", "Helpline Administrator", "ADMIN"},
	{"supervisor", "State Supervisor", "SUPERVISOR"},
	{"agent1", "Call-centre Agent 1", "AGENT"},
	{"agent2", "Call-centre Agent 2", "AGENT"},
}

// OfficerUsername is the demo officer of a post: its code in lower case,
// e.g. pwd-shimla-l1, health-state-l3.
func OfficerUsername(postCode string) string { return strings.ToLower(postCode) }

// Load writes the demo master data and demo users, idempotently: every row
// is an upsert, so running it again changes nothing but names and the demo
// users' password hash, which is set to passwordHash.
func Load(ctx context.Context, pool *pgxpool.Pool, passwordHash string, now time.Time) (Counts, error) {
	var c Counts
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, l := range Lines {
			b.Queue(`INSERT INTO helpline_lines (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = excluded.name`, l.Code, l.Name)
			c.Lines++
		}
		for _, h := range Holidays {
			b.Queue(`INSERT INTO holidays (day, name) VALUES ($1, $2) ON CONFLICT (day) DO UPDATE SET name = excluded.name`, h.Date, h.Name)
			c.Holidays++
		}
		for _, d := range Departments {
			b.Queue(`INSERT INTO departments (code, name, name_hi) VALUES ($1, $2, $3) ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_hi = excluded.name_hi`,
				d.Code, d.Name, d.NameHi)
			c.Departments++
		}
		for _, cat := range Categories {
			b.Queue(`INSERT INTO categories (code, department_id, name, name_hi, sla_days, sensitive)
				VALUES ($1, (SELECT id FROM departments WHERE code = $2), $3, $4, $5, $6)
				ON CONFLICT (code) DO UPDATE SET department_id = excluded.department_id, name = excluded.name, name_hi = excluded.name_hi,
				    sla_days = excluded.sla_days, sensitive = excluded.sensitive`,
				cat.Code, cat.Department, cat.Name, cat.NameHi, cat.SLADays[:], cat.Sensitive)
			c.Categories++
		}
		const loc = `INSERT INTO locations (kind, code, parent_id, name, name_hi) VALUES ($1, $2, (SELECT id FROM locations WHERE code = $3), $4, $5)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_hi = excluded.name_hi`
		for _, d := range Districts {
			b.Queue(loc, "DISTRICT", d.Code, nil, d.Name, d.NameHi)
			c.Locations++
			for _, bl := range d.Blocks {
				b.Queue(loc, "BLOCK", bl.Code, d.Code, bl.Name, bl.NameHi)
				c.Locations++
				for _, w := range bl.Wards {
					b.Queue(loc, "WARD", w.Code, bl.Code, w.Name, w.NameHi)
					c.Locations++
				}
			}
		}
		for _, r := range Rules {
			node := r.Ward
			if node == "" {
				node = r.Block
			}
			if node == "" {
				node = r.District
			}
			b.Queue(`INSERT INTO routing_rules (category_id, location_id, department_id)
				VALUES ((SELECT id FROM categories WHERE code = $1), (SELECT id FROM locations WHERE code = nullif($2, '')), (SELECT id FROM departments WHERE code = $3))
				ON CONFLICT (category_id, coalesce(location_id, 0)) DO UPDATE SET department_id = excluded.department_id`,
				r.Category, node, r.Department)
			c.Rules++
		}
		user := `INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash`
		for _, s := range staff {
			b.Queue(user, s.username, s.name, s.role, passwordHash, now)
			c.Users++
		}
		post := func(dept Department, district *District, level int) {
			jur, name := "STATE", "State"
			if district != nil {
				jur, name = district.Code, district.Name
			}
			code := fmt.Sprintf("%s-%s-L%d", dept.Code, jur, level)
			title := map[int]string{1: "Field Officer", 2: "District Head", 3: "Head of Department", 4: "Secretary"}[level]
			b.Queue(user, OfficerUsername(code), fmt.Sprintf("%s %s, %s", dept.Name, title, name), "OFFICER", passwordHash, now)
			b.Queue(`INSERT INTO posts (code, department_id, level, district_id, name, holder_user_id)
				VALUES ($1, (SELECT id FROM departments WHERE code = $2), $3, (SELECT id FROM locations WHERE code = $4 AND kind = 'DISTRICT'), $5,
				        (SELECT id FROM users WHERE username = $6))
				ON CONFLICT (code) DO NOTHING`,
				code, dept.Code, level, jur, fmt.Sprintf("%s %s, %s", dept.Name, title, name), OfficerUsername(code))
			c.Posts++
			c.Users++
		}
		for _, dept := range Departments {
			for i := range Districts {
				post(dept, &Districts[i], 1)
				post(dept, &Districts[i], 2)
			}
			post(dept, nil, 3)
			post(dept, nil, 4)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	return c, err
}
