package identity_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/services/identity"
)

// refusedFast checks that a login is refused RESOURCE_EXHAUSTED, saying
// when to try again, without a hash being checked (what makes it fast; its
// time is measured by the deployment rehearsal, not asserted here: these
// machines are noisy).
func (d *direct) refusedFast(t *testing.T, what string, ctx context.Context, username, pw string) {
	t.Helper()
	before := d.hasher.Verifications()
	_, err := d.login(ctx, username, pw)
	st := wantCode(t, what, err, codes.ResourceExhausted)
	if !strings.Contains(st.Message(), "try again") {
		t.Errorf("%s: message %q does not say when to try again", what, st.Message())
	}
	if n := d.hasher.Verifications() - before; n != 0 {
		t.Errorf("%s: %d hashes checked, want none", what, n)
	}
}

// failFrom logs in with a wrong password and wants UNAUTHENTICATED.
func (d *direct) failFrom(t *testing.T, what string, ctx context.Context, username string) {
	t.Helper()
	_, err := d.login(ctx, username, "wrong-password")
	wantCode(t, what, err, codes.Unauthenticated)
}

func TestProductionLimits(t *testing.T) {
	c := identity.DefaultConfig
	if c.MaxPairFailures != 10 || c.Window != time.Minute || c.Cooloff != 5*time.Minute ||
		c.MaxAddressFailures != 300 || c.MaxUsernameFailures != 100 || c.UsernameWindow != time.Hour {
		t.Errorf("DefaultConfig = %+v, want the limits of the README", c)
	}
}

// A username from one address is refused after 10 failures in a minute,
// for 5 minutes; the same username from another address, and another
// username from the same address, are not. Unknown usernames get exactly
// the same answers.
func TestPairCoolsOffAfterTenFailures(t *testing.T) {
	t.Parallel()
	d := newDirect(t, nil, bruteForceConfig)
	for i, username := range []string{"agent1", "no-such-user"} {
		attacker := fromAddr(fmt.Sprintf("203.0.113.%d", 10+i), 5555)
		before := d.hasher.Verifications()
		for n := 1; n <= 10; n++ {
			d.failFrom(t, fmt.Sprintf("%s: failure %d", username, n), attacker, username)
		}
		if got := d.hasher.Verifications() - before; got != 10 {
			t.Fatalf("%s: 10 wrong passwords checked %d hashes, want 10", username, got)
		}
		d.refusedFast(t, username+": 11th attempt", attacker, username, testenv.DemoPassword)
		// Same host, another source port: the same address.
		d.refusedFast(t, username+": from another port", fromAddr(fmt.Sprintf("203.0.113.%d", 10+i), 6666), username, "wrong-again")
	}
	// The cooling-off is the pair's: agent1 from elsewhere, and agent2 from
	// the attacker's address, log in.
	if _, err := d.login(fromAddr("198.51.100.1", 1), "agent1", testenv.DemoPassword); err != nil {
		t.Errorf("agent1 from another address: %v", err)
	}
	if _, err := d.login(fromAddr("203.0.113.10", 5555), "agent2", testenv.DemoPassword); err != nil {
		t.Errorf("agent2 from the address agent1 is refused at: %v", err)
	}

	d.clock.Advance(5*time.Minute - time.Second)
	d.refusedFast(t, "1 s before the cooling-off ends", fromAddr("203.0.113.10", 5555), "agent1", testenv.DemoPassword)
	d.clock.Advance(2 * time.Second)
	if _, err := d.login(fromAddr("203.0.113.10", 5555), "agent1", testenv.DemoPassword); err != nil {
		t.Fatalf("right password after the cooling-off: %v", err)
	}
	// A success forgets the pair's failures: 6 failures, a success and 6
	// more within the minute are not refused.
	ctx := fromAddr("203.0.113.20", 1)
	for n := 1; n <= 6; n++ {
		d.failFrom(t, "failure before a success", ctx, "agent2")
	}
	if _, err := d.login(ctx, "agent2", testenv.DemoPassword); err != nil {
		t.Fatalf("right password after 6 failures: %v", err)
	}
	for n := 1; n <= 6; n++ {
		d.failFrom(t, fmt.Sprintf("failure %d after a success", n), ctx, "agent2")
	}
	if _, err := d.login(ctx, "agent2", testenv.DemoPassword); err != nil {
		t.Errorf("right password after 6 failures, a success and 6 failures: %v", err)
	}
}

func TestFailuresSpreadOverMoreThanTheWindowDoNotLock(t *testing.T) {
	t.Parallel()
	d := newDirect(t, nil, bruteForceConfig)
	ctx := fromAddr("203.0.113.8", 5555)

	for i := 0; i < 9; i++ {
		d.failFrom(t, "early failure", ctx, "agent1")
	}
	d.clock.Advance(61 * time.Second)
	for i := 0; i < 9; i++ {
		d.failFrom(t, "late failure", ctx, "agent1")
	}
	if _, err := d.login(ctx, "agent1", testenv.DemoPassword); err != nil {
		t.Errorf("right password after 9+9 failures 61s apart: %v", err)
	}

	// But failures within one window add up even when time passes between them.
	for i := 0; i < 9; i++ {
		d.failFrom(t, "agent2 failure", ctx, "agent2")
	}
	d.clock.Advance(30 * time.Second)
	d.failFrom(t, "agent2 10th failure, 30s later", ctx, "agent2")
	d.refusedFast(t, "agent2 right password after 10 failures in 30s", ctx, "agent2", testenv.DemoPassword)
}

// One address is refused after 300 failures in a minute over any
// usernames, for 5 minutes; other addresses are not, and no user is.
func TestAddressCoolsOffAfter300Failures(t *testing.T) {
	t.Parallel()
	d := newDirect(t, nil, bruteForceConfig)
	attacker := fromAddr("192.0.2.10", 40001)
	for i := 1; i <= 299; i++ {
		d.failFrom(t, fmt.Sprintf("unknown user %d", i), attacker, fmt.Sprintf("nobody-%d", i))
	}
	// 299: still heard (a right password from it logs in).
	if _, err := d.login(attacker, "admin", testenv.DemoPassword); err != nil {
		t.Fatalf("right password after 299 failures from the address: %v", err)
	}
	d.failFrom(t, "failure 300", attacker, "agent1")
	d.refusedFast(t, "right password from the address after 300 failures", attacker, "admin", testenv.DemoPassword)
	d.refusedFast(t, "another port", fromAddr("192.0.2.10", 40002), "agent2", testenv.DemoPassword)
	d.refusedFast(t, "an unknown username", attacker, "nobody-301", "whatever-password")

	if _, err := d.login(fromAddr("192.0.2.11", 40001), "admin", testenv.DemoPassword); err != nil {
		t.Errorf("admin from another address: %v", err)
	}
	if _, err := d.login(fromAddr("192.0.2.11", 40001), "agent1", testenv.DemoPassword); err != nil {
		t.Errorf("agent1 (failed once from the refused address) from another address: %v", err)
	}
	d.clock.Advance(5*time.Minute + time.Second)
	if _, err := d.login(attacker, "admin", testenv.DemoPassword); err != nil {
		t.Errorf("login from the address after its cooling-off: %v", err)
	}
}

// failConcurrently makes one wrong-password attempt for username from
// each of the addresses, at once (each answer is slowed, so one after
// another would take minutes).
func (d *direct) failConcurrently(t *testing.T, username string, addrs []string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(addrs))
	for i, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = d.login(fromAddr(a, 1000), username, "wrong-password")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		wantCode(t, "failure from "+addrs[i], err, codes.Unauthenticated)
	}
}

func addresses(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s.%d", prefix, i))
	}
	return out
}

// Failures for one username from many addresses slow its wrong-password
// answers and, beyond 100 in an hour, refuse the addresses that failed it;
// a right password from an address that did not is never refused nor
// slowed.
func TestUsernameSlowingNeverRefusesARightPasswordFromACleanAddress(t *testing.T) {
	t.Parallel()
	cfg := bruteForceConfig
	d := newDirect(t, nil, cfg)

	d.failConcurrently(t, "agent1", addresses("10.9.0", 1, 99))
	// 99 failures: an address that failed it is still heard.
	if _, err := d.login(fromAddr("10.9.0.1", 1000), "agent1", testenv.DemoPassword); err != nil {
		t.Fatalf("right password from an address that failed once, after 99 failures: %v", err)
	}
	d.failConcurrently(t, "agent1", addresses("10.9.0", 100, 100))

	// 100: the addresses that failed it this hour are refused...
	d.refusedFast(t, "right password from an address that failed it", fromAddr("10.9.0.2", 1000), "agent1", testenv.DemoPassword)
	d.refusedFast(t, "the 100th address", fromAddr("10.9.0.100", 1000), "agent1", "wrong-password")
	// ...and a right password from a clean address logs in, at once.
	slowed := d.svc.SlowedAnswers()
	if _, err := d.login(fromAddr("198.51.100.77", 1), "agent1", testenv.DemoPassword); err != nil {
		t.Fatalf("right password from a clean address after 100 failures: %v", err)
	}
	if n := d.svc.SlowedAnswers() - slowed; n != 0 {
		t.Errorf("right password from a clean address was slowed (%d): a right password is never slowed", n)
	}
	// A wrong password from a clean address is heard, slowly; then that
	// address is refused too.
	start := time.Now()
	d.failFrom(t, "wrong password from a clean address", fromAddr("198.51.100.78", 1), "agent1")
	if took := time.Since(start); took < cfg.SlowMax {
		t.Errorf("the 101st wrong password was answered after %v, want the slowing's %v", took, cfg.SlowMax)
	}
	d.refusedFast(t, "that address again", fromAddr("198.51.100.78", 1), "agent1", testenv.DemoPassword)
	// Another username is neither slowed nor refused.
	if _, err := d.login(fromAddr("10.9.0.3", 1000), "agent2", testenv.DemoPassword); err != nil {
		t.Errorf("agent2 from an address that failed agent1: %v", err)
	}
	// The username's window ends an hour after its first failure.
	d.clock.Advance(time.Hour)
	if _, err := d.login(fromAddr("10.9.0.2", 1000), "agent1", testenv.DemoPassword); err != nil {
		t.Errorf("right password from an address that failed it, an hour later: %v", err)
	}
}

// Wrong-password answers for a username slow down as its failures grow.
func TestUsernameFailuresSlowWrongPasswords(t *testing.T) {
	t.Parallel()
	cfg := bruteForceConfig
	d := newDirect(t, nil, cfg)
	ctx := fromAddr("203.0.113.50", 1)
	timed := func() time.Duration {
		start := time.Now()
		d.failFrom(t, "wrong password", ctx, "agent2")
		return time.Since(start)
	}
	for i := 1; i <= cfg.SlowAfter; i++ {
		slowed := d.svc.SlowedAnswers()
		timed()
		if d.svc.SlowedAnswers() != slowed {
			t.Errorf("failure %d was slowed: the first %d are not", i, cfg.SlowAfter)
		}
	}
	if took := timed(); took < cfg.SlowStep {
		t.Errorf("failure %d took %v, want at least %v", cfg.SlowAfter+1, took, cfg.SlowStep)
	}
	if took := timed(); took < 2*cfg.SlowStep {
		t.Errorf("failure %d took %v, want at least %v", cfg.SlowAfter+2, took, 2*cfg.SlowStep)
	}
	// The right password is answered at once.
	slowed := d.svc.SlowedAnswers()
	if _, err := d.login(ctx, "agent2", testenv.DemoPassword); err != nil {
		t.Fatal(err)
	}
	if d.svc.SlowedAnswers() != slowed {
		t.Errorf("the right password was slowed: it never is")
	}
}

// Two replicas on one database share the counters.
func TestReplicasShareCounters(t *testing.T) {
	t.Parallel()
	d := newDirect(t, nil, bruteForceConfig)
	other := identity.New(d.pool, d.hasher, d.clock, testenv.Logger(t), bruteForceConfig)
	ctx := fromAddr("203.0.113.60", 1)
	for i := 1; i <= 5; i++ {
		d.failFrom(t, "failure on replica 1", ctx, "agent1")
		_, err := other.Login(ctx, loginReq("agent1", "wrong-password"))
		wantCode(t, "failure on replica 2", err, codes.Unauthenticated)
	}
	d.refusedFast(t, "replica 1 after 5+5 failures", ctx, "agent1", testenv.DemoPassword)
	_, err := other.Login(ctx, loginReq("agent1", testenv.DemoPassword))
	wantCode(t, "replica 2 after 5+5 failures", err, codes.ResourceExhausted)
}

// The purge deletes the rows no limit needs, and only those.
func TestThrottlePurge(t *testing.T) {
	t.Parallel()
	d := newDirect(t, nil, bruteForceConfig)
	rows := func() int {
		var n int
		if err := d.pool.QueryRow(context.Background(), `SELECT count(*) FROM login_throttle`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 1; i <= 10; i++ {
		d.failFrom(t, "failure", fromAddr("203.0.113.70", 1), "agent1")
	}
	d.failFrom(t, "failure", fromAddr("203.0.113.71", 1), "agent2")
	if n := rows(); n != 6 {
		t.Fatalf("%d rows after failures of two pairs, want 6", n)
	}
	d.clock.Advance(59 * time.Minute)
	if n, err := d.svc.Purge(context.Background()); err != nil || n != 0 {
		t.Fatalf("purge within the username window: %d, %v; want 0", n, err)
	}
	d.clock.Advance(2 * time.Minute)
	if n, err := d.svc.Purge(context.Background()); err != nil || n != 6 {
		t.Fatalf("purge after every window: %d, %v; want 6", n, err)
	}
	if n := rows(); n != 0 {
		t.Errorf("%d rows left", n)
	}
}

func loginReq(username, pw string) *helplinev1.LoginRequest {
	return &helplinev1.LoginRequest{Username: username, Password: pw}
}

// TestOnlyTheStoreWritesLoginThrottle: the table has one owner and one
// place with its SQL.
func TestOnlyTheStoreWritesLoginThrottle(t *testing.T) {
	root := filepath.Join("..", "..")
	var found []string
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && strings.HasPrefix(e.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "login_throttle") {
			found = append(found, filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"../../services/identity/store.go"}; !slices.Equal(found, want) {
		t.Errorf("files with login_throttle SQL: %v, want %v", found, want)
	}
}
