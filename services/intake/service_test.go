package intake_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/docket"
	"github.com/helpline/helpline/internal/testenv"
)

var keySeq atomic.Int64

// newKey returns an idempotency key unique within the test binary.
func newKey(t *testing.T) string {
	return fmt.Sprintf("%s-%d", t.Name(), keySeq.Add(1))
}

// validRequest is a complaint that must be accepted: Hindi description,
// Theog block of Shimla district, potholes (routed to PWD), by phone.
func validRequest(t *testing.T) *helplinev1.RegisterComplaintRequest {
	return &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: newKey(t),
		Citizen:        &helplinev1.Citizen{Name: "राम कुमार", Phone: "98160 12345", Language: "hi"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG", Locality: "Theog bazaar"},
		CategoryCode:   "PWD_ROAD_POTHOLES",
		Description:    "सड़क पर बड़े गड्ढे हैं, गाड़ियाँ फँस रही हैं",
		Channel:        helplinev1.Channel_CHANNEL_PHONE,
	}
}

func register(t *testing.T, env *testenv.Env, req *helplinev1.RegisterComplaintRequest) *helplinev1.Complaint {
	t.Helper()
	resp, err := env.Intake.RegisterComplaint(env.Agent, req)
	if err != nil {
		t.Fatalf("RegisterComplaint: %v", err)
	}
	return resp.GetComplaint()
}

func get(t *testing.T, env *testenv.Env, dkt string) *helplinev1.Complaint {
	t.Helper()
	resp, err := env.Intake.GetComplaint(env.Agent, &helplinev1.GetComplaintRequest{Docket: dkt})
	if err != nil {
		t.Fatalf("GetComplaint(%s): %v", dkt, err)
	}
	return resp.GetComplaint()
}

// waitRouted waits until routing has moved the complaint out of REGISTERED.
func waitRouted(t *testing.T, env *testenv.Env, dkt string) *helplinev1.Complaint {
	t.Helper()
	var c *helplinev1.Complaint
	testenv.Eventually(t, 5*time.Second, "routing of "+dkt, func() bool {
		c = get(t, env, dkt)
		return c.GetStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_REGISTERED
	})
	return c
}

func count(t *testing.T, env *testenv.Env, q string, args ...any) int {
	t.Helper()
	var n int
	if err := env.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// wantCode fails unless err is a gRPC status with code and, when fields
// are given, a message that names every one of them.
func wantCode(t *testing.T, err error, code codes.Code, fields ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	st, ok := status.FromError(err)
	if !ok || st.Code() != code {
		t.Fatalf("got %v, want code %s", err, code)
	}
	for _, f := range fields {
		if !strings.Contains(st.Message(), f) {
			t.Fatalf("message %q does not name %q", st.Message(), f)
		}
	}
}

var docketRE = regexp.MustCompile(`^\d{2}-\d{7}-\d$`)

func TestRegisterHindiComplaintIsRoutedToPWD(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	c := register(t, env, validRequest(t))
	if !docketRE.MatchString(c.GetDocket()) {
		t.Fatalf("docket %q does not match %s", c.GetDocket(), docketRE)
	}
	if !docket.Valid(strings.ReplaceAll(c.GetDocket(), "-", "")) {
		t.Fatalf("docket %q has a wrong check digit", c.GetDocket())
	}
	if !strings.HasPrefix(c.GetDocket(), "26-") {
		t.Fatalf("docket %q does not start with the year of the fake clock (2026)", c.GetDocket())
	}
	if c.GetVersion() != 1 || c.GetStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_REGISTERED {
		t.Fatalf("got version %d status %s, want 1 REGISTERED", c.GetVersion(), c.GetStatus())
	}
	if c.GetCitizen().GetPhone() != "+919816012345" {
		t.Fatalf("phone = %q, want +919816012345", c.GetCitizen().GetPhone())
	}
	if c.GetDescription() != validRequest(t).GetDescription() || c.GetHelpline() != "1100" ||
		c.GetChannel() != helplinev1.Channel_CHANNEL_PHONE || c.GetCategoryCode() != "PWD_ROAD_POTHOLES" ||
		c.GetLocation().GetDistrictCode() != "SHIMLA" || c.GetLocation().GetBlockCode() != "THEOG" {
		t.Fatalf("registered complaint does not echo the request: %v", c)
	}

	got := get(t, env, c.GetDocket())
	if got.GetDocket() != c.GetDocket() || got.GetId() != c.GetId() {
		t.Fatalf("GetComplaint returned %s (id %d), want %s (id %d)", got.GetDocket(), got.GetId(), c.GetDocket(), c.GetId())
	}
	if h := got.GetHistory(); len(h) == 0 || h[0].GetAction() != "register" ||
		h[0].GetToStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_REGISTERED {
		t.Fatalf("history right after registration = %v, want it to start with register", h)
	}

	var routed *helplinev1.Complaint
	testenv.Eventually(t, 2*time.Second, "assignment of "+c.GetDocket(), func() bool {
		routed = get(t, env, c.GetDocket())
		return routed.GetStatus() == helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED
	})
	if routed.GetPost() != "PWD-SHIMLA-L1" || routed.GetAssignedOfficer() != "pwd-shimla-l1" ||
		routed.GetLevel() != 1 || routed.GetSlaDueAt() == nil || routed.GetDepartmentCode() != "PWD" {
		t.Fatalf("routed to post %q officer %q level %d department %q due %v; want PWD-SHIMLA-L1 pwd-shimla-l1 1 PWD with a deadline",
			routed.GetPost(), routed.GetAssignedOfficer(), routed.GetLevel(), routed.GetDepartmentCode(), routed.GetSlaDueAt())
	}
	if !routed.GetSlaDueAt().AsTime().After(testenv.Start) {
		t.Fatalf("sla_due_at %v is not after registration %v", routed.GetSlaDueAt().AsTime(), testenv.Start)
	}
	h := routed.GetHistory()
	if len(h) != 2 || h[0].GetAction() != "register" || h[1].GetAction() != "route" ||
		h[1].GetFromStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_REGISTERED ||
		h[1].GetToStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED {
		t.Fatalf("history = %v, want register then route (REGISTERED -> ASSIGNED)", h)
	}
	if routed.GetVersion() != 2 {
		t.Fatalf("version after routing = %d, want 2", routed.GetVersion())
	}
}

func TestRegisterNormalizesPhoneFormats(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	for _, phone := range []string{"9816012345", "098160 12345", "+91-98160-12345", "+91 98160-12345", "९८१६० १२३४५"} {
		req := validRequest(t)
		req.Citizen.Phone = phone
		if got := register(t, env, req).GetCitizen().GetPhone(); got != "+919816012345" {
			t.Errorf("phone %q stored as %q, want +919816012345", phone, got)
		}
	}
	if n := count(t, env, `SELECT count(*) FROM citizens WHERE phone = '+919816012345'`); n != 1 {
		t.Fatalf("%d citizens for one phone written five ways, want 1", n)
	}
}

func TestRegisterIsIdempotent(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := env.Agent

	t.Run("same key and content replays", func(t *testing.T) {
		t.Parallel()
		req := validRequest(t)
		first, err := env.Intake.RegisterComplaint(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if first.GetReplayed() {
			t.Fatal("first registration says replayed")
		}
		again, err := env.Intake.RegisterComplaint(ctx, proto.Clone(req).(*helplinev1.RegisterComplaintRequest))
		if err != nil {
			t.Fatal(err)
		}
		if !again.GetReplayed() || again.GetComplaint().GetDocket() != first.GetComplaint().GetDocket() {
			t.Fatalf("retry gave docket %s replayed=%v, want %s replayed=true",
				again.GetComplaint().GetDocket(), again.GetReplayed(), first.GetComplaint().GetDocket())
		}
		if n := count(t, env, `SELECT count(*) FROM complaints WHERE idem_key = $1`, req.GetIdempotencyKey()); n != 1 {
			t.Fatalf("%d complaints stored for key %s, want 1", n, req.GetIdempotencyKey())
		}
	})

	t.Run("same content written differently replays", func(t *testing.T) {
		t.Parallel()
		req := validRequest(t)
		first := register(t, env, req)
		// Another phone format, code case and NFD text: the same complaint.
		same := proto.Clone(req).(*helplinev1.RegisterComplaintRequest)
		same.Citizen.Phone = "+91 98160 12345"
		same.CategoryCode = "pwd_road_potholes"
		same.Description = norm.NFD.String(req.GetDescription())
		resp, err := env.Intake.RegisterComplaint(ctx, same)
		if err != nil {
			t.Fatalf("retry of the same complaint: %v", err)
		}
		if !resp.GetReplayed() || resp.GetComplaint().GetDocket() != first.GetDocket() {
			t.Fatalf("retry gave %s replayed=%v, want %s replayed=true", resp.GetComplaint().GetDocket(), resp.GetReplayed(), first.GetDocket())
		}
	})

	t.Run("same key other content is AlreadyExists", func(t *testing.T) {
		t.Parallel()
		req := validRequest(t)
		first := register(t, env, req)
		other := proto.Clone(req).(*helplinev1.RegisterComplaintRequest)
		other.Description = "कोई और शिकायत"
		_, err := env.Intake.RegisterComplaint(ctx, other)
		wantCode(t, err, codes.AlreadyExists)
		if n := count(t, env, `SELECT count(*) FROM complaints WHERE idem_key = $1`, req.GetIdempotencyKey()); n != 1 {
			t.Fatalf("%d complaints stored for key, want 1", n)
		}
		if d := get(t, env, first.GetDocket()).GetDescription(); d != req.GetDescription() {
			t.Fatalf("description changed to %q", d)
		}
	})

	t.Run("concurrent retries register once", func(t *testing.T) {
		t.Parallel()
		req := validRequest(t)
		const n = 10
		var wg sync.WaitGroup
		resps := make([]*helplinev1.RegisterComplaintResponse, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resps[i], errs[i] = env.Intake.RegisterComplaint(ctx, proto.Clone(req).(*helplinev1.RegisterComplaintRequest))
			}()
		}
		close(start)
		wg.Wait()
		fresh := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("call %d: %v", i, errs[i])
			}
			if resps[i].GetComplaint().GetDocket() != resps[0].GetComplaint().GetDocket() {
				t.Fatalf("call %d got docket %s, call 0 got %s", i, resps[i].GetComplaint().GetDocket(), resps[0].GetComplaint().GetDocket())
			}
			if !resps[i].GetReplayed() {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("%d calls say they registered the complaint (replayed=false), want exactly 1", fresh)
		}
		if c := count(t, env, `SELECT count(*) FROM complaints WHERE idem_key = $1`, req.GetIdempotencyKey()); c != 1 {
			t.Fatalf("%d complaints stored for key, want 1", c)
		}
		if c := count(t, env, `SELECT count(*) FROM complaint_history h JOIN complaints c ON c.id = h.complaint_id
			WHERE c.idem_key = $1 AND h.action = 'register'`, req.GetIdempotencyKey()); c != 1 {
			t.Fatalf("%d register history entries, want 1", c)
		}
	})
}

// rawCodec sends pre-encoded bytes, so that a request can carry what
// protobuf-go refuses to marshal (invalid UTF-8).
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	return proto.Unmarshal(data, v.(proto.Message))
}
func (rawCodec) Name() string { return "proto" }

func TestRegisterRefusesBadInput(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := env.Agent
	tables := []string{"complaints", "citizens", "outbox", "complaint_history"}
	before := map[string]int{}
	for _, tbl := range tables {
		before[tbl] = count(t, env, `SELECT count(*) FROM `+tbl)
	}
	nothingStored := func(t *testing.T) {
		t.Helper()
		for _, tbl := range tables {
			if n := count(t, env, `SELECT count(*) FROM `+tbl); n != before[tbl] {
				t.Fatalf("%s holds %d rows after a refused request, want %d", tbl, n, before[tbl])
			}
		}
	}

	cases := []struct {
		name   string
		field  string
		mutate func(r *helplinev1.RegisterComplaintRequest)
	}{
		{"unknown category", "category_code", func(r *helplinev1.RegisterComplaintRequest) { r.CategoryCode = "NO_SUCH_CATEGORY" }},
		{"short phone", "citizen.phone", func(r *helplinev1.RegisterComplaintRequest) { r.Citizen.Phone = "12345" }},
		{"letters for phone", "citizen.phone", func(r *helplinev1.RegisterComplaintRequest) { r.Citizen.Phone = "abc" }},
		{"missing phone", "citizen.phone", func(r *helplinev1.RegisterComplaintRequest) { r.Citizen.Phone = "" }},
		{"6000-character description", "description", func(r *helplinev1.RegisterComplaintRequest) {
			r.Description = strings.Repeat("a", 6000)
		}},
		{"4001 Devanagari characters", "description", func(r *helplinev1.RegisterComplaintRequest) {
			r.Description = strings.Repeat("क", 4001)
		}},
		{"empty description", "description", func(r *helplinev1.RegisterComplaintRequest) { r.Description = " \n\t " }},
		{"right-to-left override in description", "description", func(r *helplinev1.RegisterComplaintRequest) {
			r.Description = "पानी \u202Eनहीं आ रहा"
		}},
		{"left-to-right isolate in name", "citizen.name", func(r *helplinev1.RegisterComplaintRequest) {
			r.Citizen.Name = "राम\u2066 कुमार"
		}},
		{"NUL in name", "citizen.name", func(r *helplinev1.RegisterComplaintRequest) { r.Citizen.Name = "Ram\x00Kumar" }},
		{"newline in name", "citizen.name", func(r *helplinev1.RegisterComplaintRequest) { r.Citizen.Name = "Ram\nKumar" }},
		{"escape in description", "description", func(r *helplinev1.RegisterComplaintRequest) {
			r.Description = "road \x1b[31mbroken"
		}},
		{"byte order mark in description", "description", func(r *helplinev1.RegisterComplaintRequest) {
			r.Description = "road\uFEFF broken"
		}},
		{"missing idempotency key", "idempotency_key", func(r *helplinev1.RegisterComplaintRequest) { r.IdempotencyKey = "" }},
		{"unknown district", "location.district_code", func(r *helplinev1.RegisterComplaintRequest) {
			r.Location.DistrictCode = "ATLANTIS"
			r.Location.BlockCode = ""
		}},
		{"missing district", "location.district_code", func(r *helplinev1.RegisterComplaintRequest) { r.Location = nil }},
		{"block not in district", "location.block_code", func(r *helplinev1.RegisterComplaintRequest) { r.Location.DistrictCode = "KANGRA" }},
		{"unknown block", "location.block_code", func(r *helplinev1.RegisterComplaintRequest) { r.Location.BlockCode = "NOWHERE" }},
		{"ward without block", "location.block_code", func(r *helplinev1.RegisterComplaintRequest) {
			r.Location.BlockCode = ""
			r.Location.WardCode = "SHIMLA_MC_W01"
		}},
		{"ward not in block", "location.ward_code", func(r *helplinev1.RegisterComplaintRequest) { r.Location.WardCode = "SHIMLA_MC_W01" }},
		{"unknown helpline", "helpline", func(r *helplinev1.RegisterComplaintRequest) { r.Helpline = "9999" }},
		{"channel unspecified", "channel", func(r *helplinev1.RegisterComplaintRequest) {
			r.Channel = helplinev1.Channel_CHANNEL_UNSPECIFIED
		}},
		{"unknown channel number", "channel", func(r *helplinev1.RegisterComplaintRequest) { r.Channel = helplinev1.Channel(99) }},
		{"bad language tag", "citizen.language", func(r *helplinev1.RegisterComplaintRequest) { r.Citizen.Language = "hindi language" }},
		{"SQL-ish category", "category_code", func(r *helplinev1.RegisterComplaintRequest) { r.CategoryCode = "X' OR '1'='1" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := validRequest(t)
			tc.mutate(req)
			_, err := env.Intake.RegisterComplaint(ctx, req)
			wantCode(t, err, codes.InvalidArgument, tc.field)
			nothingStored(t)
		})
	}

	// protobuf-go will not marshal invalid UTF-8 into a proto3 string, so
	// the bytes are put on the wire by hand: a valid request whose
	// description (field 5) is then overridden with "\xff\xfe".
	t.Run("invalid UTF-8 in description", func(t *testing.T) {
		// The server's codec turns gRPC's INTERNAL unmarshal error into
		// INVALID_ARGUMENT naming the field.
		t.Parallel()
		req := validRequest(t)
		req.Description = ""
		b, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendString(b, "पानी \xff\xfe")
		var resp helplinev1.RegisterComplaintResponse
		err = env.Conn.Invoke(ctx, helplinev1.IntakeService_RegisterComplaint_FullMethodName, b, &resp,
			grpc.ForceCodec(rawCodec{}))
		if err == nil {
			t.Fatalf("invalid UTF-8 accepted: %v", resp.GetComplaint())
		}
		wantCode(t, err, codes.InvalidArgument, "description")
		nothingStored(t)
	})
}

func TestRegisterAcceptsText(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	vietnamese := "Đường bị ngập nước, xe không đi được"
	cases := []struct {
		name, description, want string
	}{
		{"newlines and tab", "line one\nline two\n\tindented", "line one\nline two\n\tindented"},
		{"Persian with RLM", "آب\u200Fقطع است", "آب\u200Fقطع است"},
		{"Devanagari with ZWJ and ZWNJ", "क्\u200Dष और क्\u200Cष", "क्\u200Dष और क्\u200Cष"},
		{"Vietnamese in NFD comes back NFC", norm.NFD.String(vietnamese), norm.NFC.String(vietnamese)},
		{"surrounding space trimmed", "  \n सड़क टूटी है \t ", "सड़क टूटी है"},
		{"exactly 4000 Devanagari characters", strings.Repeat("क", 4000), strings.Repeat("क", 4000)},
		// 4000 code points after NFC, 12000 before: the limit counts after NFC.
		{"4000 NFC characters given in NFD", norm.NFD.String(strings.Repeat("ệ", 4000)), strings.Repeat("ệ", 4000)},
	}
	if vietnamese == norm.NFD.String(vietnamese) {
		t.Fatal("test text has no decomposable characters")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := validRequest(t)
			req.Description = tc.description
			c := register(t, env, req)
			if c.GetDescription() != tc.want {
				t.Fatalf("registered description = %q, want %q", c.GetDescription(), tc.want)
			}
			if got := get(t, env, c.GetDocket()).GetDescription(); got != tc.want {
				t.Fatalf("stored description = %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("name in NFD comes back NFC", func(t *testing.T) {
		t.Parallel()
		req := validRequest(t)
		req.Citizen.Name = norm.NFD.String("Nguyễn Thị Hồng")
		req.Citizen.Phone = "94180 11111"
		if got := register(t, env, req).GetCitizen().GetName(); got != norm.NFC.String("Nguyễn Thị Hồng") || !norm.NFC.IsNormalString(got) {
			t.Fatalf("name = %q, want NFC %q", got, norm.NFC.String("Nguyễn Thị Hồng"))
		}
	})
}

func dockets(cs []*helplinev1.Complaint) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.GetDocket())
	}
	return out
}

func TestSearchComplaints(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := env.Agent

	water := validRequest(t)
	water.Description = "पानी की आपूर्ति बंद है"
	pothole := validRequest(t)
	pothole.Description = "Large pothole near the bus stand, 50% of the road is gone"
	other := validRequest(t)
	other.Citizen.Phone = "94180 55555"
	other.CategoryCode = "GENERAL_OTHER" // no routing rule: ends UNROUTED
	other.Description = "गाँव में बिजली का खंभा गिरा हुआ है"
	other.Location.Address = "near Café Sol"
	a := register(t, env, water)
	b := register(t, env, pothole)
	c := register(t, env, other)
	for _, x := range []*helplinev1.Complaint{a, b, c} {
		waitRouted(t, env, x.GetDocket())
	}
	if s := get(t, env, c.GetDocket()).GetStatus(); s != helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNROUTED {
		t.Fatalf("GENERAL_OTHER complaint is %s, want UNROUTED", s)
	}

	search := func(t *testing.T, req *helplinev1.SearchComplaintsRequest) []string {
		t.Helper()
		resp, err := env.Intake.SearchComplaints(ctx, req)
		if err != nil {
			t.Fatalf("SearchComplaints(%v): %v", req, err)
		}
		return dockets(resp.GetComplaints())
	}
	same := func(t *testing.T, got []string, want ...string) {
		t.Helper()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("found %v, want %v (newest first)", got, want)
		}
	}

	t.Run("Hindi text", func(t *testing.T) {
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Text: "आपूर्ति"}), a.GetDocket())
	})
	t.Run("address text given in NFD", func(t *testing.T) {
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Text: norm.NFD.String("Café")}), c.GetDocket())
	})
	t.Run("English text ignores case", func(t *testing.T) {
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Text: "POTHOLE"}), b.GetDocket())
	})
	t.Run("LIKE wildcards are literal", func(t *testing.T) {
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Text: "50%"}), b.GetDocket())
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Text: "%%"}))
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Text: "__"}))
	})
	t.Run("locality matches", func(t *testing.T) {
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Text: "theog BAZAAR"}), c.GetDocket(), b.GetDocket(), a.GetDocket())
	})
	t.Run("phone in another format", func(t *testing.T) {
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Phone: "+91 98160 12345"}), b.GetDocket(), a.GetDocket())
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Phone: "09418055555"}), c.GetDocket())
	})
	t.Run("docket with spaces", func(t *testing.T) {
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Docket: strings.ReplaceAll(b.GetDocket(), "-", " ")}), b.GetDocket())
	})
	t.Run("status", func(t *testing.T) {
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Status: helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNROUTED}), c.GetDocket())
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Status: helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED}), b.GetDocket(), a.GetDocket())
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Status: helplinev1.ComplaintStatus_COMPLAINT_STATUS_CLOSED}))
	})
	t.Run("all filters must match", func(t *testing.T) {
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Text: "आपूर्ति", Status: helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNROUTED}))
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Phone: "98160 12345", Docket: c.GetDocket()}))
		same(t, search(t, &helplinev1.SearchComplaintsRequest{Phone: "98160 12345", Text: "pothole"}), b.GetDocket())
	})
	t.Run("paging walks every result once", func(t *testing.T) {
		var seen []string
		token := ""
		for page := 0; ; page++ {
			if page > 5 {
				t.Fatalf("more pages than results: %v", seen)
			}
			resp, err := env.Intake.SearchComplaints(ctx, &helplinev1.SearchComplaintsRequest{Text: "bazaar", PageSize: 1, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.GetComplaints()) != 1 {
				t.Fatalf("page %d has %d complaints, want 1", page, len(resp.GetComplaints()))
			}
			seen = append(seen, resp.GetComplaints()[0].GetDocket())
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		same(t, seen, c.GetDocket(), b.GetDocket(), a.GetDocket())
	})
	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			req   *helplinev1.SearchComplaintsRequest
			field string
		}{
			{"no filter", &helplinev1.SearchComplaintsRequest{}, ""},
			{"bad phone", &helplinev1.SearchComplaintsRequest{Phone: "12345"}, "phone"},
			{"bad docket", &helplinev1.SearchComplaintsRequest{Docket: "26-0000001"}, "docket"},
			{"bad page token", &helplinev1.SearchComplaintsRequest{Text: "bazaar", PageToken: "not-a-token"}, "page_token"},
			{"page size too big", &helplinev1.SearchComplaintsRequest{Text: "bazaar", PageSize: 1000}, "page_size"},
			{"bidi override in text", &helplinev1.SearchComplaintsRequest{Text: "पानी\u202E"}, "text"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := env.Intake.SearchComplaints(ctx, tc.req)
				if tc.field == "" {
					wantCode(t, err, codes.InvalidArgument)
				} else {
					wantCode(t, err, codes.InvalidArgument, tc.field)
				}
			})
		}
	})
}

func TestGetComplaintByDocket(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := env.Agent
	c := register(t, env, validRequest(t))
	d := c.GetDocket()

	t.Run("spaces instead of dashes", func(t *testing.T) {
		if got := get(t, env, " "+strings.ReplaceAll(d, "-", " ")+" ").GetDocket(); got != d {
			t.Fatalf("got %s, want %s", got, d)
		}
	})
	t.Run("wrong check digit", func(t *testing.T) {
		bad := d[:len(d)-1] + string('0'+(d[len(d)-1]-'0'+1)%10)
		_, err := env.Intake.GetComplaint(ctx, &helplinev1.GetComplaintRequest{Docket: bad})
		wantCode(t, err, codes.InvalidArgument, "docket")
	})
	t.Run("misheard digit", func(t *testing.T) {
		// Change one sequence digit, keep the check digit: Verhoeff catches it.
		b := []byte(d)
		b[9] = '0' + (b[9]-'0'+3)%10
		_, err := env.Intake.GetComplaint(ctx, &helplinev1.GetComplaintRequest{Docket: string(b)})
		wantCode(t, err, codes.InvalidArgument, "docket")
	})
	t.Run("malformed", func(t *testing.T) {
		for _, bad := range []string{"", "26-000001-5", "hello", "26-0000001-5x"} {
			_, err := env.Intake.GetComplaint(ctx, &helplinev1.GetComplaintRequest{Docket: bad})
			wantCode(t, err, codes.InvalidArgument, "docket")
		}
	})
	t.Run("well formed but unknown", func(t *testing.T) {
		unknown, err := docket.Format(2026, 9999999)
		if err != nil {
			t.Fatal(err)
		}
		_, err = env.Intake.GetComplaint(ctx, &helplinev1.GetComplaintRequest{Docket: unknown})
		wantCode(t, err, codes.NotFound)
	})
}

func TestAddFollowUp(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := env.Agent
	c := waitRouted(t, env, register(t, env, validRequest(t)).GetDocket())
	d := c.GetDocket()
	v0, hist0 := c.GetVersion(), len(c.GetHistory())

	const note = "नागरिक ने दोबारा फ़ोन किया\nstill not fixed"
	resp, err := env.Intake.AddFollowUp(ctx, &helplinev1.AddFollowUpRequest{Docket: d, Note: note, ExpectedVersion: v0})
	if err != nil {
		t.Fatalf("AddFollowUp: %v", err)
	}
	if got := resp.GetComplaint(); got.GetFollowUpCount() != 1 || got.GetVersion() != v0+1 || got.GetStatus() != c.GetStatus() {
		t.Fatalf("after follow-up: count %d version %d status %s, want 1, %d, %s",
			got.GetFollowUpCount(), got.GetVersion(), got.GetStatus(), v0+1, c.GetStatus())
	}
	after := get(t, env, d)
	h := after.GetHistory()
	if len(h) != hist0+1 {
		t.Fatalf("history has %d entries, want %d", len(h), hist0+1)
	}
	if last := h[len(h)-1]; last.GetAction() != "follow_up" || last.GetNote() != note ||
		last.GetFromStatus() != c.GetStatus() || last.GetToStatus() != c.GetStatus() {
		t.Fatalf("last history entry = %v, want follow_up with note %q keeping status %s", last, note, c.GetStatus())
	}
	if after.GetFollowUpCount() != 1 || after.GetVersion() != v0+1 {
		t.Fatalf("stored: count %d version %d, want 1 and %d", after.GetFollowUpCount(), after.GetVersion(), v0+1)
	}

	// A second follow-up without expected_version is not checked.
	resp, err = env.Intake.AddFollowUp(ctx, &helplinev1.AddFollowUpRequest{Docket: strings.ReplaceAll(d, "-", " "), Note: "called again"})
	if err != nil {
		t.Fatalf("AddFollowUp without expected_version: %v", err)
	}
	if got := resp.GetComplaint(); got.GetFollowUpCount() != 2 || got.GetVersion() != v0+2 {
		t.Fatalf("after second follow-up: count %d version %d, want 2 and %d", got.GetFollowUpCount(), got.GetVersion(), v0+2)
	}

	outboxBefore := count(t, env, `SELECT count(*) FROM outbox`)
	_, err = env.Intake.AddFollowUp(ctx, &helplinev1.AddFollowUpRequest{Docket: d, Note: "stale", ExpectedVersion: v0 + 1})
	wantCode(t, err, codes.FailedPrecondition)
	stale := get(t, env, d)
	if stale.GetFollowUpCount() != 2 || stale.GetVersion() != v0+2 || len(stale.GetHistory()) != hist0+2 {
		t.Fatalf("stale follow-up changed the complaint: count %d version %d history %d, want 2, %d, %d",
			stale.GetFollowUpCount(), stale.GetVersion(), len(stale.GetHistory()), v0+2, hist0+2)
	}
	if n := count(t, env, `SELECT count(*) FROM outbox`); n != outboxBefore {
		t.Fatalf("stale follow-up wrote %d outbox rows", n-outboxBefore)
	}

	t.Run("refusals", func(t *testing.T) {
		unknown, _ := docket.Format(2026, 9999999)
		_, err := env.Intake.AddFollowUp(ctx, &helplinev1.AddFollowUpRequest{Docket: unknown, Note: "x"})
		wantCode(t, err, codes.NotFound)
		_, err = env.Intake.AddFollowUp(ctx, &helplinev1.AddFollowUpRequest{Docket: d, Note: "bad \u202E note"})
		wantCode(t, err, codes.InvalidArgument, "note")
		_, err = env.Intake.AddFollowUp(ctx, &helplinev1.AddFollowUpRequest{Docket: d, Note: strings.Repeat("n", 4001)})
		wantCode(t, err, codes.InvalidArgument, "note")
		_, err = env.Intake.AddFollowUp(ctx, &helplinev1.AddFollowUpRequest{Docket: d})
		wantCode(t, err, codes.InvalidArgument, "note")
		_, err = env.Intake.AddFollowUp(ctx, &helplinev1.AddFollowUpRequest{Docket: d, Note: " \n\t "})
		wantCode(t, err, codes.InvalidArgument, "note")
		_, err = env.Intake.AddFollowUp(ctx, &helplinev1.AddFollowUpRequest{Docket: d, Note: "x", ExpectedVersion: -1})
		wantCode(t, err, codes.InvalidArgument, "expected_version")
		if got := get(t, env, d); got.GetFollowUpCount() != 2 || got.GetVersion() != v0+2 {
			t.Fatalf("refused follow-ups changed the complaint: count %d version %d", got.GetFollowUpCount(), got.GetVersion())
		}
	})
}

// TestSearchSupervisorQueues: special closures awaiting a decision, and
// open complaints that were escalated.
func TestSearchSupervisorQueues(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	sup := env.As("supervisor")
	officer := env.As("pwd-shimla-l1")
	a := waitRouted(t, env, register(t, env, validRequest(t)).GetDocket())
	b := waitRouted(t, env, register(t, env, validRequest(t)).GetDocket())
	waitRouted(t, env, register(t, env, validRequest(t)).GetDocket())

	if _, err := env.Resolution.ProposeSpecialClosure(officer, &helplinev1.ProposeSpecialClosureRequest{
		Docket: a.GetDocket(), Reason: helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_POLICY_MATTER, Note: "policy",
	}); err != nil {
		t.Fatal(err)
	}
	resp, err := env.Intake.SearchComplaints(sup, &helplinev1.SearchComplaintsRequest{SpecialClosurePending: true})
	if err != nil || !slices.Equal(dockets(resp.GetComplaints()), []string{a.GetDocket()}) {
		t.Fatalf("special closures pending: %v %v", dockets(resp.GetComplaints()), err)
	}

	// Past their deadline (the same for all three) the escalation job moves each one level up.
	env.Clock.Set(b.GetSlaDueAt().AsTime().Add(time.Second))
	testenv.Eventually(t, 10*time.Second, "escalated", func() bool {
		return get(t, env, b.GetDocket()).GetLevel() == 2
	})
	resp, err = env.Intake.SearchComplaints(sup, &helplinev1.SearchComplaintsRequest{Escalated: true})
	if err != nil || len(resp.GetComplaints()) != 3 {
		t.Fatalf("escalated: %v %v", dockets(resp.GetComplaints()), err)
	}
	if _, err := env.Intake.SearchComplaints(sup, &helplinev1.SearchComplaintsRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("no filter: %v", err)
	}
}

// TestRegistrationNeverRenamesTheCitizen: a second registration with the
// same phone but another name and language keeps both on its own
// complaint and changes neither the first complaint nor the citizen.
func TestRegistrationNeverRenamesTheCitizen(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	first := validRequest(t)
	first.Citizen.Phone = "98160 77777"
	a := register(t, env, first)
	second := validRequest(t)
	second.Citizen = &helplinev1.Citizen{Name: "Someone Else", Phone: "98160 77777", Language: "en"}
	b := register(t, env, second)
	if got := get(t, env, a.GetDocket()).GetCitizen(); got.GetName() != "राम कुमार" || got.GetLanguage() != "hi" {
		t.Errorf("first complaint's citizen = %v after a second registration, want राम कुमार, hi", got)
	}
	if got := get(t, env, b.GetDocket()).GetCitizen(); got.GetName() != "Someone Else" || got.GetLanguage() != "en" {
		t.Errorf("second complaint's citizen = %v, want the name and language given with it", got)
	}
	var name, lang string
	if err := env.Pool.QueryRow(env.Admin, `SELECT name, language FROM citizens WHERE phone = $1`, a.GetCitizen().GetPhone()).Scan(&name, &lang); err != nil {
		t.Fatal(err)
	}
	if name != "राम कुमार" || lang != "hi" {
		t.Errorf("citizen record = %s, %s, want the first registration's", name, lang)
	}
}
