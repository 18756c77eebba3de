package main

import (
	"net"
	"strings"
	"testing"

	"github.com/helpline/helpline/internal/server"
)

// TestBanner: with TLS the start-up banner gives https addresses and
// grpcurl without -plaintext; without, http and -plaintext; with the
// embedded NATS's generated password it says where the password is.
func TestBanner(t *testing.T) {
	grpcAddr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50051}
	httpAddr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	c := config{}
	c.Services = server.AllServices
	srv := &server.Server{GRPCAddr: grpcAddr, HTTPAddr: httpAddr, NATSURL: "nats://127.0.0.1:4222",
		NATSUser: "helpline", NATSPasswordFile: ".data/nats/nats-password", TLS: true}
	b := banner(srv, c, "pw")
	for _, want := range []string{"https://127.0.0.1:8080/console/", "curl -s -XPOST https://127.0.0.1:8080/v1/login", "grpcurl 127.0.0.1:50051 list",
		"user helpline, password in .data/nats/nats-password", "helplinectl -tls"} {
		if !strings.Contains(b, want) {
			t.Errorf("TLS banner lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(b, "-plaintext") || strings.Contains(b, "http://") {
		t.Errorf("TLS banner offers plaintext:\n%s", b)
	}
	srv.TLS = false
	b = banner(srv, c, "pw")
	if !strings.Contains(b, "grpcurl -plaintext 127.0.0.1:50051 list") || !strings.Contains(b, "http://127.0.0.1:8080/console/") {
		t.Errorf("plaintext banner:\n%s", b)
	}
}
