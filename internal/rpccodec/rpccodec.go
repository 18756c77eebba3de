// Package rpccodec is the server's protobuf codec. gRPC's own codec answers
// a request holding invalid UTF-8 in a string field, or bytes that are no
// protobuf message at all, with INTERNAL before any handler runs; this one
// decodes such a request with the bad bytes replaced (or as an empty
// message), remembers what was wrong, and the interceptors answer
// INVALID_ARGUMENT naming the field (or the body), so nothing of it is ever
// stored.
//
// What was wrong is kept only between decoding and the first interceptor:
// UnaryCollector and StreamCollector, the outermost interceptors, take it at
// once, so that a call refused on the way in (unauthenticated, busy) leaves
// nothing behind.
package rpccodec

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/helpline/helpline/internal/apperr"
)

// Codec is the protobuf codec to install with grpc.ForceServerCodec.
type Codec struct {
	// MaxSize is the largest request message in bytes; a larger one is
	// answered INVALID_ARGUMENT naming the body (gRPC's own limit, set
	// above it, answers RESOURCE_EXHAUSTED). Zero means no limit.
	MaxSize int
}

// Name is "proto": it replaces the default codec.
func (Codec) Name() string { return "proto" }

// Marshal encodes a protobuf message.
func (Codec) Marshal(v any) ([]byte, error) { return proto.Marshal(v.(proto.Message)) }

// mark is what was wrong with a decoded message.
type mark struct{ field, reason string }

func (m mark) err() error { return apperr.Invalid(m.field, m.reason) }

// invalid maps a decoded message to its mark until a collector takes it,
// which happens before any interceptor can refuse the call.
var invalid sync.Map

// Unmarshal decodes a protobuf message; see the package comment.
func (c Codec) Unmarshal(data []byte, v any) error {
	m := v.(proto.Message)
	if c.MaxSize > 0 && len(data) > c.MaxSize {
		invalid.Store(m, mark{"body", fmt.Sprintf("is larger than %s", Size(c.MaxSize))})
		return nil
	}
	err := proto.Unmarshal(data, m)
	if err == nil {
		return nil
	}
	clean, field, ok := sanitize(data, m.ProtoReflect().Descriptor(), "")
	if ok && field != "" {
		proto.Reset(m)
		if proto.Unmarshal(clean, m) == nil {
			invalid.Store(m, mark{field, "must be valid UTF-8"})
			return nil
		}
	}
	proto.Reset(m)
	invalid.Store(m, mark{"body", "is not a valid protobuf message"})
	return nil
}

// take removes and returns the mark of msg.
func take(msg any) (mark, bool) {
	v, ok := invalid.LoadAndDelete(msg)
	if !ok {
		return mark{}, false
	}
	return v.(mark), true
}

// check returns INVALID_ARGUMENT when msg was decoded from invalid bytes,
// taking its mark.
func check(msg any) error {
	if m, ok := take(msg); ok {
		return m.err()
	}
	return nil
}

type markKey struct{}

// UnaryCollector takes the mark of a unary request into the call's
// context. It must be the first interceptor of the chain: it always runs
// right after decoding, so that no refusal leaves a mark behind.
func UnaryCollector() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if m, ok := take(req); ok {
			ctx = context.WithValue(ctx, markKey{}, m)
		}
		return handler(ctx, req)
	}
}

// StreamCollector refuses a stream message decoded from invalid bytes as
// soon as it is received (the stream's caller has been authenticated by
// then: messages are received by the handler). It must be the first stream
// interceptor, so that its check runs whatever the wrappers inside it do.
func StreamCollector() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, checkedStream{ss})
	}
}

type checkedStream struct{ grpc.ServerStream }

func (s checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		take(m) // nothing is kept, whatever failed
		return err
	}
	return check(m)
}

// sanitize copies a wire-format message replacing invalid UTF-8 in string
// fields, and returns the path of the first such field.
func sanitize(b []byte, md protoreflect.MessageDescriptor, prefix string) ([]byte, string, bool) {
	out := make([]byte, 0, len(b))
	first := ""
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, "", false
		}
		out = append(out, b[:n]...)
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		if typ != protowire.BytesType || fd == nil {
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return nil, "", false
			}
			out = append(out, b[:m]...)
			b = b[m:]
			continue
		}
		v, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return nil, "", false
		}
		b = b[m:]
		switch {
		case fd.Kind() == protoreflect.StringKind && !utf8.Valid(v):
			if first == "" {
				first = prefix + string(fd.Name())
			}
			v = []byte(strings.ToValidUTF8(string(v), "\uFFFD"))
		case fd.Kind() == protoreflect.MessageKind:
			sub, f, ok := sanitize(v, fd.Message(), prefix+string(fd.Name())+".")
			if !ok {
				return nil, "", false
			}
			if first == "" {
				first = f
			}
			v = sub
		}
		out = protowire.AppendBytes(out, v)
	}
	return out, first, true
}

// UnaryInterceptor refuses a request that held invalid bytes, as
// UnaryCollector found it; it goes after authentication.
func UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if m, ok := ctx.Value(markKey{}).(mark); ok {
			return nil, m.err()
		}
		return handler(ctx, req)
	}
}

// Size writes a byte count for a message: "16 MiB", or bytes.
func Size(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
