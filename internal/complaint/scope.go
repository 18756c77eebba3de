package complaint

import (
	"errors"
	"time"

	"context"

	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/docket"
)

// Visible reports whether the caller in ctx may see r.
func Visible(ctx context.Context, r *Record) bool {
	return caller.From(ctx).Sees(r.DepartmentID, r.DistrictID)
}

// CheckVisible returns the same NOT_FOUND as a missing complaint when the
// caller may not see r, so that nothing about it is revealed.
func CheckVisible(ctx context.Context, r *Record) error {
	if !Visible(ctx, r) {
		return apperr.NotFound("complaint %v not found", r.Docket)
	}
	return nil
}

// ScopeSQL returns a condition on alias c limiting a listing to what the
// caller may see ("" when they see everything); arg binds a parameter.
func ScopeSQL(ctx context.Context, arg func(any) string) string {
	c := caller.From(ctx)
	if c.Role != caller.Officer {
		return ""
	}
	return `EXISTS (SELECT 1 FROM posts sp WHERE sp.holder_user_id = ` + arg(c.UserID) +
		` AND sp.department_id = c.department_id AND (sp.district_id IS NULL OR sp.district_id = c.district_id))`
}

// ViewFor is how the caller in ctx sees complaints at now.
func ViewFor(ctx context.Context, now time.Time) View {
	return View{MaskPhone: caller.From(ctx).MasksPhones(), Now: now}
}

// ParseDocket validates a docket given in field and returns its canonical
// form; spaces, dashes and Devanagari digits are accepted, and a misheard
// digit is caught by the check digit.
func ParseDocket(field, s string) (string, error) {
	d, err := docket.Normalize(s)
	if errors.Is(err, docket.ErrCheckDigit) {
		return "", apperr.Invalid(field, "check digit does not match: a digit was misheard")
	}
	if err != nil {
		return "", apperr.Invalid(field, "must look like 26-0000001-5")
	}
	return d, nil
}
