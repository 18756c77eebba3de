package calendar_test

import (
	"context"
	"testing"
	"time"

	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/testenv"
)

var everyDay = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}

// TestAWeekWithoutWorkingDaysIsRefused (issue 17, point 9): a weekly off
// covering every day has no deadline; computing one used to loop forever.
func TestAWeekWithoutWorkingDaysIsRefused(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		off []time.Weekday
		ok  bool
	}{
		{nil, true},
		{[]time.Weekday{time.Sunday}, true},
		{everyDay[:6], true},
		{append([]time.Weekday{time.Sunday}, everyDay...), false}, // a repeat does not hide that none is left
		{everyDay, false},
		{[]time.Weekday{7}, false},
		{[]time.Weekday{-1}, false},
	} {
		err := calendar.Calendar{WeeklyOff: c.off}.Validate()
		if (err == nil) != c.ok {
			t.Errorf("Validate(weekly off %v) = %v, want ok %v", c.off, err, c.ok)
		}
	}

	pool := testenv.DB(t)
	cal := calendar.Calendar{WeeklyOff: everyDay}
	done := make(chan error, 2)
	go func() {
		_, err := cal.DueAt(context.Background(), pool, testenv.Start, 3)
		done <- err
	}()
	go func() {
		_, err := cal.Load(context.Background(), pool)
		done <- err
	}()
	for range 2 {
		select {
		case err := <-done:
			if err == nil {
				t.Error("a calendar without working days computed a deadline")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a deadline on a calendar without working days did not return in 5 s")
		}
	}
}
