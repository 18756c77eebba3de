// Package natsbus starts the embedded NATS JetStream server, connects to
// NATS and declares the complaint event stream.
package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the JetStream stream holding every complaint event.
const StreamName = "HELPLINE_COMPLAINTS"

// SubjectPrefix prefixes every complaint event subject: helpline.complaint.<event>.
const SubjectPrefix = "helpline.complaint."

// Subject returns the subject of an event type.
func Subject(eventType string) string { return SubjectPrefix + eventType }

// Embedded starts an in-process NATS server with JetStream storing under
// dir, listening on listen ("host:port"; port 0 picks a free one). With
// syncAlways every write is fsynced before it is acknowledged (survives
// power loss, costs throughput); otherwise JetStream syncs every two minutes
// and a process crash loses nothing, since the OS has the writes. When
// auth.User is set, clients must authenticate as auth.User with
// auth.Password.
func Embedded(listen, dir string, syncAlways bool, auth ClientAuth) (*server.Server, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen address %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("nats listen port %q: %w", portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: "helpline-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		SyncAlways: syncAlways,
		NoSigs:     true,
		NoLog:      true,
		Username:   auth.User,
		Password:   auth.Password,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("embedded nats server did not start")
	}
	return srv, nil
}

// ClientAuth is how a client authenticates to NATS and verifies it. Every
// field is optional.
type ClientAuth struct {
	// CA is a PEM bundle verifying the servers' certificates; it implies TLS.
	CA string
	// Cert and Key are a client certificate and its key (PEM files).
	Cert, Key string
	// NKeyFile holds an nkey seed (SU...) the client signs the server's nonce with.
	NKeyFile string
	// User and Password are user/password credentials.
	User, Password string
}

// Options are the nats.go options for a.
func (a ClientAuth) Options() ([]nats.Option, error) {
	var opts []nats.Option
	if a.CA != "" {
		opts = append(opts, nats.RootCAs(a.CA))
	}
	if a.Cert != "" || a.Key != "" {
		opts = append(opts, nats.ClientCert(a.Cert, a.Key))
	}
	if a.NKeyFile != "" {
		o, err := nats.NkeyOptionFromSeed(a.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats nkey %s: %w", a.NKeyFile, err)
		}
		opts = append(opts, o)
	}
	if a.User != "" {
		opts = append(opts, nats.UserInfo(a.User, a.Password))
	}
	return opts, nil
}

// Connect connects to url, authenticating with auth, and reconnects forever.
func Connect(url, name string, auth ClientAuth, log *slog.Logger) (*nats.Conn, error) {
	authOpts, err := auth.Options()
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(url, append(authOpts,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(-1), // never buffer publishes while disconnected: the outbox keeps them
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: a deliberate close
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("nats error", "err", err) // an authorization violation among them
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("nats reconnected", "url", c.ConnectedUrl())
		}),
	)...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", url, err)
	}
	return nc, nil
}

// StreamOptions tunes the complaint event stream.
type StreamOptions struct {
	// Replicas for a clustered JetStream; 1 for a single server.
	Replicas int
	// MaxAge is how long events are kept in the stream.
	MaxAge time.Duration
	// Duplicates is the deduplication window for Nats-Msg-Id.
	Duplicates time.Duration
}

// EnsureStream creates or updates the complaint event stream, retrying until
// JetStream answers or ctx ends.
func EnsureStream(ctx context.Context, js jetstream.JetStream, o StreamOptions) (jetstream.Stream, error) {
	if o.Replicas < 1 {
		o.Replicas = 1
	}
	cfg := jetstream.StreamConfig{
		Name:       StreamName,
		Subjects:   []string{SubjectPrefix + ">"},
		Storage:    jetstream.FileStorage,
		Replicas:   o.Replicas,
		MaxAge:     o.MaxAge,
		Duplicates: o.Duplicates,
		Retention:  jetstream.LimitsPolicy,
	}
	for {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := js.CreateOrUpdateStream(callCtx, cfg)
		cancel()
		if err == nil {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("create stream %s: %w", StreamName, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
