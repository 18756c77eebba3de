package notification

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestLogSenderMasksThePhone: the log sender's line carries the phone
// neither in the recipient nor in the idempotency key.
func TestLogSenderMasksThePhone(t *testing.T) {
	var buf bytes.Buffer
	s := LogSender{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	err := s.Send(context.Background(), Message{Recipient: "phone:+919816055212", Kind: "registered", Docket: "26-0000001-8",
		IdempotencyKey: "01a237e9-652d-749a-bd7d-8ae5964823c8/phone:+919816055212"})
	if err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	if strings.Contains(line, "9816055212") || strings.Count(line, "98xxxxx212") != 2 {
		t.Fatalf("log line %q: want the phone masked as 98xxxxx212 in recipient and key", line)
	}
	if got := masked("user:pwd-shimla-l1"); got != "user:pwd-shimla-l1" {
		t.Fatalf("masked(user) = %q", got)
	}
}
