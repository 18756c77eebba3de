package stats_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/services/stats"
)

// rtFlow drives one potholes complaint in Shimla through the API: each step
// is "ack1", "ack2" (acknowledge as the L1 or L2 holder), "resolve1",
// "resolve2", or a feedback outcome "satisfied", "not_satisfied",
// "unreachable".
func rtFlow(t *testing.T, env *testenv.Env, key string, steps ...string) string {
	t.Helper()
	resp, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: key,
		Citizen:        &helplinev1.Citizen{Name: "Kamla Devi", Phone: "94180 55555", Language: "hi"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG", Locality: "Theog bazaar"},
		CategoryCode:   "PWD_ROAD_POTHOLES", Description: "potholes", Channel: helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatal(err)
	}
	d := resp.GetComplaint().GetDocket()
	testenv.Eventually(t, 10*time.Second, "routing of "+d, func() bool {
		c, err := env.Intake.GetComplaint(env.Admin, &helplinev1.GetComplaintRequest{Docket: d})
		return err == nil && c.GetComplaint().GetStatus() == stAssigned
	})
	sat := helplinev1.NewSatisfactionServiceClient(env.Conn)
	for _, s := range steps {
		var err error
		holder := map[byte]string{'1': "pwd-shimla-l1", '2': "pwd-shimla-l2"}[s[len(s)-1]]
		switch s {
		case "ack1", "ack2":
			_, err = env.Resolution.AcknowledgeComplaint(env.As(holder), &helplinev1.AcknowledgeComplaintRequest{Docket: d})
		case "resolve1", "resolve2":
			_, err = env.Resolution.ResolveComplaint(env.As(holder), &helplinev1.ResolveComplaintRequest{Docket: d, ActionTakenReport: "filled"})
		case "satisfied", "not_satisfied":
			_, err = sat.RecordFeedback(env.Agent, &helplinev1.RecordFeedbackRequest{Docket: d,
				Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_REACHED, Satisfied: s == "satisfied"})
		case "unreachable":
			_, err = sat.RecordFeedback(env.Agent, &helplinev1.RecordFeedbackRequest{Docket: d,
				Outcome: helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_NOT_REACHABLE})
		default:
			t.Fatalf("unknown step %q", s)
		}
		if err != nil {
			t.Fatalf("%s on %s: %v", s, d, err)
		}
	}
	return d
}

// TestSatisfiedShareOfReachedCountsComplaints (issue 17, point 7): the
// "satisfied / feedback reached" rate is complaints whose latest reached
// call was satisfied ÷ complaints with at least one reached call, so a
// complaint reopened once and then satisfied scores 1/1, not 1/2; live
// figures and a rebuild agree.
func TestSatisfiedShareOfReachedCountsComplaints(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	rtFlow(t, env, "reopened-then-satisfied", "ack1", "resolve1", "not_satisfied", "ack2", "resolve2", "satisfied")
	rtFlow(t, env, "not-satisfied", "ack1", "resolve1", "not_satisfied")
	rtFlow(t, env, "unreachable", "ack1", "resolve1", "unreachable")

	svc := stats.New(env.Pool, env.Clock, calendar.Default, testenv.Logger(t), stats.DefaultGrades)
	day := calendar.Day(env.Clock.Now()).Format(time.DateOnly)
	read := func() (*helplinev1.ResolutionStatsRow, error) {
		resp, err := svc.GetResolutionStats(adminCtx(), &helplinev1.GetResolutionStatsRequest{FromDate: day, ToDate: day,
			GroupBy: helplinev1.StatsGrouping_STATS_GROUPING_DEPARTMENT, DepartmentCode: "PWD"})
		if err != nil {
			return nil, err
		}
		if len(resp.GetRows()) != 1 {
			return nil, fmt.Errorf("%d rows", len(resp.GetRows()))
		}
		return resp.GetRows()[0], nil
	}
	check := func(phase string) {
		t.Helper()
		var r *helplinev1.ResolutionStatsRow
		testenv.Eventually(t, 20*time.Second, "stats of 3 complaints, 2 reached", func() bool {
			var err error
			r, err = read()
			return err == nil && r.GetRegistered() == 3 && r.GetReopened() == 2 && r.GetClosedSatisfied() == 1
		})
		if r.GetFeedbackReached() != 2 || r.GetSatisfiedShareOfReached() != 0.5 {
			t.Errorf("%s: feedback_reached %d, satisfied_share_of_reached %v; want 2 complaints reached, 1/2 satisfied",
				phase, r.GetFeedbackReached(), r.GetSatisfiedShareOfReached())
		}
	}
	check("live")
	if _, err := svc.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("after a rebuild")
}
