package metrics_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

func TestMetricsCountRPCsComplaintsAndConsumers(t *testing.T) {
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	url := "http://" + env.Server.HTTPAddr.String() + "/metrics"

	before := scrape(t, url)
	if strings.Contains(before, `method="RegisterComplaint"`) {
		t.Fatal("RegisterComplaint counted before any call")
	}
	_, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: "m-1",
		Citizen:        &helplinev1.Citizen{Name: "Asha", Phone: "9816012345"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA"},
		CategoryCode:   "PWD_ROAD_POTHOLES", Description: "pothole", Channel: helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatal(err)
	}
	// A refused call is counted with its code.
	_, _ = env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{IdempotencyKey: "m-2"})

	var body string
	testenv.Eventually(t, 15*time.Second, "the complaint counted as ASSIGNED", func() bool {
		body = scrape(t, url)
		return strings.Contains(body, `helpline_complaints{status="ASSIGNED"} 1`)
	})
	for _, want := range []string{
		`helpline_rpc_duration_seconds_count{code="OK",method="RegisterComplaint",service="helpline.v1.IntakeService"} 1`,
		`helpline_rpc_duration_seconds_count{code="InvalidArgument",method="RegisterComplaint",service="helpline.v1.IntakeService"} 1`,
		`helpline_complaints{status="CLOSED"} 0`,
		`helpline_consumer_pending{consumer="routing"}`,
		`helpline_outbox_backlog `,
		`helpline_outbox_oldest_age_seconds `,
		`helpline_escalations_total `,
		`helpline_metrics_scrape_errors{source="postgresql"} 0`,
		`helpline_metrics_scrape_errors{source="nats"} 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}
