package routing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/auth"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/input"
)

const maxName = 200

// names validates the English and Hindi names of a master data row.
func names(prefix, name, nameHi string) (string, string, error) {
	n, err := input.Text(prefix+"name", name, maxName, true)
	if err != nil {
		return "", "", err
	}
	hi, err := input.Text(prefix+"name_hi", nameHi, maxName, false)
	return n, hi, err
}

// UpsertDistrict creates or updates a district with the blocks and wards given.
func (s *Service) UpsertDistrict(ctx context.Context, req *helplinev1.UpsertDistrictRequest) (*helplinev1.UpsertDistrictResponse, error) {
	d := req.GetDistrict()
	code, err := input.Code("district.code", d.GetCode(), true)
	if err != nil {
		return nil, err
	}
	name, nameHi, err := names("district.", d.GetName(), d.GetNameHi())
	if err != nil {
		return nil, err
	}
	type ward struct{ code, name, nameHi string }
	type block struct {
		code, name, nameHi string
		wards              []ward
	}
	var blocks []block
	seen := map[string]bool{code: true}
	for i, b := range d.GetBlocks() {
		p := fmt.Sprintf("district.blocks[%d].", i)
		var bl block
		if bl.code, err = input.Code(p+"code", b.GetCode(), true); err != nil {
			return nil, err
		}
		if seen[bl.code] {
			return nil, apperr.Invalid(p+"code", fmt.Sprintf("code %q given twice", bl.code))
		}
		seen[bl.code] = true
		if bl.name, bl.nameHi, err = names(p, b.GetName(), b.GetNameHi()); err != nil {
			return nil, err
		}
		for j, w := range b.GetWards() {
			wp := fmt.Sprintf("%swards[%d].", p, j)
			var wd ward
			if wd.code, err = input.Code(wp+"code", w.GetCode(), true); err != nil {
				return nil, err
			}
			if seen[wd.code] {
				return nil, apperr.Invalid(wp+"code", fmt.Sprintf("code %q given twice", wd.code))
			}
			seen[wd.code] = true
			if wd.name, wd.nameHi, err = names(wp, w.GetName(), w.GetNameHi()); err != nil {
				return nil, err
			}
			bl.wards = append(bl.wards, wd)
		}
		blocks = append(blocks, bl)
	}
	err = db.InTx(ctx, s.store.pool, func(tx pgx.Tx) error {
		did, err := upsertLocation(ctx, tx, "district.code", "DISTRICT", code, nil, name, nameHi)
		if err != nil {
			return err
		}
		for i, b := range blocks {
			bid, err := upsertLocation(ctx, tx, fmt.Sprintf("district.blocks[%d].code", i), "BLOCK", b.code, &did, b.name, b.nameHi)
			if err != nil {
				return err
			}
			for j, w := range b.wards {
				if _, err := upsertLocation(ctx, tx, fmt.Sprintf("district.blocks[%d].wards[%d].code", i, j), "WARD", w.code, &bid, w.name, w.nameHi); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	list, err := s.store.listDistricts(ctx, code)
	if err != nil || len(list) != 1 {
		return nil, fmt.Errorf("read back district %s: %v", code, err)
	}
	return &helplinev1.UpsertDistrictResponse{District: list[0]}, nil
}

// ListDistricts lists every district with its blocks and wards.
func (s *Service) ListDistricts(ctx context.Context, _ *helplinev1.ListDistrictsRequest) (*helplinev1.ListDistrictsResponse, error) {
	list, err := s.store.listDistricts(ctx, "")
	if err != nil {
		return nil, err
	}
	return &helplinev1.ListDistrictsResponse{Districts: list}, nil
}

// UpsertDepartment creates or updates a department.
func (s *Service) UpsertDepartment(ctx context.Context, req *helplinev1.UpsertDepartmentRequest) (*helplinev1.UpsertDepartmentResponse, error) {
	return s.upsertDepartment(ctx, s.store.pool, req)
}

func (s *Service) upsertDepartment(ctx context.Context, q dbtx, req *helplinev1.UpsertDepartmentRequest) (*helplinev1.UpsertDepartmentResponse, error) {
	d := req.GetDepartment()
	code, err := input.Code("department.code", d.GetCode(), true)
	if err != nil {
		return nil, err
	}
	name, nameHi, err := names("department.", d.GetName(), d.GetNameHi())
	if err != nil {
		return nil, err
	}
	_, err = q.Exec(ctx, `
		INSERT INTO departments (code, name, name_hi) VALUES ($1, $2, $3)
		ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_hi = excluded.name_hi`, code, name, nameHi)
	if err != nil {
		return nil, fmt.Errorf("upsert department: %w", err)
	}
	return &helplinev1.UpsertDepartmentResponse{Department: &helplinev1.Department{Code: code, Name: name, NameHi: nameHi}}, nil
}

// ListDepartments lists every department.
func (s *Service) ListDepartments(ctx context.Context, _ *helplinev1.ListDepartmentsRequest) (*helplinev1.ListDepartmentsResponse, error) {
	rows, err := s.store.pool.Query(ctx, `SELECT code, name, name_hi FROM departments ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*helplinev1.Department, error) {
		d := &helplinev1.Department{}
		return d, r.Scan(&d.Code, &d.Name, &d.NameHi)
	})
	if err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	return &helplinev1.ListDepartmentsResponse{Departments: list}, nil
}

// UpsertCategory creates or updates a category with its SLAs.
func (s *Service) UpsertCategory(ctx context.Context, req *helplinev1.UpsertCategoryRequest) (*helplinev1.UpsertCategoryResponse, error) {
	return s.upsertCategory(ctx, s.store.pool, req)
}

func (s *Service) upsertCategory(ctx context.Context, q dbtx, req *helplinev1.UpsertCategoryRequest) (*helplinev1.UpsertCategoryResponse, error) {
	c := req.GetCategory()
	code, err := input.Code("category.code", c.GetCode(), true)
	if err != nil {
		return nil, err
	}
	dept, err := input.Code("category.department_code", c.GetDepartmentCode(), true)
	if err != nil {
		return nil, err
	}
	name, nameHi, err := names("category.", c.GetName(), c.GetNameHi())
	if err != nil {
		return nil, err
	}
	if len(c.GetSlaDays()) != 4 {
		return nil, apperr.Invalid("category.sla_days", "give exactly four values, for levels 1 to 4")
	}
	for i, d := range c.GetSlaDays() {
		if d < 1 || d > 365 {
			return nil, apperr.Invalid(fmt.Sprintf("category.sla_days[%d]", i), "must be between 1 and 365 working days")
		}
	}
	deptID, err := idOf(ctx, q, "departments", "category.department_code", dept)
	if err != nil {
		return nil, err
	}
	_, err = q.Exec(ctx, `
		INSERT INTO categories (code, department_id, name, name_hi, sla_days, sensitive) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (code) DO UPDATE SET department_id = excluded.department_id, name = excluded.name,
		    name_hi = excluded.name_hi, sla_days = excluded.sla_days, sensitive = excluded.sensitive`,
		code, deptID, name, nameHi, c.GetSlaDays(), c.GetSensitive())
	if err != nil {
		return nil, fmt.Errorf("upsert category: %w", err)
	}
	return &helplinev1.UpsertCategoryResponse{Category: &helplinev1.Category{
		Code: code, DepartmentCode: dept, Name: name, NameHi: nameHi, SlaDays: c.GetSlaDays(), Sensitive: c.GetSensitive()}}, nil
}

// ListCategories lists categories, optionally of one department.
func (s *Service) ListCategories(ctx context.Context, req *helplinev1.ListCategoriesRequest) (*helplinev1.ListCategoriesResponse, error) {
	dept, err := input.Code("department_code", req.GetDepartmentCode(), false)
	if err != nil {
		return nil, err
	}
	if err := complaint.CheckFilterCode(ctx, s.store.pool, "department_code", complaint.DepartmentCode, dept); err != nil {
		return nil, err
	}
	rows, err := s.store.pool.Query(ctx, `
		SELECT c.code, d.code, c.name, c.name_hi, c.sla_days, c.sensitive FROM categories c JOIN departments d ON d.id = c.department_id
		WHERE $1 = '' OR d.code = $1 ORDER BY c.code`, dept)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*helplinev1.Category, error) {
		c := &helplinev1.Category{}
		return c, r.Scan(&c.Code, &c.DepartmentCode, &c.Name, &c.NameHi, &c.SlaDays, &c.Sensitive)
	})
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	return &helplinev1.ListCategoriesResponse{Categories: list}, nil
}

// PostCode is the code a post gets when none is given: PWD-SHIMLA-L1, PWD-STATE-L3.
func PostCode(department, district string, level int) string {
	if district == "" {
		district = "STATE"
	}
	return fmt.Sprintf("%s-%s-L%d", department, district, level)
}

// UpsertPost creates or updates a post and who holds it.
func (s *Service) UpsertPost(ctx context.Context, req *helplinev1.UpsertPostRequest) (*helplinev1.UpsertPostResponse, error) {
	return s.upsertPost(ctx, s.store.pool, req)
}

func (s *Service) upsertPost(ctx context.Context, q dbtx, req *helplinev1.UpsertPostRequest) (*helplinev1.UpsertPostResponse, error) {
	p := req.GetPost()
	dept, err := input.Code("post.department_code", p.GetDepartmentCode(), true)
	if err != nil {
		return nil, err
	}
	level := int(p.GetLevel())
	if level < 1 || level > 4 {
		return nil, apperr.Invalid("post.level", "must be 1, 2, 3 or 4")
	}
	district, err := input.Code("post.district_code", p.GetDistrictCode(), level <= 2)
	if err != nil {
		return nil, err
	}
	if level >= 3 && district != "" {
		return nil, apperr.Invalid("post.district_code", "levels 3 and 4 are state posts: leave it empty")
	}
	code := p.GetCode()
	if code == "" {
		code = PostCode(dept, district, level)
	}
	if code, err = input.Code("post.code", code, true); err != nil {
		return nil, err
	}
	name, err := input.Text("post.name", p.GetName(), maxName, false)
	if err != nil {
		return nil, err
	}
	holder, err := input.Text("post.holder_username", p.GetHolderUsername(), 64, false)
	if err != nil {
		return nil, err
	}
	deptID, err := idOf(ctx, q, "departments", "post.department_code", dept)
	if err != nil {
		return nil, err
	}
	var districtID *int64
	if district != "" {
		n, err := complaint.ResolvePlace(ctx, q, "post.", district, "", "")
		if err != nil {
			return nil, err
		}
		districtID = n.DistrictID
	}
	var holderID *int64
	if holder != "" {
		var id int64
		var role string
		err := q.QueryRow(ctx, `SELECT id, role FROM users WHERE username = $1`, holder).Scan(&id, &role)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, apperr.Invalid("post.holder_username", fmt.Sprintf("unknown user %q", holder))
		}
		if err != nil {
			return nil, fmt.Errorf("look up holder: %w", err)
		}
		if role != "OFFICER" {
			return nil, apperr.Invalid("post.holder_username", fmt.Sprintf("user %q is not an officer", holder))
		}
		holderID = &id
	}
	_, err = q.Exec(ctx, `
		INSERT INTO posts (code, department_id, level, district_id, name, holder_user_id) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (code) DO UPDATE SET department_id = excluded.department_id, level = excluded.level,
		    district_id = excluded.district_id, name = excluded.name, holder_user_id = excluded.holder_user_id`,
		code, deptID, level, districtID, name, holderID)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return nil, apperr.Invalid("post.code", fmt.Sprintf("%s already has a level %d post for %s", dept, level, orState(district)))
	}
	if err != nil {
		return nil, fmt.Errorf("upsert post: %w", err)
	}
	auth.Invalidate() // officers' cached posts
	return &helplinev1.UpsertPostResponse{Post: &helplinev1.Post{
		Code: code, DepartmentCode: dept, Level: int32(level), DistrictCode: district, Name: name, HolderUsername: holder}}, nil
}

func orState(district string) string {
	if district == "" {
		return "the state"
	}
	return district
}

// ListPosts lists posts, optionally filtered.
func (s *Service) ListPosts(ctx context.Context, req *helplinev1.ListPostsRequest) (*helplinev1.ListPostsResponse, error) {
	dept, err := input.Code("department_code", req.GetDepartmentCode(), false)
	if err != nil {
		return nil, err
	}
	district, err := input.Code("district_code", req.GetDistrictCode(), false)
	if err != nil {
		return nil, err
	}
	if err := complaint.CheckFilterCode(ctx, s.store.pool, "department_code", complaint.DepartmentCode, dept); err != nil {
		return nil, err
	}
	if err := complaint.CheckFilterCode(ctx, s.store.pool, "district_code", complaint.DistrictCode, district); err != nil {
		return nil, err
	}
	if req.GetLevel() < 0 || req.GetLevel() > 4 {
		return nil, apperr.Invalid("level", "must be 0 (any) or 1 to 4")
	}
	rows, err := s.store.pool.Query(ctx, `
		SELECT p.code, d.code, p.level, coalesce(l.code, ''), p.name, coalesce(u.username, '')
		FROM posts p JOIN departments d ON d.id = p.department_id
		LEFT JOIN locations l ON l.id = p.district_id LEFT JOIN users u ON u.id = p.holder_user_id
		WHERE ($1 = '' OR d.code = $1) AND ($2 = '' OR l.code = $2) AND ($3 = 0 OR p.level = $3)
		ORDER BY d.code, p.level, l.code NULLS FIRST`, dept, district, req.GetLevel())
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*helplinev1.Post, error) {
		p := &helplinev1.Post{}
		return p, r.Scan(&p.Code, &p.DepartmentCode, &p.Level, &p.DistrictCode, &p.Name, &p.HolderUsername)
	})
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	return &helplinev1.ListPostsResponse{Posts: list}, nil
}

// UpsertRoutingRule sets the department for a (category, location node).
func (s *Service) UpsertRoutingRule(ctx context.Context, req *helplinev1.UpsertRoutingRuleRequest) (*helplinev1.UpsertRoutingRuleResponse, error) {
	return s.upsertRoutingRule(ctx, s.store.pool, req)
}

func (s *Service) upsertRoutingRule(ctx context.Context, q dbtx, req *helplinev1.UpsertRoutingRuleRequest) (*helplinev1.UpsertRoutingRuleResponse, error) {
	r := req.GetRule()
	var codes [5]string
	for i, f := range []struct {
		field, value string
		required     bool
	}{
		{"rule.category_code", r.GetCategoryCode(), true},
		{"rule.district_code", r.GetDistrictCode(), false},
		{"rule.block_code", r.GetBlockCode(), false},
		{"rule.ward_code", r.GetWardCode(), false},
		{"rule.department_code", r.GetDepartmentCode(), true},
	} {
		var err error
		if codes[i], err = input.Code(f.field, f.value, f.required); err != nil {
			return nil, err
		}
	}
	catID, err := idOf(ctx, q, "categories", "rule.category_code", codes[0])
	if err != nil {
		return nil, err
	}
	n, err := complaint.ResolvePlace(ctx, q, "rule.", codes[1], codes[2], codes[3])
	if err != nil {
		return nil, err
	}
	deptID, err := idOf(ctx, q, "departments", "rule.department_code", codes[4])
	if err != nil {
		return nil, err
	}
	_, err = q.Exec(ctx, `
		INSERT INTO routing_rules (category_id, location_id, department_id) VALUES ($1, $2, $3)
		ON CONFLICT (category_id, coalesce(location_id, 0)) DO UPDATE SET department_id = excluded.department_id`,
		catID, n.Most(), deptID)
	if err != nil {
		return nil, fmt.Errorf("upsert routing rule: %w", err)
	}
	return &helplinev1.UpsertRoutingRuleResponse{Rule: &helplinev1.RoutingRule{
		CategoryCode: codes[0], DistrictCode: codes[1], BlockCode: codes[2], WardCode: codes[3], DepartmentCode: codes[4]}}, nil
}

// ListRoutingRules lists routing rules, optionally of one category.
func (s *Service) ListRoutingRules(ctx context.Context, req *helplinev1.ListRoutingRulesRequest) (*helplinev1.ListRoutingRulesResponse, error) {
	cat, err := input.Code("category_code", req.GetCategoryCode(), false)
	if err != nil {
		return nil, err
	}
	if err := complaint.CheckFilterCode(ctx, s.store.pool, "category_code", complaint.CategoryCode, cat); err != nil {
		return nil, err
	}
	rows, err := s.store.pool.Query(ctx, `
		SELECT c.code, coalesce(dl.code, ''), coalesce(bl.code, ''), coalesce(wl.code, ''), d.code
		FROM routing_rules r
		JOIN categories c ON c.id = r.category_id
		JOIN departments d ON d.id = r.department_id
		LEFT JOIN locations l ON l.id = r.location_id
		LEFT JOIN locations wl ON wl.id = l.id AND l.kind = 'WARD'
		LEFT JOIN locations bl ON bl.id = CASE l.kind WHEN 'WARD' THEN l.parent_id WHEN 'BLOCK' THEN l.id END
		LEFT JOIN locations dl ON dl.id = CASE l.kind WHEN 'DISTRICT' THEN l.id ELSE bl.parent_id END
		WHERE $1 = '' OR c.code = $1
		ORDER BY c.code, dl.code NULLS FIRST, bl.code NULLS FIRST, wl.code NULLS FIRST`, cat)
	if err != nil {
		return nil, fmt.Errorf("list routing rules: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*helplinev1.RoutingRule, error) {
		x := &helplinev1.RoutingRule{}
		return x, r.Scan(&x.CategoryCode, &x.DistrictCode, &x.BlockCode, &x.WardCode, &x.DepartmentCode)
	})
	if err != nil {
		return nil, fmt.Errorf("list routing rules: %w", err)
	}
	return &helplinev1.ListRoutingRulesResponse{Rules: list}, nil
}

// UpsertHoliday adds or renames a holiday.
func (s *Service) UpsertHoliday(ctx context.Context, req *helplinev1.UpsertHolidayRequest) (*helplinev1.UpsertHolidayResponse, error) {
	return s.upsertHoliday(ctx, s.store.pool, req)
}

func (s *Service) upsertHoliday(ctx context.Context, q dbtx, req *helplinev1.UpsertHolidayRequest) (*helplinev1.UpsertHolidayResponse, error) {
	h := req.GetHoliday()
	day, err := time.Parse(time.DateOnly, h.GetDate())
	if err != nil {
		return nil, apperr.Invalid("holiday.date", "must be a date like 2026-01-26")
	}
	name, err := input.Text("holiday.name", h.GetName(), maxName, true)
	if err != nil {
		return nil, err
	}
	_, err = q.Exec(ctx, `INSERT INTO holidays (day, name) VALUES ($1, $2) ON CONFLICT (day) DO UPDATE SET name = excluded.name`,
		day.Format(time.DateOnly), name)
	if err != nil {
		return nil, fmt.Errorf("upsert holiday: %w", err)
	}
	return &helplinev1.UpsertHolidayResponse{Holiday: &helplinev1.Holiday{Date: day.Format(time.DateOnly), Name: name}}, nil
}

// ListHolidays lists the holidays of a year.
func (s *Service) ListHolidays(ctx context.Context, req *helplinev1.ListHolidaysRequest) (*helplinev1.ListHolidaysResponse, error) {
	year := int(req.GetYear())
	if year == 0 {
		year = s.clock.Now().In(clock.IST).Year()
	}
	if year < 2000 || year > 2100 {
		return nil, apperr.Invalid("year", "must be between 2000 and 2100")
	}
	rows, err := s.store.pool.Query(ctx, `SELECT day::text, name FROM holidays WHERE extract(year FROM day) = $1 ORDER BY day`, year)
	if err != nil {
		return nil, fmt.Errorf("list holidays: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*helplinev1.Holiday, error) {
		h := &helplinev1.Holiday{}
		return h, r.Scan(&h.Date, &h.Name)
	})
	if err != nil {
		return nil, fmt.Errorf("list holidays: %w", err)
	}
	return &helplinev1.ListHolidaysResponse{Holidays: list}, nil
}

// UpsertLine creates or updates a helpline line.
func (s *Service) UpsertLine(ctx context.Context, req *helplinev1.UpsertLineRequest) (*helplinev1.UpsertLineResponse, error) {
	return s.upsertLine(ctx, s.store.pool, req)
}

func (s *Service) upsertLine(ctx context.Context, q dbtx, req *helplinev1.UpsertLineRequest) (*helplinev1.UpsertLineResponse, error) {
	code, err := input.Code("line.code", req.GetLine().GetCode(), true)
	if err != nil {
		return nil, err
	}
	name, err := input.Text("line.name", req.GetLine().GetName(), maxName, true)
	if err != nil {
		return nil, err
	}
	_, err = q.Exec(ctx, `INSERT INTO helpline_lines (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = excluded.name`, code, name)
	if err != nil {
		return nil, fmt.Errorf("upsert line: %w", err)
	}
	return &helplinev1.UpsertLineResponse{Line: &helplinev1.Line{Code: code, Name: name}}, nil
}

// ListLines lists helpline lines.
func (s *Service) ListLines(ctx context.Context, _ *helplinev1.ListLinesRequest) (*helplinev1.ListLinesResponse, error) {
	rows, err := s.store.pool.Query(ctx, `SELECT code, name FROM helpline_lines ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list lines: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*helplinev1.Line, error) {
		l := &helplinev1.Line{}
		return l, r.Scan(&l.Code, &l.Name)
	})
	if err != nil {
		return nil, fmt.Errorf("list lines: %w", err)
	}
	return &helplinev1.ListLinesResponse{Lines: list}, nil
}
