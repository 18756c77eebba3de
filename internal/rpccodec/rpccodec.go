// Package rpccodec is the server's protobuf codec. gRPC's own codec answers
// a request holding invalid UTF-8 in a string field with INTERNAL before any
// handler runs; this one decodes such a request with the bad bytes replaced,
// remembers which field was bad, and the interceptors answer
// INVALID_ARGUMENT naming that field, so nothing of it is ever stored.
package rpccodec

import (
	"context"
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
type Codec struct{}

// Name is "proto": it replaces the default codec.
func (Codec) Name() string { return "proto" }

// Marshal encodes a protobuf message.
func (Codec) Marshal(v any) ([]byte, error) { return proto.Marshal(v.(proto.Message)) }

// invalid maps a decoded message to the path of its invalid UTF-8 field
// until the interceptor collects it.
var invalid sync.Map

// Unmarshal decodes a protobuf message; see the package comment.
func (Codec) Unmarshal(data []byte, v any) error {
	m := v.(proto.Message)
	err := proto.Unmarshal(data, m)
	if err == nil {
		return nil
	}
	clean, field, ok := sanitize(data, m.ProtoReflect().Descriptor(), "")
	if !ok || field == "" {
		return err
	}
	proto.Reset(m)
	if proto.Unmarshal(clean, m) != nil {
		return err
	}
	invalid.Store(m, field)
	return nil
}

// check returns INVALID_ARGUMENT when msg was decoded from invalid UTF-8.
func check(msg any) error {
	if field, ok := invalid.LoadAndDelete(msg); ok {
		return apperr.Invalid(field.(string), "must be valid UTF-8")
	}
	return nil
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

// UnaryInterceptor refuses a request that held invalid UTF-8.
func UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := check(req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor refuses stream messages that held invalid UTF-8.
func StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, checkedStream{ss})
	}
}

type checkedStream struct{ grpc.ServerStream }

func (s checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return check(m)
}
