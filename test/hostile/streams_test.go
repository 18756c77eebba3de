//go:build hostile

package hostile

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// streamStall is the test server's StreamStall.
const streamStall = 2 * time.Second

// registrationLatency registers n complaints one after another as agent1
// and returns their median latency.
func registrationLatency(t *testing.T, env *testenv.Env, key string, n int) time.Duration {
	t.Helper()
	var took []time.Duration
	for i := range n {
		start := time.Now()
		_, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
			IdempotencyKey: fmt.Sprintf("%s-%d", key, i),
			Citizen:        &helplinev1.Citizen{Name: "Hostile Tester", Phone: "9816012345", Language: "en"},
			Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG"},
			CategoryCode:   "PWD_ROAD_POTHOLES", Description: "Pothole near the bus stand", Channel: helplinev1.Channel_CHANNEL_PHONE,
		})
		if err != nil {
			t.Errorf("registration %s-%d: %v", key, i, err)
			continue
		}
		took = append(took, time.Since(start))
	}
	if len(took) == 0 {
		return 0
	}
	slices.Sort(took)
	return took[len(took)/2]
}

// TestStreamUnreadExportsAreCut: 200 ExportComplaints streams from 100
// admins (two each, the per-user cap) on one connection whose client never
// reads are cut DEADLINE_EXCEEDED once their sends have waited StreamStall,
// and agents keep registering meanwhile.
func TestStreamUnreadExportsAreCut(t *testing.T) {
	env := testenv.StartServerWith(t, func(c *server.Config) { c.StreamStall = streamStall })
	// Enough complaints (about 3,300) that an export is well larger than
	// what the flow-control windows and gRPC's write quota hold (64 KiB each).
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() { registrationLatency(t, env, fmt.Sprintf("hostile-stream-seed-%d", w), 400) })
	}
	wg.Wait()
	quiet := registrationLatency(t, env, "hostile-stream-quiet", 50)

	const users, streams = 100, 200
	tokens := make([]string, users)
	for i := range users {
		name := fmt.Sprintf("exporter%03d", i)
		if _, err := env.Identity.CreateUser(env.Admin, &helplinev1.CreateUserRequest{Username: name, DisplayName: "Exporter", Role: helplinev1.Role_ROLE_ADMIN, Password: "exporter-password-1"}); err != nil {
			t.Fatal(err)
		}
		tok, err := env.Identity.IssueToken(env.Admin, &helplinev1.IssueTokenRequest{Username: name, Name: "export"})
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = tok.GetToken()
	}
	// Small fixed windows (no BDP growth), so that the unread streams fill them.
	conn, err := grpc.NewClient(env.Server.GRPCAddr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stats := helplinev1.NewStatsServiceClient(conn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	goroutines := runtime.NumGoroutine()
	opened := make([]helplinev1.StatsService_ExportComplaintsClient, 0, streams)
	for i := range streams {
		st, err := stats.ExportComplaints(testenv.WithToken(ctx, tokens[i%users]), &helplinev1.ExportComplaintsRequest{FromDate: "2026-11-01", ToDate: "2026-11-30"})
		if err != nil {
			t.Fatalf("export %d: %v", i, err)
		}
		opened = append(opened, st)
	}
	start := time.Now()
	attacked := registrationLatency(t, env, "hostile-stream-attack", 50)
	// Past the stall: 200 exports share 8 database connections, so the last
	// ones start sending (and stall) some seconds after they were opened.
	time.Sleep(time.Until(start.Add(6 * streamStall)))

	// Now read: each stream yields what was buffered, then its status.
	var cut, done, other atomic.Int64
	for _, st := range opened {
		wg.Go(func() {
			for {
				if _, err := st.Recv(); err != nil {
					if status.Code(err) == codes.DeadlineExceeded {
						cut.Add(1)
					} else if err == io.EOF {
						done.Add(1) // had not stalled for StreamStall yet when read
					} else if other.Add(1) <= 3 {
						t.Logf("export ended: %v", err)
					}
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	// Under a noisy machine the last exports may start (their database
	// queries queued behind the others') late enough that reading them
	// finds them not yet stalled: they then finish. None may end otherwise.
	if cut.Load() < streams/4 || other.Load() != 0 {
		t.Errorf("%d of %d unread exports cut DEADLINE_EXCEEDED, %d finished, %d otherwise", cut.Load(), streams, done.Load(), other.Load())
	}
	testenv.Eventually(t, 10*time.Second, "the cut streams' goroutines to end", func() bool {
		return runtime.NumGoroutine() <= goroutines+20
	})
	record(t, fmt.Sprintf("%d unread ExportComplaints streams from %d users, one connection", streams, users),
		"600 unread streams (or 520 REST exports) exhaust the in-flight limit, RSS 650 MB; nothing times them out",
		fmt.Sprintf("%d cut DEADLINE_EXCEEDED after StreamStall %v, %d not yet stalled when read finished (all ended %v after opening); agent registration median %v under attack, %v without",
			cut.Load(), streamStall, done.Load(), took.Round(100*time.Millisecond), attacked.Round(100*time.Microsecond), quiet.Round(100*time.Microsecond)))
}
