package console

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"

	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/clientaddr"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/complaint"
)

// PublicStatus is what anyone holding a docket number may see of its
// complaint: where it is, never who complained or what they wrote. For a
// complaint in a sensitive category (drug peddling, an FIR not registered)
// the category and the district are left out: only the department shows.
type PublicStatus struct {
	Docket       string `json:"docket"`
	Status       string `json:"status"`
	Closure      string `json:"closure,omitempty"`
	CategoryCode string `json:"categoryCode,omitempty"`
	Category     string `json:"category,omitempty"`
	CategoryHi   string `json:"categoryHi,omitempty"`
	Department   string `json:"departmentCode,omitempty"`
	DeptName     string `json:"department,omitempty"`
	DeptNameHi   string `json:"departmentHi,omitempty"`
	District     string `json:"districtCode,omitempty"`
	Level        int    `json:"level,omitempty"`
	// RegisteredAt, UpdatedAt and DueAt are dates (IST, 2006-01-02), never
	// times: exact times would help tie a complaint to a person.
	RegisteredAt string `json:"registeredAt"`
	UpdatedAt    string `json:"updatedAt"`
	DueAt        string `json:"slaDueAt,omitempty"`
}

// day is the IST date of t.
func day(t time.Time) string { return t.In(clock.IST).Format(time.DateOnly) }

// StatusLookup finds the public status of the complaint of a docket and
// its status-page secret; a wrong secret is apperr.ErrNotFound, exactly as
// an unknown docket.
type StatusLookup func(ctx context.Context, docket, token string) (*PublicStatus, error)

// StatusFromDB reads public statuses from PostgreSQL.
func StatusFromDB(pool *pgxpool.Pool) StatusLookup {
	return func(ctx context.Context, docket, token string) (*PublicStatus, error) {
		d, err := complaint.ParseDocket("docket", docket)
		if err != nil {
			return nil, err
		}
		r, err := complaint.GetByDocket(ctx, pool, d)
		if err != nil {
			return nil, err
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(r.StatusToken)) != 1 {
			return nil, apperr.NotFound("complaint %s not found", d)
		}
		st := &PublicStatus{Docket: r.Docket, Status: string(r.Status), Closure: r.Closure, CategoryCode: r.CategoryCode,
			Department: r.DepartmentCode, District: r.DistrictCode, Level: r.Level, RegisteredAt: day(r.CreatedAt), UpdatedAt: day(r.UpdatedAt)}
		if r.Status != complaint.Closed && r.Status != complaint.Resolved && r.SLADueAt != nil {
			st.DueAt = day(*r.SLADueAt)
		}
		var sensitive bool
		err = pool.QueryRow(ctx, `
			SELECT c.name, c.name_hi, c.sensitive, coalesce(d.name, ''), coalesce(d.name_hi, '')
			FROM categories c LEFT JOIN departments d ON d.code = $2 WHERE c.code = $1`,
			r.CategoryCode, r.DepartmentCode).Scan(&st.Category, &st.CategoryHi, &sensitive, &st.DeptName, &st.DeptNameHi)
		if err != nil {
			return nil, fmt.Errorf("status names: %w", err)
		}
		if sensitive {
			// The category (drug peddling, say) with the district could
			// point at a person: whoever holds the link sees the department.
			st.CategoryCode, st.Category, st.CategoryHi, st.District = "", "", "", ""
		}
		return st, nil
	}
}

// status answers GET /console/status.json?docket=&token=: the citizen's
// "what happened to my complaint?", reached from the QR code or the link
// the agent reads out. No login: the docket with its complaint's secret
// (Complaint.status_token) is the key; a wrong or missing secret answers
// as an unknown docket does, and nothing personal is shown.
func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !h.lookups.allow(clientaddr.FromRequest(r, h.trusted)) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "too many lookups: try again in a minute"})
		return
	}
	if h.lookup == nil {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "status lookups are not served by this process"})
		return
	}
	st, err := h.lookup(r.Context(), r.URL.Query().Get("docket"), r.URL.Query().Get("token"))
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

// lookupsPerMinute bounds the status lookups of one client address, so the
// sequential docket numbers cannot be walked quickly.
const lookupsPerMinute = 30

// qrPerMinute bounds the QR codes drawn for one client address (each costs
// CPU): enough for a call centre's agents behind one address.
const qrPerMinute = 120

// limiter is a per-address token bucket: n a minute, n at once.
type limiter struct {
	n     int
	mu    sync.Mutex
	addrs map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(n int) *limiter { return &limiter{n: n, addrs: map[string]*bucket{}} }

func (l *limiter) allow(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	b := l.addrs[addr]
	if b == nil {
		if len(l.addrs) > 100_000 { // forget everyone rather than grow without bound
			l.addrs = map[string]*bucket{}
		}
		b = &bucket{tokens: float64(l.n), at: now}
		l.addrs[addr] = b
	}
	b.tokens = min(float64(l.n), b.tokens+now.Sub(b.at).Minutes()*float64(l.n))
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
