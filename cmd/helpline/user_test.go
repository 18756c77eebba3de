package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpline/helpline/internal/auth"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/password"
	"github.com/helpline/helpline/internal/testenv"
)

// The `helpline user` tests drive run, the binary's own entry point,
// against a fresh seeded database. They set HELPLINE_NEW_PASSWORD with
// t.Setenv, so they cannot run in parallel.

const userTestPassword = "ops-one-password-2026"

// userDB returns a fresh seeded database and its URL, with the new-user
// password in the environment.
func userDB(t *testing.T) (*pgxpool.Pool, string) {
	t.Helper()
	pool := testenv.SeededDB(t)
	t.Setenv("HELPLINE_NEW_PASSWORD", userTestPassword)
	t.Setenv("HELPLINE_LOG_LEVEL", "warn")
	return pool, testenv.URL(t, pool)
}

// runUser runs `helpline user <args...> -database-url url` and returns its output.
func runUser(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	all := append([]string{"user", args[0], "-database-url", url}, args[1:]...)
	err := run(context.Background(), all, &out)
	return out.String(), err
}

func mustRunUser(t *testing.T, url string, args ...string) string {
	t.Helper()
	out, err := runUser(t, url, args...)
	if err != nil {
		t.Fatalf("helpline user %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func userPasswordHash(t *testing.T, pool *pgxpool.Pool, username string) string {
	t.Helper()
	var h string
	if err := pool.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE username = $1`, username).Scan(&h); err != nil {
		t.Fatalf("password hash of %s: %v", username, err)
	}
	return h
}

func TestUserCreateIssueTokenDisable(t *testing.T) {
	pool, url := userDB(t)
	ctx := context.Background()

	out := mustRunUser(t, url, "create", "-username", "ops1", "-role", "supervisor", "-name", "Ops One")
	if !strings.Contains(out, "created ops1") {
		t.Errorf("create printed %q", out)
	}
	var role, name string
	var disabled, oneTime bool
	if err := pool.QueryRow(ctx, `SELECT role, display_name, disabled_at IS NOT NULL, password_change_required FROM users WHERE username = 'ops1'`).
		Scan(&role, &name, &disabled, &oneTime); err != nil {
		t.Fatalf("users row of ops1: %v", err)
	}
	// The operator chose the password on the server: not a one-time password.
	if role != "SUPERVISOR" || name != "Ops One" || disabled || oneTime {
		t.Errorf("ops1: role %q, name %q, disabled %v, one-time password %v; want SUPERVISOR, Ops One, false, false", role, name, disabled, oneTime)
	}
	hash := userPasswordHash(t, pool, "ops1")
	if !strings.HasPrefix(hash, "$argon2id$") {
		t.Fatalf("ops1 password_hash = %.30q, want argon2id", hash)
	}
	if strings.Contains(hash, userTestPassword) {
		t.Fatal("the password is stored in clear")
	}
	ok, err := password.NewHasher(password.Cheap, 1).Verify(ctx, hash, userTestPassword)
	if err != nil || !ok {
		t.Errorf("ops1's hash does not verify HELPLINE_NEW_PASSWORD: %v %v", ok, err)
	}

	// Creating the same user again is refused.
	if _, err := runUser(t, url, "create", "-username", "ops1", "-role", "agent"); err == nil || !strings.Contains(err.Error(), "AlreadyExists") {
		t.Errorf("create of an existing user: err = %v, want AlreadyExists", err)
	}

	out = mustRunUser(t, url, "issue-token", "-username", "ops1", "-name", "cli-test", "-ttl", "1h")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := strings.TrimSpace(lines[len(lines)-1])
	if !strings.HasPrefix(token, "hl_") {
		t.Fatalf("issue-token printed %q: last line is not a token", out)
	}
	var kind, tokName, owner string
	var created, expires time.Time
	err = pool.QueryRow(ctx, `SELECT t.kind, t.name, u.username, t.created_at, t.expires_at FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1`,
		auth.HashToken(token)).Scan(&kind, &tokName, &owner, &created, &expires)
	if err != nil {
		t.Fatalf("no tokens row with the SHA-256 of the printed token: %v", err)
	}
	if kind != "API" || tokName != "cli-test" || owner != "ops1" {
		t.Errorf("token row: kind %q name %q owner %q, want API cli-test ops1", kind, tokName, owner)
	}
	if d := expires.Sub(created); d != time.Hour {
		t.Errorf("token lifetime %v, want 1h", d)
	}
	authn := auth.NewAuthenticator(pool, clock.Real{}, testenv.Logger(t))
	c, err := authn.Lookup(ctx, token)
	if err != nil || c.Username != "ops1" || c.Role != "SUPERVISOR" {
		t.Fatalf("Lookup of the printed token: %+v, %v", c, err)
	}

	out = mustRunUser(t, url, "disable", "-username", "ops1")
	if !strings.Contains(out, "disabled ops1") {
		t.Errorf("disable printed %q", out)
	}
	if err := pool.QueryRow(ctx, `SELECT disabled_at IS NOT NULL FROM users WHERE username = 'ops1'`).Scan(&disabled); err != nil {
		t.Fatal(err)
	}
	if !disabled {
		t.Error("disable did not set users.disabled_at")
	}
	if _, err := authn.Lookup(ctx, token); err == nil {
		t.Error("the token of a disabled user still resolves")
	}
	// No new token for a disabled user.
	if _, err := runUser(t, url, "issue-token", "-username", "ops1", "-name", "again"); err == nil || !strings.Contains(err.Error(), "FailedPrecondition") {
		t.Errorf("issue-token for a disabled user: err = %v, want FailedPrecondition", err)
	}
	if _, err := runUser(t, url, "disable", "-username", "nobody"); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Errorf("disable of an unknown user: err = %v, want NotFound", err)
	}
}

func TestUserResetPassword(t *testing.T) {
	pool, url := userDB(t)
	ctx := context.Background()

	// agent2 has a live session and a machine token.
	var id int64
	if err := pool.QueryRow(ctx, `SELECT id FROM users WHERE username = 'agent2'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	session, sessionHash := auth.NewToken()
	now := time.Now()
	if _, err := pool.Exec(ctx, `INSERT INTO tokens (user_id, hash, kind, name, created_at, expires_at) VALUES ($1, $2, 'SESSION', 'login', $3, $4)`,
		id, sessionHash, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	authn := auth.NewAuthenticator(pool, clock.Real{}, testenv.Logger(t))
	if _, err := authn.Lookup(ctx, session); err != nil {
		t.Fatalf("session before reset: %v", err)
	}

	before := userPasswordHash(t, pool, "agent2")
	out := mustRunUser(t, url, "reset-password", "-username", "agent2")
	if !strings.Contains(out, "agent2") {
		t.Errorf("reset-password printed %q", out)
	}
	after := userPasswordHash(t, pool, "agent2")
	if after == before {
		t.Fatal("reset-password did not change password_hash")
	}
	h := password.NewHasher(password.Cheap, 1)
	if ok, err := h.Verify(ctx, after, userTestPassword); err != nil || !ok {
		t.Errorf("new hash does not verify HELPLINE_NEW_PASSWORD: %v %v", ok, err)
	}
	if ok, _ := h.Verify(ctx, after, testenv.DemoPassword); ok {
		t.Error("new hash still verifies the old password")
	}
	if _, err := authn.Lookup(ctx, session); err == nil {
		t.Error("agent2's session still works after reset-password")
	}
	var oneTime bool
	if err := pool.QueryRow(ctx, `SELECT password_change_required FROM users WHERE username = 'agent2'`).Scan(&oneTime); err != nil || oneTime {
		t.Errorf("after the operator's reset-password, a one-time password (%v, %v): the operator chose it", oneTime, err)
	}
	// Other users are untouched.
	if got := userPasswordHash(t, pool, "agent1"); got != before {
		t.Errorf("agent1's hash changed (seeded users share one hash): %q", got)
	}

	// A short password is refused and changes nothing.
	t.Setenv("HELPLINE_NEW_PASSWORD", "short")
	_, err := runUser(t, url, "reset-password", "-username", "agent2")
	if err == nil || !strings.Contains(err.Error(), "InvalidArgument") || !strings.Contains(err.Error(), "new_password") {
		t.Errorf("reset-password to a short password: err = %v, want InvalidArgument naming new_password", err)
	}
	if got := userPasswordHash(t, pool, "agent2"); got != after {
		t.Error("a refused reset-password changed password_hash")
	}
}

func TestUserCommandErrors(t *testing.T) {
	pool, url := userDB(t)
	ctx := context.Background()

	out, err := runUser(t, url, "frobnicate", "-username", "ops1")
	if err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("unknown subcommand: err = %v, want an error naming it", err)
	}
	if !strings.Contains(out, "usage: helpline user") {
		t.Errorf("unknown subcommand printed %q, want the usage", out)
	}
	var buf bytes.Buffer
	if err := run(ctx, []string{"user"}, &buf); err == nil {
		t.Error("`helpline user` without a subcommand succeeded")
	}

	_, err = runUser(t, url, "create", "-username", "ops2", "-role", "wizard", "-name", "Ops Two")
	if err == nil || !strings.Contains(err.Error(), "InvalidArgument") || !strings.Contains(err.Error(), "role") {
		t.Errorf("create with a bad role: err = %v, want InvalidArgument naming role", err)
	}
	_, err = runUser(t, url, "create", "-username", "Ops2", "-role", "agent")
	if err == nil || !strings.Contains(err.Error(), "InvalidArgument") || !strings.Contains(err.Error(), "username") {
		t.Errorf("create with an upper-case username: err = %v, want InvalidArgument naming username", err)
	}
	t.Setenv("HELPLINE_NEW_PASSWORD", "12345")
	_, err = runUser(t, url, "create", "-username", "ops2", "-role", "agent")
	if err == nil || !strings.Contains(err.Error(), "InvalidArgument") || !strings.Contains(err.Error(), "password") {
		t.Errorf("create with a 5-character password: err = %v, want InvalidArgument naming password", err)
	}
	var count int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE lower(username) = 'ops2'`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != 0 {
		t.Errorf("refused creates stored %d users", count)
	}
}
