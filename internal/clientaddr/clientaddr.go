// Package clientaddr finds the real address of the client behind a call:
// from an HTTP request, through the reverse proxies an operator trusts
// (X-Forwarded-For or RFC 7239 Forwarded), and across the hop from this
// process's REST gateway, Open311 and console to its gRPC server, as the
// gRPC metadata x-helpline-client-address. The gRPC server believes that
// metadata only from a trusted proxy or from this process's own
// connections, so a direct gRPC caller cannot claim another address.
package clientaddr

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// MetadataKey is the gRPC metadata carrying the real client address of a
// call made on an HTTP client's behalf.
const MetadataKey = "x-helpline-client-address"

// ParseTrusted reads a comma-separated list of CIDRs or bare IP addresses
// (a bare address is a /32 or /128). An empty list trusts nobody.
func ParseTrusted(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR or an IP address", item)
			}
			if p.Addr().Is4In6() {
				return nil, fmt.Errorf("%q: write IPv4 networks as IPv4", item)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is not a CIDR or an IP address", item)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// trusts reports whether a is in one of the trusted networks.
func trusts(trusted []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one hop of X-Forwarded-For or a Forwarded for= value:
// an address, optionally quoted, bracketed (IPv6) or with a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}

// hostOf is the address part of a host:port (or a bare address).
func hostOf(hostport string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	return parseHop(host)
}

// forwardedFor lists the for= values of the Forwarded header fields, left
// to right.
func forwardedFor(h http.Header) []string {
	var out []string
	for _, field := range h.Values("Forwarded") {
		for _, elem := range strings.Split(field, ",") {
			v := ""
			for _, pair := range strings.Split(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
					v = val
				}
			}
			out = append(out, v) // an element without for= is a hop we cannot read
		}
	}
	return out
}

// xForwardedFor lists the X-Forwarded-For hops, left to right.
func xForwardedFor(h http.Header) []string {
	var out []string
	for _, field := range h.Values("X-Forwarded-For") {
		out = append(out, strings.Split(field, ",")...)
	}
	return out
}

// walk goes from the right of hops while the hop before is trusted, and
// returns the first untrusted address (or the last address it could read).
func walk(remote netip.Addr, hops []string, trusted []netip.Prefix) netip.Addr {
	addr := remote
	for i := len(hops) - 1; i >= 0 && trusts(trusted, addr); i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break // "unknown", an obfuscated name, or garbage: keep the proxy's address
		}
		addr = a
	}
	return addr
}

// FromRequest is the real client address of an HTTP request: its
// RemoteAddr, unless that is a trusted proxy, in which case the
// X-Forwarded-For (or Forwarded for=) hops are walked from the right while
// the hop that added them is trusted. A client that sends both headers
// with different answers (one of them is not the proxy's own) is given
// the proxy's address, which only such clients share.
func FromRequest(r *http.Request, trusted []netip.Prefix) string {
	remote, ok := hostOf(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if !trusts(trusted, remote) {
		return remote.String()
	}
	xff, fwd := xForwardedFor(r.Header), forwardedFor(r.Header)
	switch {
	case len(xff) > 0 && len(fwd) > 0:
		a, b := walk(remote, xff, trusted), walk(remote, fwd, trusted)
		if a != b {
			return remote.String()
		}
		return a.String()
	case len(fwd) > 0:
		return walk(remote, fwd, trusted).String()
	default:
		return walk(remote, xff, trusted).String()
	}
}

type ctxKey struct{}

// FromContext is the client address of a gRPC call as the server's
// interceptor believed it; without the interceptor (a service called
// directly), the gRPC peer's address; "" when there is neither.
func FromContext(ctx context.Context) string {
	if a, ok := ctx.Value(ctxKey{}).(string); ok {
		return a
	}
	return peerAddr(ctx)
}
