package complaint

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/helpline/helpline/internal/caller"
)

// TestTableIsDesignsTable writes DESIGN.md's lifecycle table out once more,
// independently, and compares: a change to either must be deliberate.
func TestTableIsDesignsTable(t *testing.T) {
	working := []Status{Assigned, InProgress, Reopened}
	notClosed := []Status{Registered, Unrouted, Assigned, InProgress, OnHold, Resolved, Reopened}
	beforeResolution := []Status{Registered, Unrouted, Assigned, InProgress, OnHold, Reopened}
	want := map[Action]struct {
		from []Status
		to   Status // "" = same state
	}{
		Route:                {[]Status{Registered}, Assigned},
		RouteNone:            {[]Status{Registered}, Unrouted},
		Assign:               {[]Status{Unrouted}, Assigned},
		Acknowledge:          {[]Status{Assigned, Reopened}, InProgress},
		RequestInformation:   {[]Status{InProgress}, OnHold},
		ProvideInformation:   {[]Status{OnHold}, InProgress},
		Resume:               {[]Status{OnHold}, InProgress},
		Resolve:              {[]Status{InProgress}, Resolved},
		Return:               {working, Unrouted},
		Transfer:             {working, Assigned},
		Escalate:             {working, Assigned},
		ProposeSpecial:       {working, ""},
		ApproveSpecial:       {beforeResolution, Closed},
		RejectSpecial:        {beforeResolution, ""},
		FeedbackSatisfied:    {[]Status{Resolved}, Closed},
		FeedbackNotSatisfied: {[]Status{Resolved}, Reopened},
		FeedbackUnreachable:  {[]Status{Resolved}, ""},
		FeedbackExpire:       {[]Status{Resolved}, Closed},
		FollowUp:             {notClosed, ""},
		Note:                 {notClosed, ""},
		Link:                 {AllStatuses, ""},
	}
	for action, rule := range Table {
		if action == Register {
			continue
		}
		w, ok := want[action]
		if !ok {
			t.Errorf("action %s is in the table but not in DESIGN.md's", action)
			continue
		}
		got := slices.Clone(rule.From)
		slices.Sort(got)
		exp := slices.Clone(w.from)
		slices.Sort(exp)
		if !slices.Equal(got, exp) || rule.To != w.to {
			t.Errorf("%s: from %v to %q, want from %v to %q", action, got, rule.To, exp, w.to)
		}
		if rule.Event == "" || len(rule.Roles) == 0 {
			t.Errorf("%s has no event or no roles", action)
		}
	}
	for action := range want {
		if _, ok := Table[action]; !ok {
			t.Errorf("DESIGN.md's action %s is missing from the table", action)
		}
	}
	if len(Table[Register].From) != 0 || Table[Register].To != Registered {
		t.Error("register must create a REGISTERED complaint from nothing")
	}
}

// TestClosedOnlyBySatisfactionNoResponseOrSpecialClosure proves from the
// table that a complaint reaches CLOSED only after the citizen was asked
// (satisfied or unreachable) or through an approved special closure, and
// only by the roles that may do those, and that nothing leaves CLOSED.
func TestClosedOnlyBySatisfactionNoResponseOrSpecialClosure(t *testing.T) {
	allowed := map[Action][]caller.Role{
		FeedbackSatisfied: {caller.Agent},
		FeedbackExpire:    {caller.System},
		ApproveSpecial:    {caller.Supervisor, caller.Admin, caller.Officer},
	}
	for action, rule := range Table {
		if rule.To != Closed {
			if rule.To == "" && rule.Allows(Closed) && action != Link {
				t.Errorf("%s acts on a CLOSED complaint", action)
			}
			if rule.To != "" && rule.Allows(Closed) {
				t.Errorf("%s leaves CLOSED", action)
			}
			continue
		}
		roles, ok := allowed[action]
		if !ok {
			t.Errorf("%s closes complaints: only feedback (satisfied, no response) and an approved special closure may", action)
			continue
		}
		if !slices.Equal(rule.Roles, roles) {
			t.Errorf("%s may be done by %v, want %v", action, rule.Roles, roles)
		}
		if action == FeedbackSatisfied || action == FeedbackExpire {
			if !slices.Equal(rule.From, []Status{Resolved}) {
				t.Errorf("%s closes from %v: only a RESOLVED complaint (one with an action-taken report) may be closed by feedback", action, rule.From)
			}
		}
		if action == ApproveSpecial && rule.Guard == nil {
			t.Error("approving a special closure must require a pending proposal")
		}
	}
}

// TestOnlyApplyWritesComplaintState scans the source: the complaints row is
// updated in one place, Apply, so no code path can change a state (to
// CLOSED or any other) outside the lifecycle table.
func TestOnlyApplyWritesComplaintState(t *testing.T) {
	root := "../.."
	update := regexp.MustCompile(`(?i)UPDATE\s+complaints\b`)
	var writers []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "api" || d.Name() == ".data") {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(path, "_test.go") || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".sql")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if update.Match(b) {
			writers = append(writers, filepath.ToSlash(strings.TrimPrefix(path, root+"/")))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Besides Apply, only named repair migrations, each reviewed for what it
	// changes (no state, no version: a flag the lifecycle no longer allows;
	// the backfill of the citizen's name and language onto each complaint).
	want := []string{"internal/complaint/transition.go", "migrations/00017_withdraw_resolved_proposals.sql",
		"migrations/00022_complaint_citizen_details.sql"}
	slices.Sort(writers)
	if !slices.Equal(writers, want) {
		t.Fatalf("complaints rows are updated in %v; only internal/complaint/transition.go (Apply) and the repair migrations %v may", writers, want[1:])
	}
}
