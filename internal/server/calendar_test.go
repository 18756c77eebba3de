package server_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// TestStartRefusesAWeekWithoutWorkingDays (issue 17, point 9): a weekly-off
// setting with no working day is refused when the server starts, before
// any deadline is computed (it used to loop forever on the first one).
func TestStartRefusesAWeekWithoutWorkingDays(t *testing.T) {
	t.Parallel()
	pool := testenv.SeededDB(t)
	dir, err := os.MkdirTemp("", "helpline-nats-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	cfg := server.Config{
		GRPCAddr: "127.0.0.1:0", DatabaseURL: testenv.URL(t, pool), DBMaxConns: 4, NATSListen: "127.0.0.1:0", DataDir: dir,
		Relay: true, Retention: time.Hour, Clock: clock.NewFake(testenv.Start), JobInterval: 50 * time.Millisecond,
		Calendar: calendar.Calendar{WeeklyOff: []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}},
	}
	srv, err := server.Start(context.Background(), cfg, testenv.Logger(t))
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		t.Fatal("the server started with every day of the week off")
	}
	if !strings.Contains(err.Error(), "weekly off") {
		t.Errorf("start refused with %q; want it to name the weekly off", err)
	}
}
