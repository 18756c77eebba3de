package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
)

// passwordRules is what a new password must be, as the server checks it.
const passwordRules = "10 to 128 characters, not containing the username, not the current password"

// password changes the logged-in user's own password and keeps the fresh
// token the server returns (the change ends every other session).
func (c *cli) password(ctx context.Context, args []string) error {
	fs := c.flags("password", "usage: helplinectl password   (asks for the current and the new password, or reads them\n"+
		"from standard input, one a line; new passwords: "+passwordRules+")")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if c.session.Token == "" {
		return errors.New("not logged in: run helplinectl login first")
	}
	old, err := c.readSecret("current password for " + c.session.Username + ": ")
	if err != nil {
		return err
	}
	resp, err := c.changePassword(ctx, c.session.Token, c.session.Username, old)
	if err != nil {
		return err
	}
	c.session.Token = resp.GetToken()
	if err := c.save(); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "password changed for %s; your other sessions were ended, the new token is kept in %s\n", c.session.Username, c.configPath)
	return nil
}

// changePassword asks for a new password (twice on a terminal) and changes
// it from old with token. A new password the server refuses is asked for
// again, up to three times, on a terminal.
func (c *cli) changePassword(ctx context.Context, token, username, old string) (*helplinev1.ChangePasswordResponse, error) {
	f, ok := c.stdin.(*os.File)
	terminal := ok && isTerminal(f)
	for attempt := 1; ; attempt++ {
		if terminal {
			fmt.Fprintln(c.stderr, "new password: "+passwordRules)
		}
		pw, err := c.readSecret("new password: ")
		if err != nil {
			return nil, err
		}
		if terminal {
			again, err := c.readSecret("new password again: ")
			if err != nil {
				return nil, err
			}
			if again != pw {
				if attempt < 3 {
					fmt.Fprintln(c.stderr, "the two differ; again")
					continue
				}
				return nil, errors.New("the new passwords differ")
			}
		}
		actx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
		resp, err := helplinev1.NewIdentityServiceClient(c.conn).ChangePassword(actx, &helplinev1.ChangePasswordRequest{OldPassword: old, NewPassword: pw})
		if status.Code(err) == codes.InvalidArgument && terminal && attempt < 3 {
			fmt.Fprintln(c.stderr, describe(err))
			continue
		}
		return resp, err
	}
}
