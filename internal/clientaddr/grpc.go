package clientaddr

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/netip"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// secretKey is the metadata by which this process's own connections (its
// REST gateway's, Open311's and the console's) tell its gRPC server that
// their x-helpline-client-address is to be believed. Its value, secret, is
// random per process, never logged, and removed from the incoming
// metadata before any handler sees it.
const secretKey = "x-helpline-gateway-secret"

var secret = func() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}()

// Outgoing returns ctx carrying addr as the client address of the gRPC
// calls made with it.
func Outgoing(ctx context.Context, addr string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, MetadataKey, addr)
}

// FromRequestOutgoing is r's context carrying r's real client address (see
// FromRequest) for the gRPC calls made on its behalf.
func FromRequestOutgoing(r *http.Request, trusted []netip.Prefix) context.Context {
	return Outgoing(r.Context(), FromRequest(r, trusted))
}

// Metadata is a grpc-gateway metadata annotator (runtime.WithMetadata):
// the request's real client address as x-helpline-client-address, and
// ViaREST as x-helpline-via. The
// gateway lets an annotator's keys replace any a client sends itself.
func Metadata(trusted []netip.Prefix) func(context.Context, *http.Request) metadata.MD {
	return func(_ context.Context, r *http.Request) metadata.MD {
		return metadata.Pairs(MetadataKey, FromRequest(r, trusted), ViaKey, ViaREST)
	}
}

// OwnConnection is the dial options of this process's connection to its
// own gRPC server: every call carries the per-process secret, so the
// server believes the client address it names. Use it for nothing else:
// a connection to another process would hand that process the secret.
func OwnConnection() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(metadata.AppendToOutgoingContext(ctx, secretKey, secret), method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			return streamer(metadata.AppendToOutgoingContext(ctx, secretKey, secret), desc, cc, method, opts...)
		}),
	}
}

// peerAddr is the IP address of the gRPC peer (the whole address when it
// has no IP), or "".
func peerAddr(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	if a, ok := hostOf(p.Addr.String()); ok {
		return a.String()
	}
	return p.Addr.String()
}

// Resolver decides the client address of gRPC calls.
type Resolver struct {
	trusted []netip.Prefix
}

// NewResolver believes x-helpline-client-address from the trusted proxies
// and from this process's own connections.
func NewResolver(trusted []netip.Prefix) *Resolver { return &Resolver{trusted: trusted} }

// resolve returns ctx with the call's believed client address and adapter
// (Via), and without the secret in its incoming metadata.
func (rv *Resolver) resolve(ctx context.Context) context.Context {
	addr := peerAddr(ctx)
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return context.WithValue(ctx, ctxKey{}, addr)
	}
	believed := false
	if p, ok := hostOf(addr); ok && trusts(rv.trusted, p) {
		believed = true
	}
	for _, v := range md.Get(secretKey) {
		if subtle.ConstantTimeCompare([]byte(v), []byte(secret)) == 1 {
			believed = true
		}
	}
	if vals := md.Get(MetadataKey); believed && len(vals) == 1 {
		if a, ok := parseHop(vals[0]); ok {
			addr = a.String()
		}
	}
	if vals := md.Get(ViaKey); believed && len(vals) == 1 {
		ctx = context.WithValue(ctx, viaKey{}, vals[0])
	}
	if len(md.Get(secretKey)) > 0 {
		md = md.Copy()
		md.Delete(secretKey)
		ctx = metadata.NewIncomingContext(ctx, md)
	}
	return context.WithValue(ctx, ctxKey{}, addr)
}

// Unary is the unary server interceptor that puts the believed client
// address in the context (read it with FromContext).
func (rv *Resolver) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return handler(rv.resolve(ctx), req)
	}
}

// Stream is the stream server interceptor of Unary.
func (rv *Resolver) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &stream{ServerStream: ss, ctx: rv.resolve(ss.Context())})
	}
}

type stream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *stream) Context() context.Context { return s.ctx }
