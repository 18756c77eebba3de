package identity

import (
	"context"
	"time"

	"github.com/helpline/helpline/internal/clientaddr"
)

// Login throttling. Counters live in PostgreSQL (one table, its SQL in store.go,
// shared by every replica, so another replica is no way around them), keyed
// by the real client address (clientaddr.FromContext) and the username as
// typed, whether or not a user has it, so that unknown usernames get the
// same answers as known ones:
//
//   - one username from one address: MaxPairFailures wrong passwords
//     within Window refuse that pair for Cooloff;
//   - one address over every username: MaxAddressFailures within Window
//     refuse that address for Cooloff;
//   - one username over every address: never a lock. From SlowAfter
//     failures within UsernameWindow on, each wrong-password answer for it
//     waits a little longer (SlowStep more each, at most SlowMax); beyond
//     MaxUsernameFailures, only the addresses that have failed it in that
//     window are refused. A right password from an address that has not
//     failed it is always checked and always accepted.
//
// A refusal is RESOURCE_EXHAUSTED, answered after one query, without the
// hash being checked. Windows are fixed: they begin at a counter's first
// failure, and a failure after the window starts a new one.

// throttleAddress is the real client address the login counters key on
// ("unknown" when no address reached the call).
func throttleAddress(ctx context.Context) string {
	if addr := clientaddr.FromContext(ctx); addr != "" {
		return addr
	}
	return "unknown"
}

// refusal is the end of the cooling-off period a login attempt falls in,
// or the zero time.
func (s *Service) refusal(ctx context.Context, addr, username string, now time.Time) (time.Time, error) {
	c, err := s.store.counters(ctx, addr, username)
	if err != nil {
		return time.Time{}, err
	}
	var until time.Time
	later := func(t *time.Time) {
		if t != nil && now.Before(*t) && t.After(until) {
			until = *t
		}
	}
	if c.pair != nil {
		later(c.pair.lockedUntil)
	}
	if c.address != nil {
		later(c.address.lockedUntil)
	}
	// The username is over its limit, and this address has failed it in
	// the username's window.
	if u := c.username; u != nil && c.pair != nil && u.failures >= s.cfg.MaxUsernameFailures &&
		now.Before(u.windowStart.Add(s.cfg.UsernameWindow)) && !c.pair.lastFailure.Before(u.windowStart) {
		end := u.windowStart.Add(s.cfg.UsernameWindow)
		later(&end)
	}
	return until, nil
}

// slowDown waits before a wrong-password answer for a username that has
// failed usernameFailures times in its window (not at all for the first
// SlowAfter, then SlowStep more for each, at most SlowMax).
func (s *Service) slowDown(ctx context.Context, usernameFailures int) {
	n := usernameFailures - s.cfg.SlowAfter
	if n <= 0 || s.cfg.SlowStep <= 0 {
		return
	}
	d := min(time.Duration(n)*s.cfg.SlowStep, s.cfg.SlowMax)
	s.slowed.Add(1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// purgeBatch bounds the rows one purge statement deletes.
const purgeBatch = 10_000

// Purge deletes the throttle rows no limit needs any more (no failure in
// the longest window, no cooling-off running) and returns how many.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	now := s.clock.Now()
	before := now.Add(-max(s.cfg.UsernameWindow, s.cfg.Window))
	var total int64
	for {
		n, err := s.store.purgeCounters(ctx, before, now, purgeBatch)
		total += n
		if err != nil || n < purgeBatch {
			return total, err
		}
	}
}

// RunPurge purges every interval until ctx ends. Every replica may run it.
func (s *Service) RunPurge(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.Purge(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "purging login throttle rows", "err", err)
			} else if n > 0 {
				s.log.DebugContext(ctx, "login throttle rows purged", "rows", n)
			}
		}
	}
}
