package clientaddr

import (
	"context"

	"google.golang.org/grpc/metadata"
)

// ViaKey is the gRPC metadata naming the adapter of this process that
// made a call on an HTTP client's behalf (ViaOpen311, ViaREST). Like the
// client address, it is believed only from this process's own connections
// and from trusted Helpline processes, and the REST gateway always sets it
// itself, so no client can claim it.
const ViaKey = "x-helpline-via"

// Adapters named by ViaKey.
const (
	// ViaOpen311 is the Open311 GeoReport v2 API (internal/open311).
	ViaOpen311 = "open311"
	// ViaREST is the REST gateway under /v1 (internal/gateway).
	ViaREST = "rest"
)

type viaKey struct{}

// OutgoingVia returns ctx naming via as the adapter of the gRPC calls made
// with it.
func OutgoingVia(ctx context.Context, via string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, ViaKey, via)
}

// Via is the adapter a gRPC call came through as the server's interceptor
// believed it; "" for a direct gRPC call (or without the interceptor).
func Via(ctx context.Context) string {
	v, _ := ctx.Value(viaKey{}).(string)
	return v
}
