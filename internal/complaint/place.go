package complaint

import (
	"context"
	"fmt"

	"github.com/helpline/helpline/internal/apperr"
)

// Place is a checked location: a district, and optionally a block in it and a ward in that.
type Place struct {
	DistrictID, BlockID, WardID *int64
}

// Most returns the most specific node id (nil: state-wide).
func (n Place) Most() *int64 {
	switch {
	case n.WardID != nil:
		return n.WardID
	case n.BlockID != nil:
		return n.BlockID
	}
	return n.DistrictID
}

// ResolvePlace checks that a (district, block, ward) of codes exists and
// hangs together, naming the field at fault (prefix + "district_code"...).
// An empty district is the whole state.
func ResolvePlace(ctx context.Context, q Querier, prefix, district, block, ward string) (Place, error) {
	var n Place
	if ward != "" && (block == "" || district == "") {
		// A ward alone would otherwise fall back to the whole state.
		return n, apperr.Invalid(prefix+"ward_code", fmt.Sprintf("ward %q needs its district_code and block_code", ward))
	}
	if district == "" {
		if block != "" {
			return n, apperr.Invalid(prefix+"district_code", "required when a block is given")
		}
		return n, nil
	}
	var blockParent, wardParent *int64
	err := q.QueryRow(ctx, `
		SELECT (SELECT id FROM locations WHERE code = $1 AND kind = 'DISTRICT'),
		       (SELECT id FROM locations WHERE code = nullif($2, '') AND kind = 'BLOCK'),
		       (SELECT parent_id FROM locations WHERE code = nullif($2, '') AND kind = 'BLOCK'),
		       (SELECT id FROM locations WHERE code = nullif($3, '') AND kind = 'WARD'),
		       (SELECT parent_id FROM locations WHERE code = nullif($3, '') AND kind = 'WARD')`,
		district, block, ward).Scan(&n.DistrictID, &n.BlockID, &blockParent, &n.WardID, &wardParent)
	if err != nil {
		return n, fmt.Errorf("resolve location: %w", err)
	}
	return CheckPlace(prefix, district, block, ward, n, blockParent, wardParent)
}

// CheckPlace validates looked-up location ids: n holds the ids found for
// the codes (nil: not found), blockParent and wardParent the parents of
// the block and ward found. It names the field at fault.
func CheckPlace(prefix, district, block, ward string, n Place, blockParent, wardParent *int64) (Place, error) {
	if ward != "" && block == "" {
		return n, apperr.Invalid(prefix+"block_code", "required when a ward is given")
	}
	switch {
	case n.DistrictID == nil:
		return n, apperr.Invalid(prefix+"district_code", fmt.Sprintf("unknown district %q", district))
	case block != "" && n.BlockID == nil:
		return n, apperr.Invalid(prefix+"block_code", fmt.Sprintf("unknown block %q", block))
	case block != "" && *blockParent != *n.DistrictID:
		return n, apperr.Invalid(prefix+"block_code", fmt.Sprintf("block %q is not in district %q", block, district))
	case ward != "" && n.WardID == nil:
		return n, apperr.Invalid(prefix+"ward_code", fmt.Sprintf("unknown ward %q", ward))
	case ward != "" && *wardParent != *n.BlockID:
		return n, apperr.Invalid(prefix+"ward_code", fmt.Sprintf("ward %q is not in block %q", ward, block))
	}
	return n, nil
}

// CodeKind is a kind of master-data code a filter may name.
type CodeKind string

// The kinds of code filters name.
const (
	DepartmentCode CodeKind = "department"
	DistrictCode   CodeKind = "district"
	CategoryCode   CodeKind = "category"
)

var codeQueries = map[CodeKind]string{
	DepartmentCode: `SELECT EXISTS (SELECT 1 FROM departments WHERE code = $1)`,
	DistrictCode:   `SELECT EXISTS (SELECT 1 FROM locations WHERE code = $1 AND kind = 'DISTRICT')`,
	CategoryCode:   `SELECT EXISTS (SELECT 1 FROM categories WHERE code = $1)`,
}

// CheckFilterCode answers INVALID_ARGUMENT naming field when code (already
// checked by input.Code; empty means no filter) is not an existing code of
// kind: a filter on a code that does not exist is a mistake, not an empty
// list.
func CheckFilterCode(ctx context.Context, q Querier, field string, kind CodeKind, code string) error {
	if code == "" {
		return nil
	}
	var ok bool
	if err := q.QueryRow(ctx, codeQueries[kind], code).Scan(&ok); err != nil {
		return fmt.Errorf("check %s code: %w", kind, err)
	}
	if !ok {
		return apperr.Invalid(field, fmt.Sprintf("unknown %s %q", kind, code))
	}
	return nil
}
