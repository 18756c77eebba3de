package console_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"testing"

	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// lookups makes n status lookups with the given X-Forwarded-For and
// returns how many were limited.
func lookups(t *testing.T, base, forwardedFor string, n int) int {
	t.Helper()
	return limited(t, base+"/console/status.json?docket=26-0000001-0", forwardedFor, n)
}

// limited makes n GET requests of u with the given X-Forwarded-For and
// returns how many were limited.
func limited(t *testing.T, u, forwardedFor string, n int) int {
	t.Helper()
	limited := 0
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest("GET", u, nil)
		if forwardedFor != "" {
			req.Header.Set("X-Forwarded-For", forwardedFor)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	return limited
}

// TestStatusLimitKeysOnTheRealClient: behind a trusted proxy each citizen
// has their own 30 lookups a minute; from anyone else, X-Forwarded-For
// changes nothing.
func TestStatusLimitKeysOnTheRealClient(t *testing.T) {
	t.Parallel()
	env := testenv.StartServerWith(t, func(c *server.Config) {
		c.HTTPAddr = "127.0.0.1:0"
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} // the test's client is the proxy
	})
	base := "http://" + env.Server.HTTPAddr.String()
	if n := lookups(t, base, "198.51.100.1", 35); n < 5 {
		t.Fatalf("35 lookups by one citizen: %d limited, want at least 5", n)
	}
	if n := lookups(t, base, "198.51.100.2", 25); n != 0 {
		t.Errorf("another citizen behind the same proxy: %d of 25 lookups limited", n)
	}

	direct := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	base = "http://" + direct.Server.HTTPAddr.String()
	limited := 0
	for i := 0; i < 35; i++ {
		limited += lookups(t, base, fmt.Sprintf("198.51.100.%d", i), 1)
	}
	if limited < 5 {
		t.Errorf("35 lookups from one untrusted client naming 35 addresses: %d limited, want at least 5", limited)
	}
}

// TestQRLimitKeysOnTheRealClient: QR codes are limited per real client
// address (120 a minute), like the status lookups.
func TestQRLimitKeysOnTheRealClient(t *testing.T) {
	t.Parallel()
	env := testenv.StartServerWith(t, func(c *server.Config) {
		c.HTTPAddr = "127.0.0.1:0"
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} // the test's client is the proxy
	})
	u := "http://" + env.Server.HTTPAddr.String() + "/console/qr.png?docket=26-0000001-0"
	if n := limited(t, u, "198.51.100.1", 130); n < 5 {
		t.Fatalf("130 QR codes for one client: %d limited, want at least 5", n)
	}
	if n := limited(t, u, "198.51.100.2", 20); n != 0 {
		t.Errorf("another client behind the same proxy: %d of 20 QR codes limited", n)
	}
}
