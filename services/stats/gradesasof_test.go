package stats_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/services/stats"
)

// TestGradesAreAsAtTheMonthsLastSecond (issue 17, point 6): a month's
// department grades count each complaint's status and department as they
// were at the month's last second (IST), by the history: the same when
// computed at that second, days later after outcomes and departments
// changed, again from scratch a month later, and after a rebuild.
func TestGradesAreAsAtTheMonthsLastSecond(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	w := &world{t: t, env: env}
	svc := stats.New(env.Pool, env.Clock, calendar.Default, testenv.Logger(t), stats.DefaultGrades)
	ctx := context.Background()

	// November (from Mon 2 Nov): PWD complaint A satisfied, B worked on;
	// JAL_SHAKTI complaint C worked on.
	rtFlow(t, env, "grades-a", "ack1", "resolve1", "satisfied")
	b := rtFlow(t, env, "grades-b", "ack1")
	resp, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: "grades-c", Citizen: &helplinev1.Citizen{Name: "Kamla Devi", Phone: "94180 55555", Language: "hi"},
		Location:     &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG"},
		CategoryCode: "JAL_SHAKTI_NO_WATER_SUPPLY", Description: "no water", Channel: helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := resp.GetComplaint().GetDocket()
	w.waitRouted()

	// The month's last second: the escalations due by then happen first.
	last := time.Date(2026, 11, 30, 23, 59, 59, 0, time.FixedZone("IST", 5*3600+1800))
	env.Clock.Set(last)
	w.settle()
	grades := func(phase string) []*helplinev1.DepartmentGrade {
		t.Helper()
		r, err := svc.GetDepartmentGrades(adminCtx(), &helplinev1.GetDepartmentGradesRequest{Month: "2026-11"})
		if err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		return r.GetGrades()
	}
	// The stats consumer has applied everything so far.
	waitStats := func(satisfied int64, pwd int64) {
		t.Helper()
		testenv.Eventually(t, 20*time.Second, "the stats consumer", func() bool {
			r, err := svc.GetResolutionStats(adminCtx(), &helplinev1.GetResolutionStatsRequest{FromDate: "2026-11-01", ToDate: "2026-11-30",
				GroupBy: helplinev1.StatsGrouping_STATS_GROUPING_DEPARTMENT, DepartmentCode: "PWD"})
			return err == nil && r.GetTotal().GetClosedSatisfied() == satisfied && r.GetTotal().GetRegistered() == pwd
		})
	}
	waitStats(1, 2)
	atEnd := grades("at the month's last second")
	byDept := map[string]*helplinev1.DepartmentGrade{}
	for _, g := range atEnd {
		byDept[g.GetDepartmentCode()] = g
	}
	if byDept["PWD"].GetRegistered() != 2 || byDept["PWD"].GetSatisfiedShare() != 0.5 || byDept["JAL_SHAKTI"].GetRegistered() != 1 {
		t.Fatalf("grades at the month's end %v; want PWD 2 registered, half satisfied, JAL_SHAKTI 1", atEnd)
	}

	// December: B is satisfied, C moves to PWD; a December complaint too.
	env.Clock.Set(last.Add(2 * time.Hour))
	sat := helplinev1.NewSatisfactionServiceClient(env.Conn)
	bc, err := env.Intake.GetComplaint(env.Admin, &helplinev1.GetComplaintRequest{Docket: b})
	if err != nil {
		t.Fatal(err)
	}
	holder := env.As(bc.GetComplaint().GetAssignedOfficer())
	if bc.GetComplaint().GetStatus() != stInProgress {
		if _, err := env.Resolution.AcknowledgeComplaint(holder, &helplinev1.AcknowledgeComplaintRequest{Docket: b}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Resolution.ResolveComplaint(holder, &helplinev1.ResolveComplaintRequest{Docket: b, ActionTakenReport: "filled"}); err != nil {
		t.Fatal(err)
	}
	if _, err := sat.RecordFeedback(env.Agent, &helplinev1.RecordFeedbackRequest{Docket: b, Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_REACHED, Satisfied: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Resolution.TransferComplaint(env.As("supervisor"), &helplinev1.TransferComplaintRequest{Docket: c, CategoryCode: "PWD_ROAD_POTHOLES"}); err != nil {
		t.Fatal(err)
	}
	rtFlow(t, env, "grades-december", "ack1")
	waitStats(2, 3)

	if later := grades("in December"); !gradesEqual(later, atEnd) {
		t.Errorf("grades of November asked in December:\n%v\nwant as at its last second:\n%v", later, atEnd)
	}
	// From scratch a month later, then after a rebuild: the same.
	if _, err := env.Pool.Exec(ctx, `DELETE FROM stats_grades`); err != nil {
		t.Fatal(err)
	}
	env.Clock.Set(last.AddDate(0, 1, 0))
	if again := grades("computed again in January"); !gradesEqual(again, atEnd) {
		t.Errorf("grades of November computed in January:\n%v\nwant:\n%v", again, atEnd)
	}
	if _, err := svc.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if rebuilt := grades("after a rebuild"); !gradesEqual(rebuilt, atEnd) {
		t.Errorf("grades of November after a rebuild:\n%v\nwant:\n%v", rebuilt, atEnd)
	}
}

// gradesEqual compares grades but for when they were frozen.
func gradesEqual(a, b []*helplinev1.DepartmentGrade) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
