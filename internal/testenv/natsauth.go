package testenv

import (
	"os"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/helpline/helpline/internal/natsbus"
)

// NATSAuth is how another client authenticates to the server's embedded
// NATS: its user and the generated password from its file.
func (e *Env) NATSAuth() natsbus.ClientAuth {
	e.t.Helper()
	b, err := os.ReadFile(e.Server.NATSPasswordFile)
	if err != nil {
		e.t.Fatalf("the embedded NATS's password: %v", err)
	}
	return natsbus.ClientAuth{User: e.Server.NATSUser, Password: strings.TrimSpace(string(b))}
}

// NATSUserInfo is NATSAuth as a nats.go option.
func (e *Env) NATSUserInfo() nats.Option {
	a := e.NATSAuth()
	return nats.UserInfo(a.User, a.Password)
}
