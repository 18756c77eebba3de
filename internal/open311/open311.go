// Package open311 serves the Open311 GeoReport v2 API (JSON) for civic-issue
// apps: categories as services, complaints as service requests. It is an
// adapter over the public gRPC API: an application's api_key is a token of
// its own user (role agent, issued with IdentityService.IssueToken), so
// authentication, validation, idempotency and access are the RPCs' own. The
// answers carry no personal data: never the citizen's name or phone, and the
// description and address only of the application's own requests. The
// service list and definitions are public, as the specification has them.
package open311

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/clientaddr"
	"github.com/helpline/helpline/internal/clock"
)

// MaxDays is the longest date range GET requests.json answers.
const MaxDays = 90

// maxRequests is the most service requests one GET requests.json returns.
const maxRequests = 1000

// Handler is the Open311 API under /open311/v2/.
type Handler struct {
	intake   helplinev1.IntakeServiceClient
	routing  helplinev1.RoutingServiceClient
	identity helplinev1.IdentityServiceClient
	// public answers the service list and definitions without an api_key
	// (the routing service of this process), as the specification allows.
	public catalogue
	log    *slog.Logger
	now    func() time.Time
	// trusted are the proxies whose X-Forwarded-For names the client.
	trusted []netip.Prefix
}

// catalogue is the master data the service list is made of.
type catalogue interface {
	ListCategories(context.Context, *helplinev1.ListCategoriesRequest) (*helplinev1.ListCategoriesResponse, error)
	ListDepartments(context.Context, *helplinev1.ListDepartmentsRequest) (*helplinev1.ListDepartmentsResponse, error)
	ListDistricts(context.Context, *helplinev1.ListDistrictsRequest) (*helplinev1.ListDistrictsResponse, error)
}

// clientCatalogue reads the catalogue over gRPC with the caller's api_key.
type clientCatalogue struct {
	c helplinev1.RoutingServiceClient
}

func (c clientCatalogue) ListCategories(ctx context.Context, r *helplinev1.ListCategoriesRequest) (*helplinev1.ListCategoriesResponse, error) {
	return c.c.ListCategories(ctx, r)
}

func (c clientCatalogue) ListDepartments(ctx context.Context, r *helplinev1.ListDepartmentsRequest) (*helplinev1.ListDepartmentsResponse, error) {
	return c.c.ListDepartments(ctx, r)
}

func (c clientCatalogue) ListDistricts(ctx context.Context, r *helplinev1.ListDistrictsRequest) (*helplinev1.ListDistrictsResponse, error) {
	return c.c.ListDistricts(ctx, r)
}

// catalogueFor is the catalogue of a service-list request: with its
// api_key over gRPC, else this process's routing service when it runs here.
func (h *Handler) catalogueFor(r *http.Request) (context.Context, catalogue, error) {
	if r.FormValue("api_key") == "" && r.Header.Get("Authorization") == "" && h.public != nil {
		return r.Context(), h.public, nil
	}
	ctx, err := h.authorized(r)
	if err != nil {
		return nil, nil, err
	}
	return ctx, clientCatalogue{h.routing}, nil
}

// New returns the Open311 handler, calling the intake, routing and
// identity services through their connections; nil when one is missing
// (Open311 is then not served here). public, when this process runs the
// routing service, serves the service list without an api_key. trusted are
// the proxies whose X-Forwarded-For names the client.
func New(intake, routing, identity *grpc.ClientConn, public helplinev1.RoutingServiceServer, log *slog.Logger, now func() time.Time, trusted []netip.Prefix) *Handler {
	if intake == nil || routing == nil || identity == nil {
		return nil
	}
	var pub catalogue
	if public != nil {
		pub = public
	}
	return &Handler{
		public:   pub,
		intake:   helplinev1.NewIntakeServiceClient(intake),
		routing:  helplinev1.NewRoutingServiceClient(routing),
		identity: helplinev1.NewIdentityServiceClient(identity),
		log:      log,
		now:      now,
		trusted:  trusted,
	}
}

// Register adds the Open311 routes to mux (none for a nil handler).
func (h *Handler) Register(mux *http.ServeMux) {
	if h == nil {
		return
	}
	mux.HandleFunc("GET /open311/v2/services.json", h.checked(h.services))
	mux.HandleFunc("GET /open311/v2/services/{code}", h.checked(h.service, "code"))
	mux.HandleFunc("POST /open311/v2/requests.json", h.checked(h.create))
	mux.HandleFunc("GET /open311/v2/requests.json", h.checked(h.list))
	mux.HandleFunc("GET /open311/v2/requests/{id}", h.checked(h.get, "id"))
}

// apiError is an Open311 error answer.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// fail writes err as Open311's error list: [{"code": 400, "description": "..."}].
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := http.StatusInternalServerError, "internal error"
	var ae *apiError
	if errors.As(err, &ae) {
		code, msg = ae.status, ae.msg
	} else if st, unexpected := apperr.ToStatus(err); st != nil {
		// A gRPC status from a call, or an error of an in-process service.
		msg = st.Message()
		switch st.Code() {
		case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
			code = http.StatusBadRequest
		case codes.Unauthenticated, codes.PermissionDenied:
			code = http.StatusForbidden // Open311: 403 is an invalid api_key
		case codes.NotFound:
			code = http.StatusNotFound
		case codes.AlreadyExists, codes.Aborted:
			code = http.StatusConflict
		case codes.ResourceExhausted:
			code = http.StatusTooManyRequests
		case codes.Unavailable, codes.DeadlineExceeded:
			code = http.StatusServiceUnavailable
		default:
			msg = "internal error"
			unexpected = true
		}
		if unexpected {
			h.log.ErrorContext(r.Context(), "open311", "path", r.URL.Path, "err", err)
		}
	}
	writeJSON(w, code, []map[string]any{{"code": code, "description": msg}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// jsonName strips the required ".json" format suffix from a path value.
func jsonName(s string) (string, error) {
	name, ok := strings.CutSuffix(s, ".json")
	if !ok {
		return "", &apiError{http.StatusNotFound, "only the JSON format (.json) is served"}
	}
	return name, nil
}

// authorized returns ctx carrying the request's api_key as the bearer token,
// its real client address, and this adapter's name (clientaddr.ViaOpen311:
// an Open311 application's key works only through it).
func (h *Handler) authorized(r *http.Request) (context.Context, error) {
	key := r.FormValue("api_key")
	if key == "" {
		key, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if key == "" {
		return nil, &apiError{http.StatusForbidden, "api_key is required"}
	}
	ctx := clientaddr.OutgoingVia(clientaddr.FromRequestOutgoing(r, h.trusted), clientaddr.ViaOpen311)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key), nil
}

// service is one Open311 service: a complaint category.
type service struct {
	Code        string `json:"service_code"`
	Name        string `json:"service_name"`
	Description string `json:"description"`
	Metadata    bool   `json:"metadata"`
	Type        string `json:"type"`
	Keywords    string `json:"keywords"`
	Group       string `json:"group"`
}

func (h *Handler) services(w http.ResponseWriter, r *http.Request) {
	ctx, cat, err := h.catalogueFor(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cats, err := cat.ListCategories(ctx, &helplinev1.ListCategoriesRequest{})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	deps, err := departments(ctx, cat)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []service{}
	for _, c := range cats.GetCategories() {
		out = append(out, service{
			Code: c.GetCode(), Name: c.GetName(),
			Description: strings.TrimSpace(c.GetName() + " / " + c.GetNameHi() + " (" + deps[c.GetDepartmentCode()] + ")"),
			// Every request needs the district_code attribute.
			Metadata: true, Type: "realtime", Keywords: c.GetNameHi(), Group: c.GetDepartmentCode(),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// departments maps department codes to names.
func departments(ctx context.Context, cat catalogue) (map[string]string, error) {
	resp, err := cat.ListDepartments(ctx, &helplinev1.ListDepartmentsRequest{})
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, d := range resp.GetDepartments() {
		m[d.GetCode()] = d.GetName()
	}
	return m, nil
}

// attribute is one Open311 service attribute definition.
type attribute struct {
	Variable            bool         `json:"variable"`
	Code                string       `json:"code"`
	Datatype            string       `json:"datatype"`
	Required            bool         `json:"required"`
	DatatypeDescription string       `json:"datatype_description"`
	Order               int          `json:"order"`
	Description         string       `json:"description"`
	Values              []valueEntry `json:"values,omitempty"`
}

type valueEntry struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

func (h *Handler) service(w http.ResponseWriter, r *http.Request) {
	code, err := jsonName(r.PathValue("code"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, cat, err := h.catalogueFor(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cats, err := cat.ListCategories(ctx, &helplinev1.ListCategoriesRequest{})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	found := false
	for _, c := range cats.GetCategories() {
		found = found || c.GetCode() == code
	}
	if !found {
		h.fail(w, r, &apiError{http.StatusNotFound, fmt.Sprintf("service_code %q is not a service", code)})
		return
	}
	dists, err := cat.ListDistricts(ctx, &helplinev1.ListDistrictsRequest{})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	district := attribute{
		Variable: true, Code: "district_code", Datatype: "singlevaluelist", Required: true, Order: 1,
		DatatypeDescription: "the district the issue is in", Description: "District",
	}
	for _, d := range dists.GetDistricts() {
		district.Values = append(district.Values, valueEntry{Key: d.GetCode(), Name: strings.TrimSpace(d.GetName() + " " + d.GetNameHi())})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"service_code": code,
		"attributes": []attribute{
			district,
			{Variable: true, Code: "block_code", Datatype: "string", Order: 2, Description: "Block or municipal body",
				DatatypeDescription: "a block code of the district, e.g. THEOG"},
			{Variable: true, Code: "ward_code", Datatype: "string", Order: 3, Description: "Ward or panchayat",
				DatatypeDescription: "a ward code of the block"},
		},
	})
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, badRequest("the body must be application/x-www-form-urlencoded: %v", err))
		return
	}
	ctx, err := h.authorized(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := r.PostForm
	if f.Get("service_code") == "" {
		h.fail(w, r, badRequest("service_code is required"))
		return
	}
	if f.Get("attribute[district_code]") == "" {
		h.fail(w, r, badRequest("attribute[district_code] is required"))
		return
	}
	address := f.Get("address_string")
	if address == "" && f.Get("lat") != "" && f.Get("long") != "" {
		address = f.Get("lat") + "," + f.Get("long")
	}
	channel := helplinev1.Channel_CHANNEL_WEB
	if f.Get("device_id") != "" {
		channel = helplinev1.Channel_CHANNEL_MOBILE_APP
	}
	req := &helplinev1.RegisterComplaintRequest{
		Citizen: &helplinev1.Citizen{
			Name:  strings.TrimSpace(f.Get("first_name") + " " + f.Get("last_name")),
			Phone: f.Get("phone"),
		},
		Location: &helplinev1.Location{
			DistrictCode: f.Get("attribute[district_code]"),
			BlockCode:    f.Get("attribute[block_code]"),
			WardCode:     f.Get("attribute[ward_code]"),
			Address:      address,
		},
		CategoryCode: f.Get("service_code"),
		Description:  f.Get("description"),
		Channel:      channel,
	}
	req.IdempotencyKey = idempotencyKey(r.Header.Get("Idempotency-Key"), req, h.now().In(clock.IST).Format(time.DateOnly),
		f.Get("device_id"), f.Get("account_id"))
	resp, err := h.intake.RegisterComplaint(ctx, req)
	if err != nil {
		h.fail(w, r, open311Fields(err))
		return
	}
	code := http.StatusCreated
	if resp.GetReplayed() {
		code = http.StatusOK
	}
	writeJSON(w, code, []map[string]any{{
		"service_request_id": resp.GetComplaint().GetDocket(),
		"service_notice":     "Your docket number is " + resp.GetComplaint().GetDocket() + ".",
		"account_id":         nil,
	}})
}

// idempotencyKey is the client's Idempotency-Key header when given, else a
// hash of the request's content and its IST day: a POST retried the same
// day files nothing new, while the same problem reported again another day
// is a new complaint. The scope is the api_key's user.
func idempotencyKey(header string, req *helplinev1.RegisterComplaintRequest, extra ...string) string {
	if header != "" {
		return "open311:" + header
	}
	h := sha256.New()
	for _, s := range append([]string{
		req.GetCategoryCode(), req.GetCitizen().GetName(), req.GetCitizen().GetPhone(),
		req.GetLocation().GetDistrictCode(), req.GetLocation().GetBlockCode(), req.GetLocation().GetWardCode(),
		req.GetLocation().GetAddress(), req.GetDescription(),
	}, extra...) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "open311:" + hex.EncodeToString(h.Sum(nil))[:40]
}

// open311Fields renames the RPC's field names in an INVALID_ARGUMENT to
// the Open311 parameters the client sent.
func open311Fields(err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return err
	}
	msg := strings.NewReplacer(
		"citizen.phone", "phone", "citizen.name", "first_name/last_name", "category_code", "service_code",
		"location.district_code", "attribute[district_code]", "location.block_code", "attribute[block_code]",
		"location.ward_code", "attribute[ward_code]", "location.address", "address_string",
	).Replace(st.Message())
	return badRequest("%s", msg)
}

// serviceRequest is one Open311 service request, every field of the
// specification present.
type serviceRequest struct {
	ID                string   `json:"service_request_id"`
	Status            string   `json:"status"`
	StatusNotes       string   `json:"status_notes"`
	ServiceName       string   `json:"service_name"`
	ServiceCode       string   `json:"service_code"`
	Description       string   `json:"description"`
	AgencyResponsible string   `json:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice"`
	RequestedDatetime string   `json:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime"`
	ExpectedDatetime  string   `json:"expected_datetime"`
	Address           string   `json:"address"`
	AddressID         string   `json:"address_id"`
	Zipcode           string   `json:"zipcode"`
	Lat               *float64 `json:"lat"`
	Long              *float64 `json:"long"`
	MediaURL          string   `json:"media_url"`
}

// names are the category and department names a response uses.
type names struct{ categories, departments map[string]string }

func (h *Handler) names(ctx context.Context) (names, error) {
	n := names{categories: map[string]string{}}
	cats, err := h.routing.ListCategories(ctx, &helplinev1.ListCategoriesRequest{})
	if err != nil {
		return n, err
	}
	for _, c := range cats.GetCategories() {
		n.categories[c.GetCode()] = c.GetName()
	}
	n.departments, err = departments(ctx, clientCatalogue{h.routing})
	return n, err
}

func datetime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().In(clock.IST).Format(time.RFC3339)
}

// toRequest maps a complaint; own says whether the caller filed it (only
// then are its description and address shown).
func toRequest(c *helplinev1.Complaint, n names, own bool) serviceRequest {
	sr := serviceRequest{
		ID:                c.GetDocket(),
		Status:            "open",
		StatusNotes:       statusNotes(c, n),
		ServiceName:       n.categories[c.GetCategoryCode()],
		ServiceCode:       c.GetCategoryCode(),
		AgencyResponsible: n.departments[c.GetDepartmentCode()],
		RequestedDatetime: datetime(c.GetCreatedAt()),
		UpdatedDatetime:   datetime(c.GetUpdatedAt()),
		ExpectedDatetime:  datetime(c.GetSlaDueAt()),
	}
	if c.GetStatus() == helplinev1.ComplaintStatus_COMPLAINT_STATUS_CLOSED {
		sr.Status = "closed"
		sr.ExpectedDatetime = ""
	}
	if own {
		sr.Description = c.GetDescription()
		sr.Address = strings.TrimSpace(strings.Trim(c.GetLocation().GetLocality()+", "+c.GetLocation().GetAddress(), ", "))
	}
	return sr
}

// statusNotes explains a complaint's lifecycle state in one sentence.
func statusNotes(c *helplinev1.Complaint, n names) string {
	dept := n.departments[c.GetDepartmentCode()]
	if dept == "" {
		dept = c.GetDepartmentCode()
	}
	switch c.GetStatus() {
	case helplinev1.ComplaintStatus_COMPLAINT_STATUS_REGISTERED:
		return "Registered; being routed to the department."
	case helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNROUTED:
		return "Registered; awaiting assignment to a department."
	case helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED:
		return fmt.Sprintf("Assigned to %s, level %d.", dept, c.GetLevel())
	case helplinev1.ComplaintStatus_COMPLAINT_STATUS_IN_PROGRESS:
		return fmt.Sprintf("Being worked on by %s, level %d.", dept, c.GetLevel())
	case helplinev1.ComplaintStatus_COMPLAINT_STATUS_ON_HOLD:
		return fmt.Sprintf("%s has asked the citizen for information.", dept)
	case helplinev1.ComplaintStatus_COMPLAINT_STATUS_RESOLVED:
		return fmt.Sprintf("Resolved by %s; awaiting the citizen's feedback.", dept)
	case helplinev1.ComplaintStatus_COMPLAINT_STATUS_REOPENED:
		return fmt.Sprintf("Reopened after the citizen's feedback; with %s, level %d.", dept, c.GetLevel())
	case helplinev1.ComplaintStatus_COMPLAINT_STATUS_CLOSED:
		switch c.GetClosure() {
		case helplinev1.Closure_CLOSURE_SATISFIED:
			return "Closed: resolved to the citizen's satisfaction."
		case helplinev1.Closure_CLOSURE_NO_RESPONSE:
			return "Closed: resolved; the citizen could not be reached for feedback."
		case helplinev1.Closure_CLOSURE_SPECIAL:
			return "Closed by special closure."
		}
		return "Closed."
	}
	return ""
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	id, err := jsonName(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, err := h.authorized(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out, err := h.byIDs(ctx, []string{id})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// byIDs reads service requests by docket.
func (h *Handler) byIDs(ctx context.Context, ids []string) ([]serviceRequest, error) {
	me, err := h.identity.WhoAmI(ctx, &helplinev1.WhoAmIRequest{})
	if err != nil {
		return nil, err
	}
	n, err := h.names(ctx)
	if err != nil {
		return nil, err
	}
	out := []serviceRequest{}
	for _, id := range ids {
		resp, err := h.intake.GetComplaint(ctx, &helplinev1.GetComplaintRequest{Docket: id})
		if err != nil {
			if status.Code(err) == codes.InvalidArgument || status.Code(err) == codes.NotFound {
				return nil, &apiError{http.StatusNotFound, fmt.Sprintf("service_request_id %q: no such request", id)}
			}
			return nil, err
		}
		c := resp.GetComplaint()
		out = append(out, toRequest(c, n, c.GetRegisteredBy() == me.GetUser().GetUsername()))
	}
	return out, nil
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	ctx, err := h.authorized(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	if ids := q.Get("service_request_id"); ids != "" {
		parts := strings.Split(ids, ",")
		if len(parts) > 100 {
			h.fail(w, r, badRequest("service_request_id: at most 100 ids"))
			return
		}
		out, err := h.byIDs(ctx, parts)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	req, err := h.filter(q.Get("start_date"), q.Get("end_date"), q.Get("status"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	req.CategoryCode = q.Get("service_code")
	n, err := h.names(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []serviceRequest{}
	for len(out) < maxRequests {
		resp, err := h.intake.SearchComplaints(ctx, req)
		if err != nil {
			h.fail(w, r, open311Fields(err))
			return
		}
		for _, c := range resp.GetComplaints() {
			if len(out) < maxRequests {
				out = append(out, toRequest(c, n, true))
			}
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// filter is the search of GET requests.json: the application's own
// requests, registered between start_date and end_date (ISO 8601; the
// last 90 days when absent; at most 90 days), open, closed or both.
func (h *Handler) filter(start, end, statuses string) (*helplinev1.SearchComplaintsRequest, error) {
	parse := func(name, s string) (time.Time, error) {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", time.DateOnly} {
			if t, err := time.ParseInLocation(layout, s, clock.IST); err == nil {
				return t.In(clock.IST), nil
			}
		}
		return time.Time{}, badRequest("%s must be an ISO 8601 date-time like 2026-11-01T00:00:00+05:30", name)
	}
	to := h.now().In(clock.IST)
	if end != "" {
		t, err := parse("end_date", end)
		if err != nil {
			return nil, err
		}
		to = t
	}
	from := to.AddDate(0, 0, -MaxDays)
	if start != "" {
		t, err := parse("start_date", start)
		if err != nil {
			return nil, err
		}
		from = t
	}
	if to.Before(from) {
		return nil, badRequest("end_date must not be before start_date")
	}
	// Whole IST days are searched: count the days, both ends included.
	fromDay := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, clock.IST)
	toDay := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, clock.IST)
	if days := int(toDay.Sub(fromDay).Hours()/24+0.5) + 1; days > MaxDays+1 {
		return nil, badRequest("start_date to end_date spans more than %d days", MaxDays)
	}
	req := &helplinev1.SearchComplaintsRequest{
		RegisteredByMe: true, PageSize: 100,
		FromDate: from.Format(time.DateOnly), ToDate: to.Format(time.DateOnly),
	}
	open, closed := statuses == "", statuses == ""
	for _, s := range strings.Split(statuses, ",") {
		switch strings.TrimSpace(strings.ToLower(s)) {
		case "":
		case "open":
			open = true
		case "closed":
			closed = true
		default:
			return nil, badRequest("status must be open, closed or both (open,closed)")
		}
	}
	switch {
	case open && !closed:
		req.StatusGroup = helplinev1.StatusGroup_STATUS_GROUP_OPEN
	case closed && !open:
		req.StatusGroup = helplinev1.StatusGroup_STATUS_GROUP_CLOSED
	}
	return req, nil
}
