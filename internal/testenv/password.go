package testenv

import (
	"context"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
)

// ChosenPassword is the password FirstLogin chooses in place of a
// one-time password.
const ChosenPassword = "a-password-of-my-own"

// FirstLogin is a user's first login with the one-time password oneTime
// that an administrator (CreateUser, ResetPassword) or an officer import
// gave them: it checks that the login requires a change, changes the
// password to ChosenPassword and returns the new token, which has the
// user's full access.
func (e *Env) FirstLogin(username, oneTime string) string {
	e.t.Helper()
	ctx := context.Background()
	resp, err := e.Identity.Login(ctx, &helplinev1.LoginRequest{Username: username, Password: oneTime})
	if err != nil {
		e.t.Fatalf("first login of %s: %v", username, err)
	}
	if !resp.GetPasswordChangeRequired() {
		e.t.Fatalf("first login of %s with a one-time password: no password change required", username)
	}
	changed, err := e.Identity.ChangePassword(WithToken(ctx, resp.GetToken()),
		&helplinev1.ChangePasswordRequest{OldPassword: oneTime, NewPassword: ChosenPassword})
	if err != nil {
		e.t.Fatalf("%s changing the one-time password: %v", username, err)
	}
	return changed.GetToken()
}
