//go:build hostile

package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// rawCodec sends bytes as they are, so that a test can send what no
// protobuf library would encode (invalid UTF-8, garbage).
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }

func (rawCodec) Unmarshal(b []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), b...)
	return nil
}

// invokeRaw calls method with body as the request's wire bytes.
func invokeRaw(ctx context.Context, conn *grpc.ClientConn, method string, body []byte, opts ...grpc.CallOption) error {
	var reply []byte
	return conn.Invoke(ctx, method, &body, &reply, append(opts, grpc.ForceCodec(rawCodec{}))...)
}

const registerMethod = "/helpline.v1.IntakeService/RegisterComplaint"

// heapAfterGC is the live heap once garbage is collected.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestTransportRefusedCallsKeepNothing sends 1,000 large registrations
// (1 MB descriptions ending in an invalid UTF-8 byte) without a token: all
// are refused UNAUTHENTICATED, and the heap returns to its baseline.
func TestTransportRefusedCallsKeepNothing(t *testing.T) {
	const calls, size = 1000, 1 << 20
	before := "UNAUTHENTICATED, but 3.3 MB per 3.9 MB call never freed (heap 79 → 475 MB after 150 calls)"
	env := testenv.StartServer(t)
	desc := strings.Repeat("a", size-1) + "\xff"
	body := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "hostile-leak")
	body = protowire.AppendString(protowire.AppendTag(body, 5, protowire.BytesType), desc)

	// The bytes do reach the codec's invalid-UTF-8 path: with a token the
	// answer names the field.
	err := invokeRaw(env.Agent, env.Conn, registerMethod, body)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "description") {
		t.Fatalf("with a token: %v, want INVALID_ARGUMENT naming description", err)
	}

	base := heapAfterGC()
	var wg sync.WaitGroup
	var mu sync.Mutex
	codesSeen := map[codes.Code]int{}
	next := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for range next {
				c := status.Code(invokeRaw(context.Background(), env.Conn, registerMethod, body))
				mu.Lock()
				codesSeen[c]++
				mu.Unlock()
			}
		})
	}
	for range calls {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	if codesSeen[codes.Unauthenticated] != calls {
		t.Fatalf("answers %v, want %d UNAUTHENTICATED", codesSeen, calls)
	}
	after := heapAfterGC()
	growth := int64(after) - int64(base)
	record(t, "1,000 refused 1 MB gRPC calls with invalid UTF-8, no token", before,
		fmt.Sprintf("UNAUTHENTICATED; heap %d → %d MB after GC", base>>20, after>>20))
	if growth > 32<<20 {
		t.Fatalf("heap grew by %d MB after %d refused calls", growth>>20, calls)
	}
}

// TestTransportGarbageProtobuf sends bytes that are no protobuf message.
func TestTransportGarbageProtobuf(t *testing.T) {
	env := testenv.StartServer(t)
	err := invokeRaw(env.Agent, env.Conn, registerMethod, []byte{0xff, 0xff, 0xff})
	record(t, "garbage protobuf bytes (gRPC)", "INTERNAL", status.Code(err).String()+": "+status.Convert(err).Message())
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "body") {
		t.Fatalf("garbage: %v, want INVALID_ARGUMENT naming the body", err)
	}
}

// startWithHTTP starts a server with its REST, Open311 and console edge.
func startWithHTTP(t *testing.T, opt func(*server.Config)) (*testenv.Env, string) {
	t.Helper()
	env := testenv.StartServerWith(t, func(c *server.Config) {
		c.HTTPAddr = "127.0.0.1:0"
		if opt != nil {
			opt(c)
		}
	})
	return env, "http://" + env.Server.HTTPAddr.String()
}

// agentToken logs agent1 in and returns the token.
func agentToken(t *testing.T, env *testenv.Env) string {
	t.Helper()
	resp, err := env.Identity.Login(context.Background(), &helplinev1.LoginRequest{Username: "agent1", Password: testenv.DemoPassword})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetToken()
}

// post sends body to url with a bearer token and returns the status and answer.
func post(t *testing.T, url, contentType, token string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b)
}

// registrationJSON is a REST registration with a description of n bytes.
func registrationJSON(t *testing.T, key string, n int) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"idempotencyKey": key,
		"citizen":        map[string]any{"name": "Hostile Tester", "phone": "9816012345", "language": "en"},
		"location":       map[string]any{"districtCode": "SHIMLA", "blockCode": "THEOG"},
		"categoryCode":   "PWD_ROAD_POTHOLES",
		"description":    strings.Repeat("a", n),
		"channel":        "CHANNEL_PHONE",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTransportOneSizeLimit: one limit, MaxBody, for gRPC, REST and
// Open311; under it a body reaches the service (which judges its fields),
// over it the answer names the body: INVALID_ARGUMENT or 413, never
// RESOURCE_EXHAUSTED or 429.
func TestTransportOneSizeLimit(t *testing.T) {
	env, base := startWithHTTP(t, nil)
	token := agentToken(t, env)

	code10, body10 := post(t, base+"/v1/complaints", "application/json", token, registrationJSON(t, "hostile-10mb", 10_000_000))
	if code10 == http.StatusTooManyRequests || strings.Contains(body10, "larger than max") || code10 != http.StatusBadRequest || !strings.Contains(body10, "description") {
		t.Errorf("10 MB REST body: %d %.200s, want 400 from the service naming the description", code10, body10)
	}

	over := server.MaxBody + 1<<20
	codeREST, bodyREST := post(t, base+"/v1/complaints", "application/json", token, registrationJSON(t, "hostile-17mb", over))
	if codeREST != http.StatusRequestEntityTooLarge || !strings.Contains(bodyREST, "body") {
		t.Errorf("REST body over the limit: %d %.200s, want 413 naming the body", codeREST, bodyREST)
	}
	form := []byte("service_code=X&description=" + strings.Repeat("a", over))
	code311, body311 := post(t, base+"/open311/v2/requests.json", "application/x-www-form-urlencoded", "", form)
	if code311 != http.StatusRequestEntityTooLarge || !strings.Contains(body311, "body") {
		t.Errorf("Open311 body over the limit: %d %.200s, want 413 naming the body", code311, body311)
	}

	msg := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "hostile-grpc-17mb")
	msg = protowire.AppendString(protowire.AppendTag(msg, 5, protowire.BytesType), strings.Repeat("a", over))
	err := invokeRaw(env.Agent, env.Conn, registerMethod, msg, grpc.MaxCallSendMsgSize(64<<20))
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "body") {
		t.Errorf("gRPC message over the limit: %v, want INVALID_ARGUMENT naming the body", err)
	}
	record(t, "10 MB REST body; 17 MiB REST, Open311 and gRPC requests",
		`10 MB REST: 429 "received message larger than max (… vs 4194304)"`,
		fmt.Sprintf("10 MB REST: %d (the service judges it); 17 MiB: REST %d, Open311 %d, gRPC %s", code10, codeREST, code311, status.Code(err)))
}

// TestTransportHealthWatchFlood holds 512 health Watch streams open on one
// connection without a token: beyond a small cap they are refused, and an
// agent's registrations, over gRPC and REST, still succeed.
func TestTransportHealthWatchFlood(t *testing.T) {
	env, base := startWithHTTP(t, nil)
	token := agentToken(t, env)
	conn, err := grpc.NewClient(env.Server.GRPCAddr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	health := healthpb.NewHealthClient(conn)
	var wg sync.WaitGroup
	var mu sync.Mutex
	held, refused := 0, 0
	for range 512 {
		wg.Go(func() {
			st, err := health.Watch(ctx, &healthpb.HealthCheckRequest{})
			if err == nil {
				_, err = st.Recv()
			}
			mu.Lock()
			defer mu.Unlock()
			switch status.Code(err) {
			case codes.OK:
				held++
			case codes.ResourceExhausted:
				refused++
			default:
				t.Errorf("watch: %v", err)
			}
		})
	}
	wg.Wait()
	if held+refused != 512 || held == 0 || refused == 0 {
		t.Fatalf("watch streams: %d held, %d refused", held, refused)
	}

	_, err = env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: "hostile-watch-grpc",
		Citizen:        &helplinev1.Citizen{Name: "Hostile Tester", Phone: "9816012345", Language: "en"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA", BlockCode: "THEOG"},
		CategoryCode:   "PWD_ROAD_POTHOLES", Description: "Pothole near the bus stand", Channel: helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Errorf("gRPC registration under the flood: %v", err)
	}
	code, body := post(t, base+"/v1/complaints", "application/json", token, registrationJSON(t, "hostile-watch-rest", 40))
	if code != http.StatusOK {
		t.Errorf("REST registration under the flood: %d %.300s", code, body)
	}
	record(t, "512 health Watch streams on one connection, no token",
		"every other call, logins included: RESOURCE_EXHAUSTED / 429; /readyz 200",
		fmt.Sprintf("%d held, %d refused RESOURCE_EXHAUSTED; agent registers: gRPC %s, REST %d", held, refused, status.Code(err), code))
}
