package clientaddr

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

func TestParseTrusted(t *testing.T) {
	got, err := ParseTrusted(" 10.0.0.0/8, 192.168.1.5 ,::1, 2001:db8::/32,10.1.2.3/16,")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.5/32", "::1/128", "2001:db8::/32", "10.1.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("item %d: %s, want %s", i, got[i], want[i])
		}
	}
	if got, err := ParseTrusted(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v, %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.lan", "10.0.0.1/8/8", "1.2.3", "10.0.0.0/8,x", "fe80::1%eth0"} {
		if _, err := ParseTrusted(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		} else if !strings.Contains(err.Error(), "not a CIDR") {
			t.Errorf("%q: error %q does not say what is wrong", bad, err)
		}
	}
}

func TestFromRequest(t *testing.T) {
	trusted, err := ParseTrusted("10.0.0.0/8, 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, remote, xff, fwd, want string
	}{
		{"no proxy", "203.0.113.5:4000", "", "", "203.0.113.5"},
		{"untrusted peer's header is ignored", "203.0.113.5:4000", "198.51.100.1", "", "203.0.113.5"},
		{"untrusted peer's Forwarded is ignored", "203.0.113.5:4000", "", "for=198.51.100.1", "203.0.113.5"},
		{"trusted proxy", "10.0.0.2:4000", "198.51.100.1", "", "198.51.100.1"},
		{"client's own prefix is not believed", "10.0.0.2:4000", "1.1.1.1, 198.51.100.1", "", "198.51.100.1"},
		{"chain of trusted proxies", "10.0.0.2:4000", "1.1.1.1, 198.51.100.1, 10.0.0.9", "", "198.51.100.1"},
		{"every hop trusted", "127.0.0.1:4000", "10.0.0.7, 10.0.0.9", "", "10.0.0.7"},
		{"unreadable hop keeps the proxy", "10.0.0.2:4000", "198.51.100.1, unknown", "", "10.0.0.2"},
		{"hop with a port", "10.0.0.2:4000", "198.51.100.1:5555", "", "198.51.100.1"},
		{"IPv6 hop", "10.0.0.2:4000", "2001:db8::7", "", "2001:db8::7"},
		{"Forwarded", "10.0.0.2:4000", "", `for=1.1.1.1, for="[2001:db8::9]:4711";proto=https;by=10.0.0.2`, "2001:db8::9"},
		{"Forwarded with a port", "10.0.0.2:4000", "", `For="198.51.100.3:999"`, "198.51.100.3"},
		{"Forwarded unknown", "10.0.0.2:4000", "", `for=unknown`, "10.0.0.2"},
		{"both headers agreeing", "10.0.0.2:4000", "198.51.100.1", "for=198.51.100.1", "198.51.100.1"},
		{"both headers disagreeing: the proxy's address", "10.0.0.2:4000", "198.51.100.1", "for=198.51.100.2", "10.0.0.2"},
		{"IPv4-mapped remote is trusted", "[::ffff:10.0.0.2]:4000", "198.51.100.1", "", "198.51.100.1"},
		{"IPv6 remote", "[2001:db8::1]:4000", "198.51.100.1", "", "2001:db8::1"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if c.fwd != "" {
			r.Header.Set("Forwarded", c.fwd)
		}
		if got := FromRequest(r, trusted); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// Several header fields are one list, in order.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.2:1"
	r.Header.Add("X-Forwarded-For", "1.1.1.1")
	r.Header.Add("X-Forwarded-For", "198.51.100.8, 10.0.0.3")
	if got := FromRequest(r, trusted); got != "198.51.100.8" {
		t.Errorf("two X-Forwarded-For fields: %q", got)
	}
}

// resolved runs the interceptor on a call from peerIP with md and returns
// the address and the metadata the handler sees.
func resolved(t *testing.T, rv *Resolver, peerIP string, md metadata.MD) (string, metadata.MD) {
	t.Helper()
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.ParseIP(peerIP), Port: 50000}})
	ctx = metadata.NewIncomingContext(ctx, md)
	var addr string
	var seen metadata.MD
	_, err := rv.Unary()(ctx, nil, &grpc.UnaryServerInfo{}, func(ctx context.Context, _ any) (any, error) {
		addr = FromContext(ctx)
		seen, _ = metadata.FromIncomingContext(ctx)
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return addr, seen
}

func TestResolverBelievesOnlyTrustedPeersAndItsOwnConnections(t *testing.T) {
	trusted, _ := ParseTrusted("10.0.0.0/8")
	rv := NewResolver(trusted)
	cases := []struct {
		name, peer string
		md         metadata.MD
		want       string
	}{
		{"no metadata", "203.0.113.5", metadata.MD{}, "203.0.113.5"},
		{"forged by a direct caller", "203.0.113.5", metadata.Pairs(MetadataKey, "198.51.100.1"), "203.0.113.5"},
		{"forged from loopback", "127.0.0.1", metadata.Pairs(MetadataKey, "198.51.100.1"), "127.0.0.1"},
		{"wrong secret", "127.0.0.1", metadata.Pairs(MetadataKey, "198.51.100.1", secretKey, "guess"), "127.0.0.1"},
		{"trusted peer", "10.1.1.1", metadata.Pairs(MetadataKey, "198.51.100.1"), "198.51.100.1"},
		{"own connection", "127.0.0.1", metadata.Pairs(MetadataKey, "198.51.100.1", secretKey, secret), "198.51.100.1"},
		{"two addresses: neither", "10.1.1.1", metadata.Pairs(MetadataKey, "198.51.100.1", MetadataKey, "198.51.100.2"), "10.1.1.1"},
		{"not an address", "10.1.1.1", metadata.Pairs(MetadataKey, "everyone"), "10.1.1.1"},
	}
	for _, c := range cases {
		got, seen := resolved(t, rv, c.peer, c.md)
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
		if len(seen.Get(secretKey)) != 0 {
			t.Errorf("%s: the handler sees the secret", c.name)
		}
	}
	// Without the interceptor, FromContext is the peer's address.
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1}})
	if got := FromContext(Outgoing(ctx, "198.51.100.1")); got != "192.0.2.1" {
		t.Errorf("FromContext without the interceptor: %q", got)
	}
	if got := FromContext(context.Background()); got != "" {
		t.Errorf("FromContext of nothing: %q", got)
	}
}
