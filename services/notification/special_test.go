package notification_test

import (
	"strings"
	"testing"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/testenv"
)

// TestSpecialClosureIsTold (issue 17, point 2): an approved special closure
// is told to the citizen, with its reason, in their language; a rejection
// is told to the officer who proposed it.
func TestSpecialClosureIsTold(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	propose := func(d string, reason helplinev1.SpecialClosureReason, dup string) {
		t.Helper()
		if _, err := env.Resolution.ProposeSpecialClosure(env.As(holderL1), &helplinev1.ProposeSpecialClosureRequest{
			Docket: d, Reason: reason, DuplicateOf: dup, Note: "see the file"}); err != nil {
			t.Fatalf("propose %s: %v", d, err)
		}
	}
	decide := func(d, user string, approve bool) {
		t.Helper()
		if _, err := env.Resolution.DecideSpecialClosure(env.As(user), &helplinev1.DecideSpecialClosureRequest{Docket: d, Approve: approve, Note: "decided"}); err != nil {
			t.Fatalf("decide %s: %v", d, err)
		}
	}
	hiPhone, enPhone := "phone:"+hindi.e164, "phone:"+english.e164

	// Hindi, sub judice: approved by the supervisor.
	hiDocket := register(t, env, hindi)
	propose(hiDocket, helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_SUB_JUDICE, "")
	decide(hiDocket, "supervisor", true)
	hi := waitRows(t, env, hiDocket, "registered "+hiPhone, "assigned user:"+holderL1, "special_closure_decided "+hiPhone)
	if r := only(t, hi, "special_closure_decided", hiPhone)[0]; r.Language != "hi" || !strings.Contains(r.Body, hiDocket) ||
		!strings.Contains(r.Body, "बंद") || !strings.Contains(r.Body, "न्यायालय") {
		t.Errorf("Hindi special closure notification (%s) %q: want Hindi, the docket, closed, and the reason (before a court)", r.Language, r.Body)
	}

	// English, duplicate: approved by the L3 officer; the original is named.
	orig := register(t, env, english)
	enDocket := register(t, env, english)
	propose(enDocket, helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_DUPLICATE, orig)
	decide(enDocket, "pwd-state-l3", true)
	en := waitRows(t, env, enDocket, "registered "+enPhone, "assigned user:"+holderL1, "special_closure_decided "+enPhone)
	if r := only(t, en, "special_closure_decided", enPhone)[0]; r.Language != "en" || !strings.Contains(r.Body, enDocket) ||
		!strings.Contains(r.Body, "closed") || !strings.Contains(r.Body, "duplicate") || !strings.Contains(r.Body, orig) || hasDevanagari(r.Body) {
		t.Errorf("English special closure notification %q: want English, the docket, closed as a duplicate of %s", r.Body, orig)
	}

	// Rejected: the proposing officer hears of it, the citizen does not.
	rej := register(t, env, hindi)
	propose(rej, helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_POLICY_MATTER, "")
	decide(rej, "supervisor", false)
	rs := waitRows(t, env, rej, "registered "+hiPhone, "assigned user:"+holderL1, "special_closure_decided user:"+holderL1)
	if r := only(t, rs, "special_closure_decided", "user:"+holderL1)[0]; !strings.Contains(r.Body, rej) || !strings.Contains(strings.ToLower(r.Body), "rejected") {
		t.Errorf("rejection notification %q: want the docket and 'rejected'", r.Body)
	}
}
