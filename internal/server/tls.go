package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certificate serves a certificate and key pair from files and reloads them
// (Reload, on SIGHUP, or Watch, when a file's modification time or size
// changes). A pair that does not load keeps the one being served.
type certificate struct {
	certFile, keyFile string
	log               *slog.Logger

	mu       sync.Mutex
	current  *tls.Certificate
	previous *tls.Certificate // kept so a connection begun just before a reload still verifies
	stamp    string           // the files' modification times and sizes when last loaded
}

// newCertificate loads the pair; an error here refuses to start.
func newCertificate(certFile, keyFile string, log *slog.Logger) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile, log: log}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// stampOf describes the files' modification times and sizes.
func (c *certificate) stampOf() string {
	s := ""
	for _, f := range []string{c.certFile, c.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			s += fmt.Sprintf("%d/%d;", fi.ModTime().UnixNano(), fi.Size())
		} else {
			s += "missing;"
		}
	}
	return s
}

// Reload reads the pair again; on an error the served one stays.
func (c *certificate) Reload() error {
	stamp := c.stampOf()
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stamp = stamp
	if err != nil {
		return fmt.Errorf("tls: %s, %s: %w", c.certFile, c.keyFile, err)
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return fmt.Errorf("tls: %s: %w", c.certFile, err)
		}
	}
	if c.current != nil && bytes.Equal(c.current.Certificate[0], pair.Certificate[0]) {
		return nil
	}
	c.previous, c.current = c.current, &pair
	return nil
}

// get is tls.Config.GetCertificate.
func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current, nil
}

// Leaf is the served certificate.
func (c *certificate) Leaf() *x509.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current.Leaf
}

// served reports whether der is the served certificate (or the one served
// before the last reload).
func (c *certificate) served(der []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range []*tls.Certificate{c.current, c.previous} {
		if p != nil && bytes.Equal(p.Certificate[0], der) {
			return true
		}
	}
	return false
}

// Watch reloads the pair whenever the files change, checking every interval,
// until ctx ends. A pair that does not load is logged and kept out; it is
// tried again at the next change.
func (c *certificate) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		changed := c.stampOf() != c.stamp
		c.mu.Unlock()
		if changed {
			_ = c.reloadAndLog("files changed") // logged; the served pair stays
		}
	}
}

// reloadAndLog reloads and says what happened.
func (c *certificate) reloadAndLog(why string) error {
	if err := c.Reload(); err != nil {
		c.log.Error("TLS certificate not reloaded; still serving the previous one", "why", why, "err", err)
		return err
	}
	leaf := c.Leaf()
	c.log.Info("TLS certificate loaded", "why", why, "subject", leaf.Subject.String(), "dns", leaf.DNSNames, "not_after", leaf.NotAfter)
	return nil
}

// serverConfig is the TLS configuration gRPC and HTTP serve with.
func (c *certificate) serverConfig() *tls.Config {
	return &tls.Config{GetCertificate: c.get, MinVersion: tls.VersionTLS12}
}

// loopbackConfig is the TLS configuration of the REST gateway's connection
// to this process's own gRPC server. It dials 127.0.0.1 (or the listen
// address), which the certificate need not name, so instead of checking
// the name against a CA it checks that the server presents exactly the
// certificate this process serves: nothing else can answer as it.
func (c *certificate) loopbackConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Verification is VerifyConnection's: the peer's certificate must
		// be the one this process serves.
		InsecureSkipVerify: true, //nolint:gosec // pinned to the served certificate below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !c.served(cs.PeerCertificates[0].Raw) {
				return errors.New("tls: the local gRPC server presented a certificate this process does not serve")
			}
			return nil
		},
	}
}
