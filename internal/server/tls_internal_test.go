package server

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/helpline/helpline/internal/testcert"
)

// TestCertificateReloadKeepsABadPairOut: a reload of a good pair serves it;
// a bad pair (on Reload and when the watcher sees the files change) is
// refused and the previous one served; the watcher picks up the next good
// pair.
func TestCertificateReloadKeepsABadPairOut(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca := testcert.NewCA(t, "one")
	first := ca.Issue(t, certFile, keyFile, "helpline.test")
	c, err := newCertificate(certFile, keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	serving := func() []byte {
		got, _ := c.get(nil)
		return got.Certificate[0]
	}
	if !bytes.Equal(serving(), first) {
		t.Fatal("not serving the loaded pair")
	}
	second := ca.Issue(t, certFile, keyFile, "helpline.test")
	if err := c.Reload(); err != nil || !bytes.Equal(serving(), second) {
		t.Fatalf("reload: %v; serving the new pair: %v", err, bytes.Equal(serving(), second))
	}
	if !c.served(first) || !c.served(second) {
		t.Error("the pair served before the reload is no longer accepted by the loopback check")
	}

	// A key that does not match the certificate.
	other := t.TempDir()
	ca.Issue(t, filepath.Join(other, "c.pem"), filepath.Join(other, "k.pem"), "x")
	key2, _ := os.ReadFile(filepath.Join(other, "k.pem"))
	if err := os.WriteFile(keyFile, key2, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Reload(); err == nil {
		t.Fatal("a mismatched pair loaded")
	}
	if !bytes.Equal(serving(), second) {
		t.Fatal("a failed reload changed the served certificate")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Watch(ctx, 10*time.Millisecond)
	// A truncated certificate: wait until the watcher has looked at it.
	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the watcher to see the bad files", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.stamp == c.stampOf()
	})
	if !bytes.Equal(serving(), second) {
		t.Fatal("the watcher served a bad pair")
	}
	third := ca.Issue(t, certFile, keyFile, "helpline.test")
	waitFor(t, "the watcher to load the next good pair", func() bool { return bytes.Equal(serving(), third) })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
