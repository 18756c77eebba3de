package resolution_test

// Issue 17, point 1: a pending special-closure proposal never outlives
// resolution. Resolving withdraws it (the history says so), a decision is
// refused on a RESOLVED or CLOSED complaint, no closed complaint carries a
// proposal (migration 00017 repairs old rows) and the supervisor's queue
// lists only complaints a decision can be made on.

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"google.golang.org/grpc/codes"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/migrations"
)

// pqQueue lists the dockets of the supervisor's special-closure queue.
func pqQueue(t *testing.T, env *testenv.Env) map[string]bool {
	t.Helper()
	resp, err := env.Intake.SearchComplaints(env.As(lcSupervisor), &helplinev1.SearchComplaintsRequest{SpecialClosurePending: true, PageSize: 100})
	if err != nil {
		t.Fatalf("SearchComplaints(special_closure_pending): %v", err)
	}
	out := map[string]bool{}
	for _, c := range resp.GetComplaints() {
		out[c.GetDocket()] = true
	}
	return out
}

func pqFeedback(t *testing.T, env *testenv.Env, d string, satisfied bool) *helplinev1.Complaint {
	t.Helper()
	resp, err := helplinev1.NewSatisfactionServiceClient(env.Conn).RecordFeedback(env.As(lcAgent), &helplinev1.RecordFeedbackRequest{
		Docket: d, Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_REACHED, Satisfied: satisfied})
	if err != nil {
		t.Fatalf("RecordFeedback(%s): %v", d, err)
	}
	return resp.GetComplaint()
}

func TestResolvingWithdrawsAPendingProposal(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)

	c := lcBuild(t, env, lcInProgress)
	d := c.GetDocket()
	lcDo(t, env, "propose_special_closure", d)
	if !pqQueue(t, env)[d] {
		t.Fatalf("%s with a pending proposal is not in the supervisor's queue", d)
	}
	c = lcDo(t, env, "resolve", d)
	if c.GetStatus() != lcResolved || c.GetSpecialClosurePending() || c.GetSpecialClosure() != nil {
		t.Fatalf("resolved %s: status %s, proposal pending %v (%v); want RESOLVED with the proposal withdrawn",
			d, c.GetStatus(), c.GetSpecialClosurePending(), c.GetSpecialClosure())
	}
	c = lcGet(t, env, d)
	h := c.GetHistory()[len(c.GetHistory())-1]
	if h.GetAction() != string(complaint.Resolve) || !strings.Contains(h.GetNote(), "special closure proposal") || !strings.Contains(h.GetNote(), "withdrawn") {
		t.Errorf("the resolve history entry %q does not say that the proposal was withdrawn", h.GetNote())
	}
	if pqQueue(t, env)[d] {
		t.Errorf("resolved %s is still in the supervisor's special-closure queue", d)
	}
	for _, approve := range []bool{true, false} {
		snap := lcTake(t, env, d)
		_, err := env.Resolution.DecideSpecialClosure(env.As(lcSupervisor), &helplinev1.DecideSpecialClosureRequest{Docket: d, Approve: approve})
		lcRefused(t, env, snap, err, codes.FailedPrecondition, "")
	}
	c = pqFeedback(t, env, d, true)
	if c.GetStatus() != lcClosed || c.GetClosure() != helplinev1.Closure_CLOSURE_SATISFIED || c.GetSpecialClosurePending() {
		t.Errorf("after satisfied feedback: %s %s pending %v", c.GetStatus(), c.GetClosure(), c.GetSpecialClosurePending())
	}
}

// TestDecisionRefusedOnResolvedOrClosed: even a row that carries a proposal
// while RESOLVED or CLOSED (as old rows did) cannot be decided, is not in
// the supervisor's queue, and loses the flag when the feedback closes it.
func TestDecisionRefusedOnResolvedOrClosed(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	resolved := lcBuild(t, env, lcResolved)
	closed := lcBuild(t, env, lcResolved)
	pqFeedback(t, env, closed.GetDocket(), true)
	for _, d := range []string{resolved.GetDocket(), closed.GetDocket()} {
		lcSQL(t, env, `UPDATE complaints SET special_closure_pending = true, special_closure_reason = 'policy_matter',
			special_closure_proposed_by = (SELECT id FROM users WHERE username = $2) WHERE docket = $1`, d, lcHolder)
		if pqQueue(t, env)[d] {
			t.Errorf("%s (RESOLVED or CLOSED) is listed in the supervisor's special-closure queue", d)
		}
		for _, approve := range []bool{true, false} {
			snap := lcTake(t, env, d)
			_, err := env.Resolution.DecideSpecialClosure(env.As(lcSupervisor), &helplinev1.DecideSpecialClosureRequest{Docket: d, Approve: approve})
			lcRefused(t, env, snap, err, codes.FailedPrecondition, "")
		}
	}
	if c := pqFeedback(t, env, resolved.GetDocket(), true); c.GetSpecialClosurePending() {
		t.Errorf("closed %s still carries a pending proposal", c.GetDocket())
	}
}

// TestMigrationWithdrawsProposalsOfClosedComplaints runs the repair
// migration again over rows in the state old code left behind.
func TestMigrationWithdrawsProposalsOfClosedComplaints(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := context.Background()
	open := lcBuild(t, env, lcAssigned)
	lcDo(t, env, "propose_special_closure", open.GetDocket())
	resolved := lcBuild(t, env, lcResolved)
	closed := lcBuild(t, env, lcResolved)
	pqFeedback(t, env, closed.GetDocket(), true)
	special := lcBuild(t, env, lcClosed)
	for _, d := range []string{resolved.GetDocket(), closed.GetDocket()} {
		lcSQL(t, env, `UPDATE complaints SET special_closure_pending = true, special_closure_reason = 'policy_matter', special_closure_note = 'x',
			special_closure_proposed_by = (SELECT id FROM users WHERE username = $2) WHERE docket = $1`, d, lcHolder)
	}

	sqlDB := stdlib.OpenDBFromPool(env.Pool)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, goose.WithLogger(goose.NopLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 16); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}

	for _, x := range []struct {
		d       string
		pending bool
		reason  string
	}{
		{open.GetDocket(), true, "policy_matter"},
		{resolved.GetDocket(), false, ""},
		{closed.GetDocket(), false, ""},
		{special.GetDocket(), false, "policy_matter"},
	} {
		var pending bool
		var reason string
		if err := env.Pool.QueryRow(ctx, `SELECT special_closure_pending, coalesce(special_closure_reason, '') FROM complaints WHERE docket = $1`, x.d).
			Scan(&pending, &reason); err != nil {
			t.Fatal(err)
		}
		if pending != x.pending || reason != x.reason {
			t.Errorf("%s after the migration: pending %v reason %q; want %v %q", x.d, pending, reason, x.pending, x.reason)
		}
	}
	var bad int
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM complaints WHERE special_closure_pending AND status IN ('RESOLVED', 'CLOSED')`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d resolved or closed complaints still carry a proposal", bad)
	}
}
