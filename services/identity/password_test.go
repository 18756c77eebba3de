package identity_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// rest calls the REST gateway with a bearer token and returns the status
// and the decoded body.
func rest(t *testing.T, env *testenv.Env, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+env.Server.HTTPAddr.String()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

// wantChangeRequired checks that err is the refusal of a restricted token.
func wantChangeRequired(t *testing.T, what string, err error) {
	t.Helper()
	st := wantCode(t, what, err, codes.PermissionDenied)
	if st.Message() != "password change required" {
		t.Errorf("%s: message %q", what, st.Message())
	}
}

// TestFirstLoginMustChangeThePassword: a user an administrator created
// logs in with the one-time password; the token allows only
// ChangePassword, over gRPC and REST; after the change the new token has
// the role's full access, the restricted one is dead, and the next login
// needs no change.
func TestFirstLoginMustChangeThePassword(t *testing.T) {
	t.Parallel()
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	const oneTime = "handed-over-on-paper"
	if _, err := env.Identity.CreateUser(env.Admin, &helplinev1.CreateUserRequest{Username: "new-agent", Role: helplinev1.Role_ROLE_AGENT, Password: oneTime}); err != nil {
		t.Fatal(err)
	}
	first := login(t, env, "new-agent", oneTime)
	if !first.GetPasswordChangeRequired() {
		t.Fatal("the first login with a one-time password does not require a change")
	}
	limited := testenv.WithToken(context.Background(), first.GetToken())

	// Every other RPC is refused, whatever the role allows.
	_, err := env.Identity.WhoAmI(limited, &helplinev1.WhoAmIRequest{})
	wantChangeRequired(t, "WhoAmI", err)
	_, err = env.Intake.RegisterComplaint(limited, &helplinev1.RegisterComplaintRequest{IdempotencyKey: "k"})
	wantChangeRequired(t, "RegisterComplaint", err)
	_, err = env.Routing.ListDistricts(limited, &helplinev1.ListDistrictsRequest{})
	wantChangeRequired(t, "ListDistricts", err)
	_, err = env.Identity.RevokeToken(limited, &helplinev1.RevokeTokenRequest{})
	wantChangeRequired(t, "RevokeToken", err)
	_, err = env.Identity.CreateUser(limited, &helplinev1.CreateUserRequest{Username: "x"})
	wantChangeRequired(t, "CreateUser (not the role's either)", err)
	for _, p := range []string{"/v1/whoami", "/v1/districts", "/v1/complaints?phone=9816012345"} {
		code, body := rest(t, env, "GET", p, first.GetToken(), "")
		if code != http.StatusForbidden || body["message"] != "password change required" {
			t.Errorf("REST GET %s with the restricted token: %d %v", p, code, body)
		}
	}

	// The change, over REST; a bad new password first, naming the field.
	code, body := rest(t, env, "POST", "/v1/password", first.GetToken(), `{"oldPassword": "handed-over-on-paper", "newPassword": "short"}`)
	if code != http.StatusBadRequest || !strings.HasPrefix(body["message"].(string), "new_password:") {
		t.Errorf("REST change to a short password: %d %v", code, body)
	}
	code, body = rest(t, env, "POST", "/v1/password", first.GetToken(), `{"oldPassword": "handed-over-on-paper", "newPassword": "my own secret words"}`)
	if code != http.StatusOK {
		t.Fatalf("REST ChangePassword: %d %v", code, body)
	}
	fresh, _ := body["token"].(string)
	if user, _ := body["user"].(map[string]any); fresh == "" || user["username"] != "new-agent" || body["expiresAt"] == nil {
		t.Fatalf("ChangePassword answered %v", body)
	}
	wantTokenDead(t, env, "the restricted token after the change", first.GetToken())
	if got := whoAmI(t, env, fresh).GetUser().GetUsername(); got != "new-agent" {
		t.Errorf("WhoAmI with the new token: %q", got)
	}
	if code, body := rest(t, env, "GET", "/v1/whoami", fresh, ""); code != http.StatusOK {
		t.Errorf("REST WhoAmI with the new token: %d %v", code, body)
	}
	if _, err := env.Intake.SearchComplaints(testenv.WithToken(context.Background(), fresh), &helplinev1.SearchComplaintsRequest{Phone: "9816012345"}); err != nil {
		t.Errorf("an agent's RPC with the new token: %v", err)
	}
	_, err = env.Identity.Login(context.Background(), &helplinev1.LoginRequest{Username: "new-agent", Password: oneTime})
	wantCode(t, "login with the one-time password after the change", err, codes.Unauthenticated)
	if again := login(t, env, "new-agent", "my own secret words"); again.GetPasswordChangeRequired() {
		t.Error("the login after the change still requires one")
	}

	// An administrator's reset makes it a one-time password again.
	if _, err := env.Identity.ResetPassword(env.Admin, &helplinev1.ResetPasswordRequest{Username: "new-agent", NewPassword: "reset-by-the-admin"}); err != nil {
		t.Fatal(err)
	}
	if !login(t, env, "new-agent", "reset-by-the-admin").GetPasswordChangeRequired() {
		t.Error("a login after an administrator's reset does not require a change")
	}
	// The helper every other test uses for such users.
	if _, err := env.Identity.WhoAmI(testenv.WithToken(context.Background(), env.FirstLogin("new-agent", "reset-by-the-admin")), &helplinev1.WhoAmIRequest{}); err != nil {
		t.Errorf("after FirstLogin: %v", err)
	}
}

// TestChangePasswordRules: each bad new password is refused naming the
// field, and changes nothing; a new password of 10 code points (30 bytes
// of Devanagari) is fine.
func TestChangePasswordRules(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	first := login(t, env, "agent2", testenv.DemoPassword)
	if first.GetPasswordChangeRequired() {
		t.Fatal("a demo user's login requires a password change")
	}
	ctx := testenv.WithToken(context.Background(), first.GetToken())
	for _, tc := range []struct {
		name, old, new, field string
	}{
		{"no old password", "", "a-good-new-password", "old_password"},
		{"9 characters", testenv.DemoPassword, "123456789", "new_password"},
		{"129 characters", testenv.DemoPassword, strings.Repeat("पा", 64) + "x", "new_password"},
		{"the username", testenv.DemoPassword, "agent2agent2", "new_password"},
		{"containing the username", testenv.DemoPassword, "my-agent2-password", "new_password"},
		{"containing it in capitals", testenv.DemoPassword, "AGENT2 is my name", "new_password"},
		{"the same as the old", testenv.DemoPassword, testenv.DemoPassword, "new_password"},
	} {
		_, err := env.Identity.ChangePassword(ctx, &helplinev1.ChangePasswordRequest{OldPassword: tc.old, NewPassword: tc.new})
		wantField(t, tc.name, wantCode(t, tc.name, err, codes.InvalidArgument), tc.field)
	}
	// A wrong old password: UNAUTHENTICATED, naming the field.
	_, err := env.Identity.ChangePassword(ctx, &helplinev1.ChangePasswordRequest{OldPassword: "not-my-password", NewPassword: "a-good-new-password"})
	st := wantCode(t, "wrong old password", err, codes.Unauthenticated)
	if br := badRequestFields(st); len(br) != 1 || br[0] != "old_password" {
		t.Errorf("wrong old password: field violations %v", br)
	}
	// Nothing changed: the session and the password still work.
	whoAmI(t, env, first.GetToken())
	login(t, env, "agent2", testenv.DemoPassword)

	const hindi = "पासवर्ड१२३" // 10 code points, 30 bytes
	resp, err := env.Identity.ChangePassword(ctx, &helplinev1.ChangePasswordRequest{OldPassword: testenv.DemoPassword, NewPassword: hindi})
	if err != nil {
		t.Fatalf("a 10-code-point password: %v", err)
	}
	if resp.GetUser().GetUsername() != "agent2" || resp.GetExpiresAt() == nil {
		t.Errorf("ChangePassword answered %v", resp)
	}
	login(t, env, "agent2", hindi)
}

func badRequestFields(st *status.Status) []string {
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

// TestChangePasswordEndsOtherSessions: every session of the user ends (the
// one the change was made with too), API tokens and other users' sessions
// are kept, and the returned token works.
func TestChangePasswordEndsOtherSessions(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	a := loginToken(t, env, "agent2")
	b := loginToken(t, env, "agent2")
	api := issue(t, env, "agent2", "bot").GetToken()
	resp, err := env.Identity.ChangePassword(testenv.WithToken(context.Background(), a),
		&helplinev1.ChangePasswordRequest{OldPassword: testenv.DemoPassword, NewPassword: "a-fresh-password"})
	if err != nil {
		t.Fatal(err)
	}
	wantTokenDead(t, env, "the session the change was made with", a)
	wantTokenDead(t, env, "another session of the user", b)
	whoAmI(t, env, api)
	whoAmI(t, env, resp.GetToken())
	if _, err := env.Identity.WhoAmI(env.Agent, &helplinev1.WhoAmIRequest{}); err != nil {
		t.Errorf("another user's session: %v", err)
	}
	var sessions, live int
	if err := env.Pool.QueryRow(context.Background(), `
		SELECT count(*), count(*) FILTER (WHERE revoked_at IS NULL) FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE u.username = 'agent2' AND t.kind = 'SESSION'`).Scan(&sessions, &live); err != nil {
		t.Fatal(err)
	}
	if sessions != 3 || live != 1 {
		t.Errorf("agent2 has %d sessions, %d live; want 3 and 1", sessions, live)
	}
}

// TestWrongOldPasswordCountsAsAFailedLogin: wrong old passwords are
// counted with failed logins: after the limit (10 a minute in tests, as in
// production) the user's login from this address is refused too.
func TestWrongOldPasswordCountsAsAFailedLogin(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := testenv.WithToken(context.Background(), loginToken(t, env, "agent2"))
	for i := range 10 {
		_, err := env.Identity.ChangePassword(ctx, &helplinev1.ChangePasswordRequest{OldPassword: "guess-" + string(rune('a'+i)), NewPassword: "a-good-new-password"})
		wantCode(t, "wrong old password", err, codes.Unauthenticated)
	}
	_, err := env.Identity.ChangePassword(ctx, &helplinev1.ChangePasswordRequest{OldPassword: testenv.DemoPassword, NewPassword: "a-good-new-password"})
	wantCode(t, "the right old password after 10 wrong ones", err, codes.ResourceExhausted)
	_, err = env.Identity.Login(context.Background(), &helplinev1.LoginRequest{Username: "agent2", Password: testenv.DemoPassword})
	wantCode(t, "login after 10 wrong old passwords", err, codes.ResourceExhausted)
}
