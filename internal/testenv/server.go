package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/server"
)

// Env is a whole server started for a test, with clients.
type Env struct {
	Pool    *pgxpool.Pool
	Server  *server.Server
	Clock   *clock.Fake
	Conn    *grpc.ClientConn
	Intake  helplinev1.IntakeServiceClient
	Routing helplinev1.RoutingServiceClient
}

// Start is 10:00 IST on Monday 2 November 2026, the fake clock's start.
var Start = time.Date(2026, 11, 2, 10, 0, 0, 0, clock.IST)

// StartServer runs every service in-process on a seeded database with an
// embedded NATS server and a fake clock.
func StartServer(t testing.TB) *Env {
	t.Helper()
	pool := SeededDB(t)
	dir, err := os.MkdirTemp("", "helpline-nats-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	fake := clock.NewFake(Start)
	srv, err := server.Start(context.Background(), server.Config{
		GRPCAddr:    "127.0.0.1:0",
		DatabaseURL: URL(t, pool),
		DBMaxConns:  10,
		NATSListen:  "127.0.0.1:0",
		DataDir:     dir,
		Relay:       true,
		Retention:   24 * time.Hour,
		Calendar:    calendar.Default,
		Clock:       fake,
	}, Logger(t))
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
	return &Env{
		Pool: pool, Server: srv, Clock: fake, Conn: conn,
		Intake:  helplinev1.NewIntakeServiceClient(conn),
		Routing: helplinev1.NewRoutingServiceClient(conn),
	}
}
