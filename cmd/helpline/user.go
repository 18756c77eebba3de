package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/password"
	"github.com/helpline/helpline/services/identity"
)

const userUsage = `usage: helpline user <create|disable|reset-password|issue-token> [flags]

  create          -username U -role agent|officer|supervisor|admin [-name N]   (password from HELPLINE_NEW_PASSWORD or stdin)
  disable         -username U
  reset-password  -username U                                               (password from HELPLINE_NEW_PASSWORD or stdin)
  issue-token     -username U -name "whatsapp-bot" [-ttl 2160h] [-scope full|open311]`

// userCommand administers users directly against the database, through the
// IdentityService's own handlers and checks, acting as the operator.
func userCommand(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprintln(stdout, userUsage)
		return errors.New("no user command given")
	}
	var c config
	fs := flag.NewFlagSet("helpline user "+args[0], flag.ContinueOnError)
	c.flags(fs)
	username := fs.String("username", "", "user name")
	role := fs.String("role", "", "agent, officer, supervisor or admin (create)")
	name := fs.String("name", "", "display name (create) or token purpose (issue-token)")
	ttl := fs.Duration("ttl", 90*24*time.Hour, "token lifetime (issue-token)")
	scope := fs.String("scope", "full", "what the token opens (issue-token): full, or open311 (an Open311 application's api_key)")
	if err := c.parseArgs(fs, args[1:]); err != nil {
		return err
	}
	pool, err := db.Open(ctx, c.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := identity.New(pool, password.NewHasher(password.Default, 1), clock.Real{}, log, identity.DefaultConfig)
	// The operator on the server chose the password: not a one-time password.
	op := identity.OperatorChosen(caller.With(ctx, caller.Caller{Username: "operator:" + osUser(), Role: caller.Admin}))
	readPassword := func() (string, error) {
		if pw := os.Getenv("HELPLINE_NEW_PASSWORD"); pw != "" {
			return pw, nil
		}
		b, err := io.ReadAll(io.LimitReader(stdin, 4096))
		return strings.TrimRight(string(b), "\r\n"), err
	}
	var out string
	switch args[0] {
	case "create":
		pw, err := readPassword()
		if err != nil {
			return err
		}
		r := helplinev1.Role(helplinev1.Role_value["ROLE_"+strings.ToUpper(*role)])
		resp, err := svc.CreateUser(op, &helplinev1.CreateUserRequest{Username: *username, DisplayName: *name, Role: r, Password: pw})
		if err != nil {
			return describe(err)
		}
		out = fmt.Sprintf("created %s (%s)", resp.GetUser().GetUsername(), resp.GetUser().GetRole())
	case "disable":
		if _, err := svc.DisableUser(op, &helplinev1.DisableUserRequest{Username: *username}); err != nil {
			return describe(err)
		}
		out = "disabled " + *username + "; their tokens no longer work"
	case "reset-password":
		pw, err := readPassword()
		if err != nil {
			return err
		}
		if _, err := svc.ResetPassword(op, &helplinev1.ResetPasswordRequest{Username: *username, NewPassword: pw}); err != nil {
			return describe(err)
		}
		out = "password reset for " + *username + "; their sessions were ended"
	case "issue-token":
		sc, ok := map[string]helplinev1.TokenScope{"full": helplinev1.TokenScope_TOKEN_SCOPE_FULL, "open311": helplinev1.TokenScope_TOKEN_SCOPE_OPEN311}[*scope]
		if !ok {
			return fmt.Errorf("issue-token: -scope must be full or open311")
		}
		resp, err := svc.IssueToken(op, &helplinev1.IssueTokenRequest{Username: *username, Name: *name, Ttl: durationpb.New(*ttl), Scope: sc})
		if err != nil {
			return describe(err)
		}
		out = fmt.Sprintf("token %s for %s, expires %s (shown once):\n%s", resp.GetTokenId(), *username,
			resp.GetExpiresAt().AsTime().In(clock.IST).Format(time.RFC3339), resp.GetToken())
	default:
		fmt.Fprintln(stdout, userUsage)
		return fmt.Errorf("unknown user command %q", args[0])
	}
	fmt.Fprintln(stdout, out)
	return nil
}

// describe turns a service error into the message an operator should read.
// Operators see the details of unexpected errors.
func describe(err error) error {
	st, unexpected := apperr.ToStatus(err)
	if unexpected {
		return err
	}
	return fmt.Errorf("%s: %s", st.Code(), st.Message())
}

func osUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}
