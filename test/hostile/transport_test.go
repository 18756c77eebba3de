//go:build hostile

package hostile

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

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
func invokeRaw(ctx context.Context, conn *grpc.ClientConn, method string, body []byte) error {
	var reply []byte
	return conn.Invoke(ctx, method, &body, &reply, grpc.ForceCodec(rawCodec{}))
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
