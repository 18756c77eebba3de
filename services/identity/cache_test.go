package identity_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/auth"
	"github.com/helpline/helpline/internal/testenv"
)

// TestCachedTokensDieWhenAnotherProcessChangesThem changes tokens, users
// and posts behind the server's back, as another process (a replica, the
// helpline CLI) would, and checks that the server stops using what it
// cached within moments: the database notifies every process.
func TestCachedTokensDieWhenAnotherProcessChangesThem(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := env.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	dead := func(what, token string) {
		t.Helper()
		testenv.Eventually(t, 5*time.Second, what, func() bool {
			_, err := env.Identity.WhoAmI(testenv.WithToken(ctx, token), &helplinev1.WhoAmIRequest{})
			return status.Code(err) == codes.Unauthenticated
		})
	}

	// The cache answers: with the trigger off, a revocation goes unseen
	// until a notification arrives.
	tok := loginToken(t, env, "agent1")
	whoAmI(t, env, tok)
	exec(`ALTER TABLE tokens DISABLE TRIGGER tokens_auth_changed`)
	exec(`UPDATE tokens SET revoked_at = $2 WHERE hash = $1`, auth.HashToken(tok), env.Clock.Now())
	exec(`ALTER TABLE tokens ENABLE TRIGGER tokens_auth_changed`)
	whoAmI(t, env, tok) // still cached: no database read
	exec(`SELECT pg_notify('helpline_auth', 'test')`)
	dead("a cached token after a notification", tok)

	// A revoked token.
	tok = loginToken(t, env, "agent1")
	whoAmI(t, env, tok) // cached now
	exec(`UPDATE tokens SET revoked_at = $2 WHERE hash = $1`, auth.HashToken(tok), env.Clock.Now())
	dead("a token revoked in another process", tok)

	// A disabled user.
	tok = loginToken(t, env, "agent2")
	whoAmI(t, env, tok)
	exec(`UPDATE users SET disabled_at = $2 WHERE username = $1`, "agent2", env.Clock.Now())
	dead("a user disabled in another process", tok)

	// A post given to someone else: the officer's cached posts change.
	tok = loginToken(t, env, "pwd-shimla-l1")
	if got := whoAmI(t, env, tok).GetUser().GetPosts(); len(got) != 1 {
		t.Fatalf("pwd-shimla-l1 holds %v, want one post", got)
	}
	exec(`UPDATE posts SET holder_user_id = NULL WHERE code = 'PWD-SHIMLA-L1'`)
	testenv.Eventually(t, 5*time.Second, "a post handed over in another process", func() bool {
		return len(whoAmI(t, env, tok).GetUser().GetPosts()) == 0
	})
}
