package identity

import (
	"sync"
	"time"
)

// addressThrottle counts failed logins per client address in this process
// and refuses an address for a cooling-off period after too many; it
// complements the per-user lockout kept in PostgreSQL, and catches one
// address trying many usernames.
type addressThrottle struct {
	mu      sync.Mutex
	limit   int
	window  time.Duration
	cooloff time.Duration
	entries map[string]*addressEntry
}

type addressEntry struct {
	windowStart time.Time
	failures    int
	lockedUntil time.Time
}

func newAddressThrottle(limit int, window, cooloff time.Duration) *addressThrottle {
	return &addressThrottle{limit: limit, window: window, cooloff: cooloff, entries: map[string]*addressEntry{}}
}

// lockedUntil returns when addr may try again, or the zero time.
func (a *addressThrottle) lockedUntil(addr string, now time.Time) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e := a.entries[addr]; e != nil && now.Before(e.lockedUntil) {
		return e.lockedUntil
	}
	return time.Time{}
}

// fail records a failure from addr.
func (a *addressThrottle) fail(addr string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.entries) > 100_000 { // bound memory under a distributed attack
		for k, e := range a.entries {
			if now.Sub(e.windowStart) > a.window && now.After(e.lockedUntil) {
				delete(a.entries, k)
			}
		}
	}
	e := a.entries[addr]
	if e == nil || now.Sub(e.windowStart) > a.window {
		e = &addressEntry{windowStart: now}
		a.entries[addr] = e
	}
	e.failures++
	if e.failures >= a.limit {
		e.lockedUntil = now.Add(a.cooloff)
	}
}
