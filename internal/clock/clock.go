// Package clock is the one source of time for the domain: every time stored
// or compared by a service comes from a Clock, never from SQL now().
package clock

import (
	"sync"
	"time"
)

// IST is India Standard Time, in which days, deadlines and statistics are counted.
var IST = time.FixedZone("IST", 5*60*60+30*60)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Real is the wall clock.
type Real struct{}

// Now returns the current time, truncated to microseconds as PostgreSQL stores it.
func (Real) Now() time.Time { return time.Now().Truncate(time.Microsecond) }

// Fake is a settable clock for tests.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a fake clock reading t.
func NewFake(t time.Time) *Fake { return &Fake{now: t.Truncate(time.Microsecond)} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set moves the fake clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t.Truncate(time.Microsecond)
	f.mu.Unlock()
}

// Advance moves the fake clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}
