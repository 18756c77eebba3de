package resolution_test

// Issue 17, point 3: levels and empty posts. A complaint goes one level up;
// where that level has no post, or its post no holder, to the next level up
// that has a held post, and the history names the levels passed over and
// why; where none exists above, it stays, flagged for the supervisor (a
// filter of the supervisor's queue), and the history says why. Routing and
// transfer to a post without a holder flag it too.

import (
	"context"
	"strings"
	"testing"
	"time"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/services/resolution"
)

// lvUnhold leaves a post without a holder; lvDrop removes it.
func lvUnhold(t *testing.T, env *testenv.Env, post string) {
	t.Helper()
	lcSQL(t, env, `UPDATE posts SET holder_user_id = NULL WHERE code = $1`, post)
}

func lvDrop(t *testing.T, env *testenv.Env, post string) {
	t.Helper()
	lcSQL(t, env, `DELETE FROM posts WHERE code = $1`, post)
}

// lvEscalate moves the clock past the complaint's deadline and runs the
// escalation job directly until the complaint's version has moved on by
// want (the server's own job may have claimed the row first) or, with
// want 0, once.
func lvEscalate(t *testing.T, env *testenv.Env, c *helplinev1.Complaint, want int) *helplinev1.Complaint {
	t.Helper()
	env.Clock.Set(c.GetSlaDueAt().AsTime().Add(time.Second))
	svc := resolution.New(env.Pool, env.Clock, calendar.Default, testenv.Logger(t), nil)
	v := c.GetVersion()
	testenv.Eventually(t, 5*time.Second, "the escalation job on "+c.GetDocket(), func() bool {
		if _, err := svc.EscalateDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		c = lcGet(t, env, c.GetDocket())
		// The row's version, not the history: the history may be read a
		// moment after the row.
		return c.GetVersion() >= v+int64(want) && len(c.GetHistory()) == int(c.GetVersion())
	})
	return c
}

func lvLast(c *helplinev1.Complaint) *helplinev1.HistoryEntry {
	return c.GetHistory()[len(c.GetHistory())-1]
}

// lvFlagged lists the supervisor's flagged queue.
func lvFlagged(t *testing.T, env *testenv.Env) map[string]bool {
	t.Helper()
	resp, err := env.Intake.SearchComplaints(env.As(lcSupervisor), &helplinev1.SearchComplaintsRequest{FlaggedForSupervisor: true, PageSize: 100})
	if err != nil {
		t.Fatalf("SearchComplaints(flagged_for_supervisor): %v", err)
	}
	out := map[string]bool{}
	for _, c := range resp.GetComplaints() {
		out[c.GetDocket()] = true
	}
	return out
}

func lvContains(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%s %q does not mention %q", what, s, p)
		}
	}
}

func TestEscalationPassesOverALevelWithoutAHeldPost(t *testing.T) {
	t.Parallel()
	for _, x := range []struct {
		name  string
		empty func(t *testing.T, env *testenv.Env)
		why   string
	}{
		{"no holder", func(t *testing.T, env *testenv.Env) { lvUnhold(t, env, lcPostL2) }, "no holder"},
		{"no post", func(t *testing.T, env *testenv.Env) { lvDrop(t, env, lcPostL2) }, "no post"},
	} {
		t.Run(x.name, func(t *testing.T) {
			t.Parallel()
			env := testenv.StartServer(t)
			c := lcRouted(t, env)
			x.empty(t, env)
			c = lvEscalate(t, env, c, 1)
			if c.GetLevel() != 3 || c.GetPost() != lcPostL3 || c.GetAssignedOfficer() != lcStateL3 || c.GetFlaggedForSupervisor() {
				t.Fatalf("escalated to L%d %s (%s), flagged %v; want L3 %s (%s), not flagged; history %v",
					c.GetLevel(), c.GetPost(), c.GetAssignedOfficer(), c.GetFlaggedForSupervisor(), lcPostL3, lcStateL3, c.GetHistory())
			}
			h := lvLast(c)
			if h.GetAction() != "escalate" {
				t.Fatalf("last history entry %s, want escalate", h.GetAction())
			}
			lvContains(t, "escalation note", h.GetNote(), "L2", x.why)
		})
	}
}

func TestEscalationWithNoHeldPostAboveFlagsForTheSupervisor(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	c := lcRouted(t, env)
	lvUnhold(t, env, lcPostL2)
	lvUnhold(t, env, lcPostL3)
	lvDrop(t, env, "PWD-STATE-L4")
	c = lvEscalate(t, env, c, 1)
	if c.GetLevel() != 1 || c.GetPost() != lcPostL1 || c.GetStatus() != lcAssigned || !c.GetFlaggedForSupervisor() {
		t.Fatalf("after the deadline: %s L%d %s flagged %v; want ASSIGNED, still L1 %s, flagged for the supervisor",
			c.GetStatus(), c.GetLevel(), c.GetPost(), c.GetFlaggedForSupervisor(), lcPostL1)
	}
	h := lvLast(c)
	if h.GetActor() != "system" || h.GetToStatus() != lcAssigned {
		t.Errorf("history entry %v; want one by the system keeping the state", h)
	}
	lvContains(t, "history note", h.GetNote(), "L2", "L3", "L4", "no holder", "no post", "supervisor")
	lvContains(t, "flag reason", c.GetSupervisorFlagReason(), "L1")
	if !lvFlagged(t, env)[c.GetDocket()] {
		t.Errorf("%s is not in the supervisor's flagged queue", c.GetDocket())
	}
	// The next runs of the job say nothing more.
	n := c.GetVersion()
	if c = lvEscalate(t, env, c, 0); c.GetVersion() != n {
		t.Errorf("a second run changed the complaint again (version %d→%d)", n, c.GetVersion())
	}
	// Resolving clears the flag: nothing is left for the supervisor.
	lcDo(t, env, "acknowledge", c.GetDocket())
	if c = lcDo(t, env, "resolve", c.GetDocket()); c.GetFlaggedForSupervisor() || lvFlagged(t, env)[c.GetDocket()] {
		t.Errorf("resolved %s is still flagged for the supervisor", c.GetDocket())
	}
}

func TestReopeningPassesOverALevelWithoutAHeldPost(t *testing.T) {
	t.Parallel()
	for _, x := range []struct {
		name    string
		empty   func(t *testing.T, env *testenv.Env)
		level   int32
		post    string
		flagged bool
		why     []string
	}{
		{"L2 without a post", func(t *testing.T, env *testenv.Env) { lvDrop(t, env, lcPostL2) }, 3, lcPostL3, false, []string{"L2", "no post"}},
		{"L2 without a holder", func(t *testing.T, env *testenv.Env) { lvUnhold(t, env, lcPostL2) }, 3, lcPostL3, false, []string{"L2", "no holder"}},
		{"nothing held above", func(t *testing.T, env *testenv.Env) {
			lvUnhold(t, env, lcPostL2)
			lvUnhold(t, env, lcPostL3)
			lvUnhold(t, env, "PWD-STATE-L4")
		}, 1, lcPostL1, true, []string{"L2", "L3", "L4", "no holder", "supervisor"}},
	} {
		t.Run(x.name, func(t *testing.T) {
			t.Parallel()
			env := testenv.StartServer(t)
			c := lcBuild(t, env, lcResolved)
			x.empty(t, env)
			c = pqFeedback(t, env, c.GetDocket(), false)
			c = lcGet(t, env, c.GetDocket())
			if c.GetStatus() != lcReopened || c.GetLevel() != x.level || c.GetPost() != x.post || c.GetFlaggedForSupervisor() != x.flagged {
				t.Fatalf("reopened: %s L%d %s flagged %v; want REOPENED L%d %s flagged %v",
					c.GetStatus(), c.GetLevel(), c.GetPost(), c.GetFlaggedForSupervisor(), x.level, x.post, x.flagged)
			}
			lvContains(t, "reopen note", lvLast(c).GetNote(), x.why...)
			if lvFlagged(t, env)[c.GetDocket()] != x.flagged {
				t.Errorf("in the supervisor's flagged queue: %v, want %v", !x.flagged, x.flagged)
			}
		})
	}
}

func TestRoutingAndTransferToAPostWithoutAHolderFlag(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	lvUnhold(t, env, lcPostL1)
	routed := lcRegister(t, env, lcPothole)
	if routed.GetPost() != lcPostL1 || routed.GetAssignedOfficer() != "" || !routed.GetFlaggedForSupervisor() {
		t.Errorf("routed to %s (%q), flagged %v; want %s without a holder, flagged", routed.GetPost(), routed.GetAssignedOfficer(),
			routed.GetFlaggedForSupervisor(), lcPostL1)
	}
	lvContains(t, "route note", lvLast(routed).GetNote(), lcPostL1, "no holder")

	lvUnhold(t, env, lcJalPostL1)
	held := lcRegister(t, env, lcWater) // routed to JAL_SHAKTI-SHIMLA-L1, now without a holder
	if !held.GetFlaggedForSupervisor() {
		t.Errorf("%s routed to %s without a holder is not flagged", held.GetDocket(), held.GetPost())
	}
	// Give PWD-SHIMLA-L1 its holder back: a transfer there clears the flag;
	// a transfer to the holderless JAL_SHAKTI post flags it.
	lcSQL(t, env, `UPDATE posts SET holder_user_id = (SELECT id FROM users WHERE username = $2) WHERE code = $1`, lcPostL1, lcHolder)
	r, err := env.Resolution.TransferComplaint(env.As(lcSupervisor), &helplinev1.TransferComplaintRequest{Docket: held.GetDocket(), CategoryCode: lcPothole})
	if err != nil {
		t.Fatal(err)
	}
	if c := r.GetComplaint(); c.GetPost() != lcPostL1 || c.GetFlaggedForSupervisor() {
		t.Errorf("transferred to %s, flagged %v; want %s, not flagged", c.GetPost(), c.GetFlaggedForSupervisor(), lcPostL1)
	}
	r, err = env.Resolution.TransferComplaint(env.As(lcSupervisor), &helplinev1.TransferComplaintRequest{Docket: held.GetDocket(), CategoryCode: lcWater})
	if err != nil {
		t.Fatal(err)
	}
	c := lcGet(t, env, r.GetComplaint().GetDocket())
	if c.GetPost() != lcJalPostL1 || !c.GetFlaggedForSupervisor() {
		t.Errorf("transferred to %s, flagged %v; want %s, flagged", c.GetPost(), c.GetFlaggedForSupervisor(), lcJalPostL1)
	}
	lvContains(t, "transfer note", lvLast(c).GetNote(), lcJalPostL1, "no holder")
	q := lvFlagged(t, env)
	if !q[routed.GetDocket()] || !q[c.GetDocket()] || len(q) != 2 {
		t.Errorf("the supervisor's flagged queue %v; want exactly %s and %s", q, routed.GetDocket(), c.GetDocket())
	}
}
