package testenv

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/password"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/services/identity"
)

// Env is a whole server started for a test, with clients.
type Env struct {
	Pool       *pgxpool.Pool
	Server     *server.Server
	Clock      *clock.Fake
	Conn       *grpc.ClientConn
	Intake     helplinev1.IntakeServiceClient
	Routing    helplinev1.RoutingServiceClient
	Resolution helplinev1.ResolutionServiceClient
	Identity   helplinev1.IdentityServiceClient
	// Admin and Agent are contexts carrying the tokens of the demo users
	// admin and agent1.
	Admin, Agent context.Context

	t      testing.TB
	mu     sync.Mutex
	tokens map[string]string
}

// As returns a context carrying a token of the demo user username (logged
// in once per test).
func (e *Env) As(username string) context.Context {
	e.t.Helper()
	e.mu.Lock()
	tok, ok := e.tokens[username]
	e.mu.Unlock()
	if !ok {
		resp, err := e.Identity.Login(context.Background(), &helplinev1.LoginRequest{Username: username, Password: DemoPassword})
		if err != nil {
			e.t.Fatalf("login %s: %v", username, err)
		}
		tok = resp.GetToken()
		e.mu.Lock()
		e.tokens[username] = tok
		e.mu.Unlock()
	}
	return WithToken(context.Background(), tok)
}

// WithToken returns ctx carrying a bearer token as gRPC metadata.
func WithToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// Start is 10:00 IST on Monday 2 November 2026, the fake clock's start.
var Start = time.Date(2026, 11, 2, 10, 0, 0, 0, clock.IST)

// StartServer runs every service in-process on a seeded database with an
// embedded NATS server and a fake clock.
func StartServer(t testing.TB) *Env { return StartServerWith(t, nil) }

// StartServerWith is StartServer with the server's configuration adjusted
// by opt (for example another notification sender, or fewer services).
func StartServerWith(t testing.TB, opt func(*server.Config)) *Env {
	t.Helper()
	return StartServerLogging(t, opt, Logger(t))
}

// StartServerLogging is StartServerWith with the server's logs written to
// log (a test that reads what the server logs).
func StartServerLogging(t testing.TB, opt func(*server.Config), log *slog.Logger) *Env {
	t.Helper()
	pool := SeededDB(t)
	dir, err := os.MkdirTemp("", "helpline-nats-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	fake := clock.NewFake(Start)
	cfg := server.Config{
		GRPCAddr:    "127.0.0.1:0",
		DatabaseURL: URL(t, pool),
		DBMaxConns:  8,
		NATSListen:  "127.0.0.1:0",
		DataDir:     dir,
		Relay:       true,
		Retention:   24 * time.Hour,
		Calendar:    calendar.Default,
		Clock:       fake,
		Password:    password.Cheap,
		// The escalation job runs often, so tests see it act soon after the fake clock moves.
		JobInterval:     50 * time.Millisecond,
		NotifyRetryBase: 20 * time.Millisecond,
		// Sessions outlive the fake clock's jumps; the login limits are
		// production's (the zero fields take identity.DefaultConfig's).
		Identity: identity.Config{SessionTTL: 365 * 24 * time.Hour},
	}
	if opt != nil {
		opt(&cfg)
	}
	srv, err := server.Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	conn, err := grpc.NewClient(srv.GRPCAddr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	env := &Env{
		Pool: pool, Server: srv, Clock: fake, Conn: conn,
		Intake:     helplinev1.NewIntakeServiceClient(conn),
		Routing:    helplinev1.NewRoutingServiceClient(conn),
		Resolution: helplinev1.NewResolutionServiceClient(conn),
		Identity:   helplinev1.NewIdentityServiceClient(conn),
		t:          t,
		tokens:     map[string]string{},
	}
	env.Admin, env.Agent = env.As("admin"), env.As("agent1")
	return env
}
