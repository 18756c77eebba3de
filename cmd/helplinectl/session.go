package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
)

// session is what login keeps: the server and the token.
type session struct {
	Server   string `json:"server"`
	Username string `json:"username"`
	Token    string `json:"token"`
}

func defaultConfigPath() string {
	if p := os.Getenv("HELPLINECTL_CONFIG"); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ".helplinectl.json"
	}
	return filepath.Join(dir, "helplinectl", "config.json")
}

// load reads the saved session, if any. A file others may read is refused:
// the token is as good as a password.
func (c *cli) load() error {
	info, err := os.Stat(c.configPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is readable by others (mode %v): chmod 600 it or log in again", c.configPath, info.Mode().Perm())
	}
	b, err := os.ReadFile(c.configPath)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &c.session); err != nil {
		return fmt.Errorf("%s: %w", c.configPath, err)
	}
	return nil
}

// save writes the session with mode 0600 (its directory 0700), replacing
// the file atomically.
func (c *cli) save() error {
	if err := os.MkdirAll(filepath.Dir(c.configPath), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c.session, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.configPath), ".helplinectl-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.configPath)
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// readSecret reads a password: without echo on a terminal, else one line of stdin.
func (c *cli) readSecret(prompt string) (string, error) {
	if f, ok := c.stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprint(c.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		return string(b), err
	}
	// One buffered reader for every line, so that none is read ahead and lost.
	br, ok := c.stdin.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(c.stdin)
		c.stdin = br
	}
	line, err := br.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (c *cli) login(ctx context.Context, args []string) error {
	fs := c.flags("login", "usage: helplinectl login [-username U]   (the password is asked for, or read from standard input;\n"+
		"after a one-time password, so is the new one, on the next line)")
	username := fs.String("username", "", "user to log in as")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("login: -username is required")
	}
	pw, err := c.readSecret("password for " + *username + ": ")
	if err != nil {
		return err
	}
	resp, err := helplinev1.NewIdentityServiceClient(c.conn).Login(ctx, &helplinev1.LoginRequest{Username: *username, Password: pw})
	if err != nil {
		return err
	}
	token := resp.GetToken()
	if resp.GetPasswordChangeRequired() {
		// A one-time password: its token allows nothing but the change.
		fmt.Fprintln(c.stderr, "this is a one-time password: choose your own now")
		changed, err := c.changePassword(ctx, token, *username, pw)
		if err != nil {
			return err
		}
		token = changed.GetToken()
	}
	c.session = session{Server: c.server, Username: *username, Token: token}
	if err := c.save(); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "logged in to %s as %s (%s); token kept in %s\n", c.server, *username,
		enumName(resp.GetUser().GetRole().String(), "ROLE_"), c.configPath)
	return nil
}

func (c *cli) logout(ctx context.Context) error {
	actx, err := c.authed(ctx)
	if err != nil {
		return err
	}
	if _, err := helplinev1.NewIdentityServiceClient(c.conn).RevokeToken(actx, &helplinev1.RevokeTokenRequest{}); err != nil {
		return err
	}
	if err := os.Remove(c.configPath); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "logged out")
	return nil
}

func (c *cli) whoami(ctx context.Context) error {
	actx, err := c.authed(ctx)
	if err != nil {
		return err
	}
	resp, err := helplinev1.NewIdentityServiceClient(c.conn).WhoAmI(actx, &helplinev1.WhoAmIRequest{})
	if err != nil {
		return err
	}
	u := resp.GetUser()
	fmt.Fprintf(c.stdout, "%s (%s) on %s", u.GetUsername(), enumName(u.GetRole().String(), "ROLE_"), c.server)
	if len(u.GetPosts()) > 0 {
		fmt.Fprintf(c.stdout, ", posts %s", strings.Join(u.GetPosts(), ", "))
	}
	fmt.Fprintf(c.stdout, "; token expires %s\n", resp.GetTokenExpiresAt().AsTime().Format("2006-01-02 15:04 MST"))
	return nil
}
