package resolution_test

// Issue 17, point 4: LinkComplaints takes an expected version for each of
// its two complaints, like every other command.

import (
	"testing"

	"google.golang.org/grpc/codes"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/testenv"
)

func TestLinkComplaintsExpectedVersions(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	officer := env.As(lcHolder)
	a, b := lcBuild(t, env, lcAssigned), lcBuild(t, env, lcInProgress)
	va, vb := a.GetVersion(), b.GetVersion()

	for _, x := range []struct {
		name    string
		ev, lev int64
		code    codes.Code
		field   string
	}{
		{"stale expected_version", va - 1, vb, codes.FailedPrecondition, ""},
		{"future expected_version", va + 1, 0, codes.FailedPrecondition, ""},
		{"stale linked_expected_version", va, vb - 1, codes.FailedPrecondition, ""},
		{"future linked_expected_version", 0, vb + 1, codes.FailedPrecondition, ""},
		{"negative expected_version", -1, vb, codes.InvalidArgument, "expected_version"},
		{"negative linked_expected_version", va, -1, codes.InvalidArgument, "linked_expected_version"},
	} {
		t.Run(x.name, func(t *testing.T) {
			sa, sb := lcTake(t, env, a.GetDocket()), lcTake(t, env, b.GetDocket())
			_, err := env.Resolution.LinkComplaints(officer, &helplinev1.LinkComplaintsRequest{
				Docket: a.GetDocket(), LinkedDocket: b.GetDocket(), Note: "same stretch", ExpectedVersion: x.ev, LinkedExpectedVersion: x.lev})
			lcRefused(t, env, sa, err, x.code, x.field)
			lcRefused(t, env, sb, err, x.code, x.field)
		})
	}

	r, err := env.Resolution.LinkComplaints(officer, &helplinev1.LinkComplaintsRequest{
		Docket: a.GetDocket(), LinkedDocket: b.GetDocket(), Note: "same stretch", ExpectedVersion: va, LinkedExpectedVersion: vb})
	lcTransition(t, env, a, r.GetComplaint(), err, lcStep{complaint.Link, lcHolder, lcAssigned, lcAssigned})
	lcTransition(t, env, b, lcGet(t, env, b.GetDocket()), nil, lcStep{complaint.Link, lcHolder, lcInProgress, lcInProgress})
}
