package rpccodec

import (
	"testing"

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
	if err := (Codec{}).Unmarshal([]byte{0xff, 0xff}, &good); err == nil {
		t.Fatal("garbage decoded")
	}
}
