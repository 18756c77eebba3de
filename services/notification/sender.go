package notification

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/helpline/helpline/internal/input"
)

// Message is one notification to deliver.
type Message struct {
	// IdempotencyKey is the same on every attempt: a gateway uses it to send once.
	IdempotencyKey string `json:"idempotency_key"`
	// Recipient is "phone:+91..." for a citizen or "user:<username>" for an officer.
	Recipient string `json:"recipient"`
	Language  string `json:"language"`
	Kind      string `json:"kind"`
	Docket    string `json:"docket"`
	Body      string `json:"body"`
}

// Sender delivers notifications.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrPermanent marks a delivery that retrying cannot fix.
var ErrPermanent = errors.New("permanent delivery failure")

// LogSender "delivers" to the log: the notifications table is the record.
type LogSender struct{ Log *slog.Logger }

// Send logs the notification with the phone number masked.
func (s LogSender) Send(_ context.Context, m Message) error {
	s.Log.Info("notification", "to", masked(m.Recipient), "kind", m.Kind, "docket", m.Docket, "key", masked(m.IdempotencyKey))
	return nil
}

// masked is a recipient ("phone:+91...") or an idempotency key ending in
// one ("<event>/phone:+91...") with the phone number masked, for logs: no
// log line carries a full phone number.
func masked(s string) string {
	i := strings.Index(s, "phone:")
	if i < 0 {
		return s
	}
	return s[:i] + "phone:" + input.MaskPhone(s[i+len("phone:"):])
}

// WebhookSender posts each notification as JSON to an SMS or WhatsApp
// gateway, with the idempotency key in the Idempotency-Key header.
type WebhookSender struct {
	URL    string
	Token  string
	Client *http.Client
}

// NewWebhookSender returns a sender posting to url.
func NewWebhookSender(url, token string) *WebhookSender {
	return &WebhookSender{URL: url, Token: token, Client: &http.Client{Timeout: 10 * time.Second}}
}

// Send posts m; 2xx is delivered, 4xx (but 408 and 429) is permanent, the rest is retried.
func (s *WebhookSender) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.IdempotencyKey)
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post to gateway: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout:
		return fmt.Errorf("%w: gateway answered %s", ErrPermanent, resp.Status)
	}
	return fmt.Errorf("gateway answered %s", resp.Status)
}
