package natsbus_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/helpline/helpline/internal/natsbus"
)

var discard = slog.New(slog.DiscardHandler)

// TestEmbeddedRequiresAuthentication: the embedded server refuses a client
// without credentials or with a wrong password, and serves the configured
// user.
func TestEmbeddedRequiresAuthentication(t *testing.T) {
	auth := natsbus.ClientAuth{User: "helpline", Password: "correct horse"}
	srv, err := natsbus.Embedded("127.0.0.1:0", t.TempDir(), false, auth)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	for _, opts := range [][]nats.Option{nil, {nats.UserInfo("helpline", "wrong")}, {nats.UserInfo("other", "correct horse")}} {
		nc, err := nats.Connect(srv.ClientURL(), append(opts, nats.Timeout(2*time.Second))...)
		if err == nil {
			nc.Close()
			t.Fatal("served a client without the right credentials")
		}
		if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Fatalf("refused, but not for authorization: %v", err)
		}
	}
	nc, err := natsbus.Connect(srv.ClientURL(), "test", auth, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Flush(); err != nil || !nc.IsConnected() {
		t.Fatalf("the configured user was not served: %v", err)
	}
}

// TestConnectWithNKey: ClientAuth.NKeyFile signs in with an nkey seed.
func TestConnectWithNKey(t *testing.T) {
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	seedFile := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
		Nkeys: []*server.NkeyUser{{Nkey: pub}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(5 * time.Second) {
		t.Fatal("not ready")
	}
	if nc, err := nats.Connect(srv.ClientURL(), nats.Timeout(2*time.Second)); err == nil {
		nc.Close()
		t.Fatal("served a client without the nkey")
	}
	nc, err := natsbus.Connect(srv.ClientURL(), "test", natsbus.ClientAuth{NKeyFile: seedFile}, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Flush(); err != nil || !nc.IsConnected() {
		t.Fatalf("the nkey user was not served: %v", err)
	}
	if _, err := (natsbus.ClientAuth{NKeyFile: filepath.Join(t.TempDir(), "none")}).Options(); err == nil {
		t.Error("a missing seed file was accepted")
	}
}
