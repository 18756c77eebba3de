package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/helpline/helpline/internal/auth"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// rawCodec sends bytes as they are, so a test can put invalid UTF-8 on the wire.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }
func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return proto.Marshal(v.(proto.Message))
}
func (rawCodec) Unmarshal(b []byte, v any) error { return proto.Unmarshal(b, v.(proto.Message)) }

// badStrings are values no text field accepts.
var badStrings = map[string]string{
	"invalid UTF-8":    "abc\xff\xfe",
	"NUL":              "a\x00b",
	"escape":           "a\x1bb",
	"RLO override":     "a\u202Eb",
	"isolate":          "a\u2066b",
	"8,000 characters": strings.Repeat("क", 8000),
}

// oddStrings are valid text that must never reach SQL or a shell as code.
var oddStrings = []string{"'; DROP TABLE complaints; --", "$(rm -rf /)", "%_\\", "<script>alert(1)</script>"}

// counted are the tables no refused request may change.
var counted = []string{"complaints", "complaint_history", "outbox", "citizens", "users", "tokens", "departments", "categories",
	"posts", "locations", "routing_rules", "holidays", "helpline_lines", "feedback", "complaint_links"}

func rowCounts(t *testing.T, env *testenv.Env) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, tbl := range counted {
		var n int64
		if err := env.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		m[tbl] = n
	}
	return m
}

// userFor picks a demo user whose role may call method.
func userFor(method string) string {
	roles := auth.Policy[method]
	for _, pref := range []caller.Role{caller.Admin, caller.Agent, caller.Supervisor, caller.Officer} {
		for _, r := range roles {
			if r == pref {
				return map[caller.Role]string{caller.Admin: "admin", caller.Agent: "agent1", caller.Supervisor: "supervisor", caller.Officer: "pwd-shimla-l1"}[r]
			}
		}
	}
	return ""
}

// stringFields lists the paths of a message's string fields, one level of
// nesting deep, with the wire encoder of each.
type fieldPath struct {
	name   string
	encode func(value []byte) []byte
}

func stringFields(md protoreflect.MessageDescriptor) []fieldPath {
	var out []fieldPath
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		num := fd.Number()
		switch {
		case fd.Kind() == protoreflect.StringKind:
			out = append(out, fieldPath{string(fd.Name()), func(v []byte) []byte {
				return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
			}})
		case fd.Kind() == protoreflect.MessageKind && !fd.IsList() && fd.Message().FullName().Parent() == "helpline.v1":
			for _, inner := range stringFields(fd.Message()) {
				enc := inner.encode
				out = append(out, fieldPath{string(fd.Name()) + "." + inner.name, func(v []byte) []byte {
					return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), enc(v))
				}})
			}
		}
	}
	return out
}

func invoke(ctx context.Context, env *testenv.Env, method string, body []byte) error {
	if strings.HasSuffix(method, "/ExportComplaints") {
		st, err := env.Conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, method, grpc.ForceCodec(rawCodec{}))
		if err != nil {
			return err
		}
		if err := st.SendMsg(body); err != nil {
			return err
		}
		_ = st.CloseSend()
		for {
			if err := st.RecvMsg(&emptypb.Empty{}); err != nil {
				if err.Error() == "EOF" {
					return nil
				}
				return err
			}
		}
	}
	return env.Conn.Invoke(ctx, method, body, &emptypb.Empty{}, grpc.ForceCodec(rawCodec{}))
}

// TestBadInputToEveryRPC sends every RPC malformed values in every text
// field, unknown enum numbers and out-of-range page sizes: each is answered
// with a documented code (never INTERNAL), and nothing is stored.
func TestBadInputToEveryRPC(t *testing.T) {
	env := testenv.StartServer(t)
	before := rowCounts(t, env)
	ctxs := map[string]context.Context{}
	checked := 0
	big := protowire.AppendBytes(protowire.AppendTag(nil, 1000, protowire.BytesType), make([]byte, server.MaxBody+1<<20))
	for _, m := range env.Server.Methods() {
		if auth.Public[m] && !strings.HasSuffix(m, "/Login") {
			continue
		}
		user := userFor(m)
		if ctxs[user] == nil {
			ctxs[user] = context.Background()
			if user != "" {
				ctxs[user] = env.As(user)
			}
		}
		ctx := ctxs[user]
		svc, name := m[1:strings.LastIndex(m, "/")], m[strings.LastIndex(m, "/")+1:]
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
		if err != nil {
			t.Fatal(err)
		}
		md := d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(name)).Input()
		for _, f := range stringFields(md) {
			for what, v := range badStrings {
				err := invoke(ctx, env, m, f.encode([]byte(v)))
				code := status.Code(err)
				checked++
				ok := code == codes.InvalidArgument || (code == codes.NotFound && strings.Contains(m, "RevokeToken")) ||
					(code == codes.Unauthenticated && strings.HasSuffix(m, "/Login"))
				if !ok {
					t.Errorf("%s %s = %s: %v, want INVALID_ARGUMENT", name, f.name, what, err)
				}
			}
			for _, v := range oddStrings {
				err := invoke(ctx, env, m, f.encode([]byte(v)))
				checked++
				if c := status.Code(err); c == codes.Internal || c == codes.Unknown || c == codes.Unavailable {
					t.Errorf("%s %s = %q: %v", name, f.name, v, err)
				}
			}
		}
		fields := md.Fields()
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			var body []byte
			var what string
			switch {
			case fd.Kind() == protoreflect.EnumKind:
				body, what = protowire.AppendVarint(protowire.AppendTag(nil, fd.Number(), protowire.VarintType), 999), "enum 999"
			case fd.Name() == "page_size":
				for _, v := range []int64{-1, 1 << 30} {
					b := protowire.AppendVarint(protowire.AppendTag(nil, fd.Number(), protowire.VarintType), uint64(v))
					err := invoke(ctx, env, m, b)
					checked++
					if status.Code(err) != codes.InvalidArgument {
						t.Errorf("%s page_size %d: %v, want INVALID_ARGUMENT", name, v, err)
					}
				}
				continue
			case fd.Name() == "expected_version":
				body, what = protowire.AppendVarint(protowire.AppendTag(nil, fd.Number(), protowire.VarintType), uint64(1<<64-1)), "expected_version -1"
			default:
				continue
			}
			err := invoke(ctx, env, m, body)
			checked++
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("%s %s: %v, want INVALID_ARGUMENT", name, what, err)
			}
		}
		// A message over the one size limit is refused before the handler,
		// naming the body.
		err = invoke(ctx, env, m, big)
		checked++
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "body") {
			t.Errorf("%s with a message over server.MaxBody: %v, want INVALID_ARGUMENT naming the body", name, err)
		}
	}
	after := rowCounts(t, env)
	for tbl, n := range before {
		if tbl == "tokens" {
			continue // the test's own logins
		}
		if after[tbl] != n {
			t.Errorf("%s changed from %d to %d rows after refused requests", tbl, n, after[tbl])
		}
	}
	t.Log(fmt.Sprintf("%d malformed requests over %d RPCs", checked, len(env.Server.Methods())))
}
