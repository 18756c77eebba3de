package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// TestReadinessFollowsNATS: /readyz answers 503 naming NATS while it is
// down and 200 once it is back; /healthz stays 200 and says what is down.
func TestReadinessFollowsNATS(t *testing.T) {
	n := testenv.StartNATS(t)
	env := testenv.StartServerWith(t, func(c *server.Config) {
		c.HTTPAddr = "127.0.0.1:0"
		c.NATSURL = n.URL
	})
	base := "http://" + env.Server.HTTPAddr.String()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, "postgresql: ok") || !strings.Contains(body, "nats: ok") {
		t.Fatalf("readyz: %d %q", code, body)
	}
	n.Stop()
	testenv.Eventually(t, 10*time.Second, "readyz 503 with NATS down", func() bool {
		code, body := get("/readyz")
		return code == 503 && strings.Contains(body, "nats: ") && !strings.Contains(body, "nats: ok")
	})
	if code, body := get("/healthz"); code != 200 || strings.Contains(body, "nats: ok") {
		t.Fatalf("healthz with NATS down: %d %q", code, body)
	}
	n.Start()
	testenv.Eventually(t, 15*time.Second, "readyz 200 with NATS back", func() bool {
		code, _ := get("/readyz")
		return code == 200
	})
}
