package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/helpline/helpline/internal/natsbus"
)

// NATS is an in-process NATS JetStream server that a test can stop and
// start again on the same port and store.
type NATS struct {
	t      testing.TB
	dir    string
	listen string
	Server *natsserver.Server
	URL    string
}

// StartNATS starts an embedded NATS server on a free loopback port.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	dir, err := os.MkdirTemp("", "helpline-nats-")
	if err != nil {
		t.Fatal(err)
	}
	n := &NATS{t: t, dir: dir, listen: "127.0.0.1:0"}
	n.Start()
	n.listen = n.Server.Addr().String()
	t.Cleanup(func() {
		n.Stop()
		_ = os.RemoveAll(dir)
	})
	return n
}

// Start (re)starts the server on its port and store.
func (n *NATS) Start() {
	n.t.Helper()
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after a stop
		if n.Server, err = natsbus.Embedded(n.listen, n.dir, false, natsbus.ClientAuth{}); err == nil {
			n.URL = n.Server.ClientURL()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	n.t.Fatalf("start nats: %v", err)
}

// Stop shuts the server down.
func (n *NATS) Stop() {
	if n.Server != nil {
		n.Server.Shutdown()
		n.Server.WaitForShutdown()
		n.Server = nil
	}
}

// Connect returns a JetStream client on n with the complaint stream in place.
func (n *NATS) Connect(t testing.TB) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := natsbus.Connect(n.URL, t.Name(), natsbus.ClientAuth{}, Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := natsbus.EnsureStream(ctx, js, natsbus.StreamOptions{Duplicates: time.Hour}); err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// Messages reads every message in the complaint stream (subject and Nats-Msg-Id).
func Messages(t testing.TB, js jetstream.JetStream) []jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, natsbus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		out = append(out, *m)
	}
	return out
}

// Eventually polls cond until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
