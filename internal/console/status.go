package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"

	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/complaint"
)

// PublicStatus is what anyone holding a docket number may see of its
// complaint: where it is, never who complained or what they wrote.
type PublicStatus struct {
	Docket       string     `json:"docket"`
	Status       string     `json:"status"`
	Closure      string     `json:"closure,omitempty"`
	CategoryCode string     `json:"categoryCode"`
	Category     string     `json:"category"`
	CategoryHi   string     `json:"categoryHi"`
	Department   string     `json:"departmentCode,omitempty"`
	DeptName     string     `json:"department,omitempty"`
	DeptNameHi   string     `json:"departmentHi,omitempty"`
	District     string     `json:"districtCode"`
	Level        int        `json:"level,omitempty"`
	RegisteredAt time.Time  `json:"registeredAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
	DueAt        *time.Time `json:"slaDueAt,omitempty"`
}

// StatusFromDB reads public statuses from PostgreSQL.
func StatusFromDB(pool *pgxpool.Pool) func(context.Context, string) (*PublicStatus, error) {
	return func(ctx context.Context, docket string) (*PublicStatus, error) {
		d, err := complaint.ParseDocket("docket", docket)
		if err != nil {
			return nil, err
		}
		r, err := complaint.GetByDocket(ctx, pool, d)
		if err != nil {
			return nil, err
		}
		st := &PublicStatus{Docket: r.Docket, Status: string(r.Status), Closure: r.Closure, CategoryCode: r.CategoryCode,
			Department: r.DepartmentCode, District: r.DistrictCode, Level: r.Level, RegisteredAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
		if r.Status != complaint.Closed && r.Status != complaint.Resolved {
			st.DueAt = r.SLADueAt
		}
		err = pool.QueryRow(ctx, `
			SELECT c.name, c.name_hi, coalesce(d.name, ''), coalesce(d.name_hi, '')
			FROM categories c LEFT JOIN departments d ON d.code = $2 WHERE c.code = $1`,
			r.CategoryCode, r.DepartmentCode).Scan(&st.Category, &st.CategoryHi, &st.DeptName, &st.DeptNameHi)
		if err != nil {
			return nil, fmt.Errorf("status names: %w", err)
		}
		return st, nil
	}
}

// status answers GET /console/status.json?docket=: the citizen's "what
// happened to my complaint?", reached from the QR code read back with the
// docket. No login: the docket is the key, and nothing personal is shown.
func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if h.lookup == nil {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "status lookups are not served by this process"})
		return
	}
	st, err := h.lookup(r.Context(), r.URL.Query().Get("docket"))
	if err != nil {
		// The same mapping as the REST API's: 400 naming the field, 404, 503.
		gs, unexpected := apperr.ToStatus(err)
		if unexpected {
			h.log.ErrorContext(r.Context(), "console: status lookup", "err", err)
		}
		msg := gs.Message()
		if gs.Code() == codes.NotFound {
			msg = "no complaint has this docket number"
		}
		w.WriteHeader(runtime.HTTPStatusFromCode(gs.Code()))
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
		return
	}
	_ = json.NewEncoder(w).Encode(st)
}
