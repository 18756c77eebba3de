package notification_test

// Tests of notifications through the whole server: events become one row
// per event and recipient in the citizen's language, the dispatcher
// delivers them through the configured sender with retries, a redelivered
// event notifies nobody twice, and a gateway's refusal or absence is
// handled as permanent or retried.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/natsbus"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/services/notification"
)

const (
	agent    = "agent1"
	holderL1 = "pwd-shimla-l1"
	holderL2 = "pwd-shimla-l2"
)

var keys atomic.Int64

type citizen struct{ name, phone, e164, lang string }

var (
	hindi   = citizen{"Kamla Devi", "94180 55555", "+919418055555", "hi"}
	english = citizen{"Rohit Sharma", "98160 12345", "+919816012345", "en"}
	third   = citizen{"Anjali Thakur", "70180 22222", "+917018022222", "hi-IN"}
)

// register registers a potholes complaint in Shimla / Theog for c and
// waits until it is routed to PWD-SHIMLA-L1.
func register(t *testing.T, env *testenv.Env, c citizen) string {
	t.Helper()
	resp, err := env.Intake.RegisterComplaint(env.As(agent), &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: fmt.Sprintf("ntf-%s-%d", t.Name(), keys.Add(1)),
		Citizen:        &helplinev1.Citizen{Name: c.name, Phone: c.phone, Language: c.lang},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG"},
		CategoryCode:   "PWD_ROAD_POTHOLES",
		Description:    "सड़क पर गड्ढे / potholes on the road",
		Channel:        helplinev1.Channel_CHANNEL_PHONE,
		Helpline:       "1100",
	})
	if err != nil {
		t.Fatalf("RegisterComplaint: %v", err)
	}
	d := resp.GetComplaint().GetDocket()
	testenv.Eventually(t, 10*time.Second, "routing of "+d, func() bool {
		g, err := env.Intake.GetComplaint(env.As(agent), &helplinev1.GetComplaintRequest{Docket: d})
		if err != nil {
			t.Fatal(err)
		}
		return g.GetComplaint().GetStatus() == helplinev1.ComplaintStatus_COMPLAINT_STATUS_ASSIGNED
	})
	return d
}

func resolve(t *testing.T, env *testenv.Env, officer, d, atr string) {
	t.Helper()
	if _, err := env.Resolution.AcknowledgeComplaint(env.As(officer), &helplinev1.AcknowledgeComplaintRequest{Docket: d}); err != nil {
		t.Fatalf("acknowledge %s as %s: %v", d, officer, err)
	}
	if _, err := env.Resolution.ResolveComplaint(env.As(officer), &helplinev1.ResolveComplaintRequest{Docket: d, ActionTakenReport: atr}); err != nil {
		t.Fatalf("resolve %s as %s: %v", d, officer, err)
	}
}

func feedback(t *testing.T, env *testenv.Env, req *helplinev1.RecordFeedbackRequest) *helplinev1.Complaint {
	t.Helper()
	resp, err := helplinev1.NewSatisfactionServiceClient(env.Conn).RecordFeedback(env.As(agent), req)
	if err != nil {
		t.Fatalf("RecordFeedback: %v", err)
	}
	return resp.GetComplaint()
}

type row struct {
	Key, EventID, Kind, Recipient, Language, Body, Status, LastError string
	Attempts                                                         int
	SentAt                                                           *time.Time
}

// rows lists the notifications of a complaint (all when docket is empty), oldest first.
func rows(t *testing.T, env *testenv.Env, d string) []row {
	t.Helper()
	rs, err := env.Pool.Query(context.Background(), `
		SELECT n.idempotency_key, n.event_id::text, n.kind, n.recipient, n.language, n.body, n.status, n.last_error, n.attempts, n.sent_at
		FROM notifications n JOIN complaints c ON c.id = n.complaint_id
		WHERE $1 = '' OR c.docket = $1 ORDER BY n.id`, d)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.Key, &r.EventID, &r.Kind, &r.Recipient, &r.Language, &r.Body, &r.Status, &r.LastError, &r.Attempts, &r.SentAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// summary renders rows as sorted "kind recipient" lines.
func summary(rs []row) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Kind+" "+r.Recipient)
	}
	slices.Sort(out)
	return out
}

// waitRows waits until the complaint's notifications are exactly want
// ("kind recipient", any order) and every one is SENT.
func waitRows(t *testing.T, env *testenv.Env, d string, want ...string) []row {
	t.Helper()
	slices.Sort(want)
	var got []row
	testenv.Eventually(t, 10*time.Second, fmt.Sprintf("notifications of %s: %q, all SENT", d, want), func() bool {
		got = rows(t, env, d)
		if !slices.Equal(summary(got), want) {
			return false
		}
		for _, r := range got {
			if r.Status != "SENT" {
				return false
			}
		}
		return true
	})
	for _, r := range got {
		if r.Attempts != 1 || r.SentAt == nil || r.LastError != "" {
			t.Errorf("%s to %s: attempts %d sent_at %v last_error %q, want one clean attempt", r.Kind, r.Recipient, r.Attempts, r.SentAt, r.LastError)
		}
		if r.Key != r.EventID+"/"+r.Recipient {
			t.Errorf("idempotency key %q, want event id / recipient", r.Key)
		}
	}
	return got
}

func only(t *testing.T, rs []row, kind, recipient string) []row {
	t.Helper()
	var out []row
	for _, r := range rs {
		if r.Kind == kind && r.Recipient == recipient {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s notification to %s", kind, recipient)
	}
	return out
}

func hasDevanagari(s string) bool {
	for _, r := range s {
		if r >= 0x0900 && r <= 0x097F {
			return true
		}
	}
	return false
}

// TestNotificationsInTheCitizensLanguage uses the default log sender: the
// notifications table is the record.
func TestNotificationsInTheCitizensLanguage(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	hiDocket := register(t, env, hindi)
	enDocket := register(t, env, english)

	hiPhone, enPhone := "phone:"+hindi.e164, "phone:"+english.e164
	hi := waitRows(t, env, hiDocket, "registered "+hiPhone, "assigned user:"+holderL1)
	reg := only(t, hi, "registered", hiPhone)[0]
	if reg.Language != "hi" || !strings.Contains(reg.Body, "डॉकेट") || !strings.Contains(reg.Body, hiDocket) || !strings.Contains(reg.Body, "1100") {
		t.Errorf("Hindi registration notification (%s): %q, want Hindi with the docket %s and line 1100", reg.Language, reg.Body, hiDocket)
	}
	asg := only(t, hi, "assigned", "user:"+holderL1)[0]
	if !strings.Contains(asg.Body, hiDocket) || !strings.Contains(asg.Body, "PWD-SHIMLA-L1") || !strings.Contains(asg.Body, "10-11-2026") {
		t.Errorf("officer notification %q, want the docket, the post and the due date 10-11-2026", asg.Body)
	}

	en := waitRows(t, env, enDocket, "registered "+enPhone, "assigned user:"+holderL1)
	reg = only(t, en, "registered", enPhone)[0]
	if reg.Language != "en" || !strings.Contains(reg.Body, "Docket "+enDocket) || hasDevanagari(reg.Body) {
		t.Errorf("English registration notification (%s): %q, want English with Docket %s", reg.Language, reg.Body, enDocket)
	}

	// Hindi: resolved, not satisfied (reopened to the L2 officer), resolved, satisfied (closed).
	resolve(t, env, holderL1, hiDocket, "गड्ढे भर दिए गए")
	waitRows(t, env, hiDocket, "registered "+hiPhone, "assigned user:"+holderL1, "resolved "+hiPhone)
	feedback(t, env, &helplinev1.RecordFeedbackRequest{Docket: hiDocket, Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_REACHED})
	hi = waitRows(t, env, hiDocket, "registered "+hiPhone, "assigned user:"+holderL1, "resolved "+hiPhone, "reopened user:"+holderL2)
	if r := only(t, hi, "resolved", hiPhone)[0]; !strings.Contains(r.Body, "गड्ढे भर दिए गए") || !strings.Contains(r.Body, "समाधान") {
		t.Errorf("Hindi resolution notification %q, want Hindi with the action-taken report", r.Body)
	}
	if r := only(t, hi, "reopened", "user:"+holderL2)[0]; !strings.Contains(r.Body, "PWD-SHIMLA-L2") || !strings.Contains(r.Body, hiDocket) {
		t.Errorf("reopen notification %q, want the L2 post and the docket", r.Body)
	}
	resolve(t, env, holderL2, hiDocket, "सड़क दोबारा बनाई गई")
	feedback(t, env, &helplinev1.RecordFeedbackRequest{Docket: hiDocket, Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_REACHED, Satisfied: true, Rating: 5})
	hi = waitRows(t, env, hiDocket, "registered "+hiPhone, "assigned user:"+holderL1, "resolved "+hiPhone,
		"reopened user:"+holderL2, "resolved "+hiPhone, "closed "+hiPhone)
	if r := only(t, hi, "closed", hiPhone)[0]; !strings.Contains(r.Body, "आपकी संतुष्टि के साथ") || !strings.Contains(r.Body, hiDocket) {
		t.Errorf("Hindi closure notification %q, want 'closed with your satisfaction' in Hindi", r.Body)
	}

	// English: resolved, then three failed calls: the job closes it as no-response.
	resolve(t, env, holderL1, enDocket, "potholes filled")
	for range 3 {
		feedback(t, env, &helplinev1.RecordFeedbackRequest{Docket: enDocket, Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_NOT_REACHABLE})
	}
	en = waitRows(t, env, enDocket, "registered "+enPhone, "assigned user:"+holderL1, "resolved "+enPhone, "closed "+enPhone)
	if r := only(t, en, "resolved", enPhone)[0]; !strings.Contains(r.Body, "was resolved: potholes filled") {
		t.Errorf("English resolution notification %q", r.Body)
	}
	if r := only(t, en, "closed", enPhone)[0]; !strings.Contains(r.Body, "closed as we could not reach you") {
		t.Errorf("English no-response closure notification %q", r.Body)
	}
}

// gateway is a fake SMS gateway.
type gateway struct {
	t  *testing.T
	mu sync.Mutex
	// answer decides the status code of the n-th attempt (1-based) of a message.
	answer   func(m notification.Message, attempt int) int
	attempts map[string]int
	accepted map[string]int
	messages map[string]notification.Message
	posts    int
}

func newGateway(t *testing.T, answer func(notification.Message, int) int) (*gateway, *httptest.Server) {
	g := &gateway{t: t, answer: answer, attempts: map[string]int{}, accepted: map[string]int{}, messages: map[string]notification.Message{}}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m notification.Message
	var raw map[string]any
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(&raw)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.posts++
	key := r.Header.Get("Idempotency-Key")
	switch {
	case err != nil:
		g.t.Errorf("gateway: undecodable body: %v", err)
	case r.Method != http.MethodPost:
		g.t.Errorf("gateway: method %s", r.Method)
	case r.Header.Get("Authorization") != "Bearer tok":
		g.t.Errorf("gateway: Authorization %q", r.Header.Get("Authorization"))
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		g.t.Errorf("gateway: Content-Type %q", r.Header.Get("Content-Type"))
	case key == "":
		g.t.Errorf("gateway: no Idempotency-Key")
	}
	for _, f := range []string{"idempotency_key", "recipient", "language", "kind", "docket", "body"} {
		if s, _ := raw[f].(string); s == "" {
			g.t.Errorf("gateway: body field %q missing or empty in %v", f, raw)
		}
	}
	b, _ := json.Marshal(raw)
	_ = json.Unmarshal(b, &m)
	if m.IdempotencyKey != key {
		g.t.Errorf("gateway: body idempotency_key %q, header %q", m.IdempotencyKey, key)
	}
	g.attempts[key]++
	code := g.answer(m, g.attempts[key])
	if code/100 == 2 {
		g.accepted[key]++
		g.messages[key] = m
	}
	w.WriteHeader(code)
}

func (g *gateway) snapshot() (attempts, accepted map[string]int, messages map[string]notification.Message, posts int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	attempts, accepted, messages = map[string]int{}, map[string]int{}, map[string]notification.Message{}
	for k, v := range g.attempts {
		attempts[k] = v
	}
	for k, v := range g.accepted {
		accepted[k] = v
	}
	for k, v := range g.messages {
		messages[k] = v
	}
	return attempts, accepted, messages, g.posts
}

func withSender(s notification.Sender) func(*server.Config) {
	return func(c *server.Config) { c.Sender = s }
}

// TestWebhookRetriesAndDeliversOnce: a gateway failing twice per message
// gets every notification once, after three attempts; a redelivered event
// notifies nobody again.
func TestWebhookRetriesAndDeliversOnce(t *testing.T) {
	t.Parallel()
	g, gw := newGateway(t, func(_ notification.Message, attempt int) int {
		if attempt <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	env := testenv.StartServerWith(t, withSender(notification.NewWebhookSender(gw.URL, "tok")))
	dockets := []string{register(t, env, hindi), register(t, env, english), register(t, env, third)}

	var all []row
	testenv.Eventually(t, 20*time.Second, "every notification SENT", func() bool {
		all = rows(t, env, "")
		if len(all) != 2*len(dockets) {
			return false
		}
		for _, r := range all {
			if r.Status != "SENT" {
				return false
			}
		}
		return true
	})
	attempts, accepted, messages, posts := g.snapshot()
	if posts != 3*len(all) {
		t.Errorf("gateway got %d posts, want %d (3 per notification)", posts, 3*len(all))
	}
	for _, r := range all {
		if r.Attempts != 3 {
			t.Errorf("%s: %d attempts recorded, want 3", r.Key, r.Attempts)
		}
		if attempts[r.Key] != 3 || accepted[r.Key] != 1 {
			t.Errorf("%s: gateway saw %d attempts and accepted %d, want 3 and 1", r.Key, attempts[r.Key], accepted[r.Key])
		}
		m := messages[r.Key]
		if m.Recipient != r.Recipient || m.Kind != r.Kind || m.Language != r.Language || m.Body != r.Body {
			t.Errorf("%s: gateway got %+v, the table holds %+v", r.Key, m, r)
		}
		if !slices.Contains(dockets, m.Docket) || !strings.Contains(m.Body, m.Docket) {
			t.Errorf("%s: docket %q not one of ours or not in the body %q", r.Key, m.Docket, m.Body)
		}
	}
	if len(attempts) != len(all) {
		t.Errorf("gateway saw %d keys, the table holds %d notifications", len(attempts), len(all))
	}
	for _, c := range []citizen{hindi, english, third} {
		var n int
		for _, m := range messages {
			if m.Recipient == "phone:"+c.e164 && m.Kind == "registered" {
				n++
				if !strings.EqualFold(m.Language, c.lang) {
					t.Errorf("language %q, want %q", m.Language, c.lang)
				}
				if hindiWanted := strings.HasPrefix(c.lang, "hi"); hasDevanagari(m.Body) != hindiWanted || strings.Contains(m.Body, "डॉकेट") != hindiWanted {
					t.Errorf("registration message to %s (language %q): %q", c.e164, c.lang, m.Body)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d registration messages to %s, want 1", n, c.e164)
		}
	}

	// Redeliver a registration event under a new Nats-Msg-Id, so JetStream
	// stores it again and every consumer gets it a second time.
	var payload []byte
	var eventID string
	if err := env.Pool.QueryRow(context.Background(),
		`SELECT payload, event_id::text FROM outbox WHERE subject = $1 AND published_at IS NOT NULL ORDER BY id LIMIT 1`,
		natsbus.Subject("registered")).Scan(&payload, &eventID); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(env.Server.NATSURL, env.NATSUserInfo())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ack, err := js.PublishMsg(ctx, &nats.Msg{Subject: natsbus.Subject("registered"), Data: payload},
		jetstream.WithMsgID("redelivery-"+eventID))
	if err != nil {
		t.Fatalf("republish: %v", err)
	}
	if ack.Duplicate {
		t.Fatalf("JetStream deduplicated the redelivery; the test needs it stored")
	}
	testenv.Eventually(t, 10*time.Second, "the notifier consumer acknowledging the redelivered event", func() bool {
		cons, err := js.Consumer(ctx, natsbus.StreamName, notification.ConsumerName)
		if err != nil {
			return false
		}
		info, err := cons.Info(ctx)
		return err == nil && info.AckFloor.Stream >= ack.Sequence && info.NumAckPending == 0
	})
	time.Sleep(time.Second)
	after := rows(t, env, "")
	if len(after) != len(all) {
		t.Errorf("redelivered event %s: %d notifications, want still %d: %q", eventID, len(after), len(all), summary(after))
	}
	if _, _, _, p := g.snapshot(); p != posts {
		t.Errorf("redelivered event %s: gateway got %d more posts", eventID, p-posts)
	}
}

// TestWebhookPermanentAndTransientFailures: a 4xx refusal fails a
// notification after one attempt; 429 is retried.
func TestWebhookPermanentAndTransientFailures(t *testing.T) {
	t.Parallel()
	g, gw := newGateway(t, func(m notification.Message, attempt int) int {
		if m.Kind == "registered" {
			return http.StatusBadRequest
		}
		if attempt == 1 {
			return http.StatusTooManyRequests
		}
		return http.StatusAccepted
	})
	env := testenv.StartServerWith(t, withSender(notification.NewWebhookSender(gw.URL, "tok")))
	d := register(t, env, hindi)
	var got []row
	testenv.Eventually(t, 10*time.Second, "the registration FAILED and the assignment SENT", func() bool {
		got = rows(t, env, d)
		st := map[string]string{}
		for _, r := range got {
			st[r.Kind] = r.Status
		}
		return len(got) == 2 && st["registered"] == "FAILED" && st["assigned"] == "SENT"
	})
	time.Sleep(1500 * time.Millisecond) // past a dispatcher poll: nothing is retried
	got = rows(t, env, d)
	attempts, accepted, _, _ := g.snapshot()
	for _, r := range got {
		switch r.Kind {
		case "registered":
			if r.Status != "FAILED" || r.Attempts != 1 || !strings.Contains(r.LastError, "400") || attempts[r.Key] != 1 || accepted[r.Key] != 0 {
				t.Errorf("400: status %s attempts %d (gateway %d) last_error %q; want FAILED after 1", r.Status, r.Attempts, attempts[r.Key], r.LastError)
			}
		case "assigned":
			if r.Status != "SENT" || r.Attempts != 2 || attempts[r.Key] != 2 || accepted[r.Key] != 1 {
				t.Errorf("429 then 202: status %s attempts %d (gateway %d, accepted %d); want SENT after 2", r.Status, r.Attempts, attempts[r.Key], accepted[r.Key])
			}
		}
	}
}

// TestGatewayDownKeepsRetrying: connection refused is not permanent.
func TestGatewayDownKeepsRetrying(t *testing.T) {
	t.Parallel()
	gw := httptest.NewServer(http.NotFoundHandler())
	url := gw.URL
	gw.Close()
	env := testenv.StartServerWith(t, withSender(notification.NewWebhookSender(url, "tok")))
	d := register(t, env, english)
	testenv.Eventually(t, 15*time.Second, "three failed attempts of each notification", func() bool {
		got := rows(t, env, d)
		if len(got) != 2 {
			return false
		}
		for _, r := range got {
			if r.Attempts < 3 {
				return false
			}
		}
		return true
	})
	for _, r := range rows(t, env, d) {
		if r.Status != "PENDING" || r.LastError == "" || r.SentAt != nil {
			t.Errorf("%s to %s with the gateway down: status %s attempts %d last_error %q; want PENDING, retried", r.Kind, r.Recipient, r.Status, r.Attempts, r.LastError)
		}
	}
}
