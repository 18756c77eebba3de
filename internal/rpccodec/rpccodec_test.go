package rpccodec

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/input"
)

func TestInvalidUTF8IsReportedWithItsFieldPath(t *testing.T) {
	valid, err := proto.Marshal(&helplinev1.RegisterComplaintRequest{IdempotencyKey: "k", Description: "ठीक"})
	if err != nil {
		t.Fatal(err)
	}
	// citizen (field 2) { name (field 1): invalid UTF-8 }
	inner := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "राम\xc3")
	bad := protowire.AppendBytes(protowire.AppendTag(append([]byte(nil), valid...), 2, protowire.BytesType), inner)

	var m helplinev1.RegisterComplaintRequest
	if err := (Codec{}).Unmarshal(bad, &m); err != nil {
		t.Fatalf("codec refused to decode: %v", err)
	}
	err = check(&m)
	fe, ok := err.(*input.FieldError)
	if !ok || fe.Field != "citizen.name" {
		t.Fatalf("check = %v, want a field error on citizen.name", err)
	}
	if check(&m) != nil {
		t.Fatal("the mark must be collected once")
	}
	var good helplinev1.RegisterComplaintRequest
	if err := (Codec{}).Unmarshal(valid, &good); err != nil || check(&good) != nil || good.GetDescription() != "ठीक" {
		t.Fatalf("valid message: %v %v", err, good.GetDescription())
	}
	var garbage helplinev1.RegisterComplaintRequest
	if err := (Codec{}).Unmarshal([]byte{0xff, 0xff}, &garbage); err != nil {
		t.Fatalf("garbage: the codec must leave the answer to the interceptor, got %v", err)
	}
	if fe, ok := check(&garbage).(*input.FieldError); !ok || fe.Field != "body" {
		t.Fatalf("garbage: want a field error on body, got %v", fe)
	}
}

// TestRefusedCallsKeepNothing: an interceptor after the collector refuses
// every call (as authentication does); no mark may stay behind.
func TestRefusedCallsKeepNothing(t *testing.T) {
	bad := protowire.AppendString(protowire.AppendTag(nil, 5, protowire.BytesType), "x\xff")
	refuse := func(context.Context, any, *grpc.UnaryServerInfo, grpc.UnaryHandler) (any, error) {
		return nil, status.Error(codes.Unauthenticated, "no token")
	}
	collect := UnaryCollector()
	for range 100 {
		m := new(helplinev1.RegisterComplaintRequest)
		if err := (Codec{}).Unmarshal(bad, m); err != nil {
			t.Fatal(err)
		}
		_, err := collect(context.Background(), m, &grpc.UnaryServerInfo{}, func(ctx context.Context, req any) (any, error) {
			return refuse(ctx, req, nil, nil)
		})
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("err = %v", err)
		}
	}
	n := 0
	invalid.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Fatalf("%d marks kept after refused calls", n)
	}
	// And the mark reaches the interceptor after authentication.
	m := new(helplinev1.RegisterComplaintRequest)
	_ = (Codec{}).Unmarshal(bad, m)
	_, err := collect(context.Background(), m, &grpc.UnaryServerInfo{}, func(ctx context.Context, req any) (any, error) {
		return UnaryInterceptor()(ctx, req, nil, func(context.Context, any) (any, error) { return "handled", nil })
	})
	if fe, ok := err.(*input.FieldError); !ok || fe.Field != "description" {
		t.Fatalf("err = %v, want a field error on description", err)
	}
}

func TestOversizedMessageIsRefusedNamingTheBody(t *testing.T) {
	big, err := proto.Marshal(&helplinev1.RegisterComplaintRequest{Description: string(make([]byte, 2048))})
	if err != nil {
		t.Fatal(err)
	}
	var m helplinev1.RegisterComplaintRequest
	if err := (Codec{MaxSize: 1024}).Unmarshal(big, &m); err != nil {
		t.Fatal(err)
	}
	fe, ok := check(&m).(*input.FieldError)
	if !ok || fe.Field != "body" || fe.Reason != "is larger than 1024 bytes" || m.GetDescription() != "" {
		t.Fatalf("oversized: %v, description of %d bytes decoded", fe, len(m.GetDescription()))
	}
}
