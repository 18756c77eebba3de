package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestTrustedProxiesParsedStrictly(t *testing.T) {
	parse := func(v string) (*config, error) {
		var c config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.serveFlags(fs)
		if err := fs.Parse([]string{"-trusted-proxies", v}); err != nil {
			return nil, err
		}
		return &c, c.finish()
	}
	c, err := parse("10.0.0.0/8, 192.168.1.7")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "192.168.1.7/32" {
		t.Errorf("TrustedProxies = %v", c.TrustedProxies)
	}
	_, err = parse("10.0.0.0/8,proxy.lan")
	if err == nil || !strings.Contains(err.Error(), "-trusted-proxies") || !strings.Contains(err.Error(), `"proxy.lan"`) {
		t.Errorf("a bad proxy: %v, want an error naming -trusted-proxies and the value", err)
	}
}

func TestPublicURLParsedStrictly(t *testing.T) {
	parse := func(v string) error {
		var c config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.serveFlags(fs)
		if err := fs.Parse([]string{"-public-url", v}); err != nil {
			return err
		}
		return c.finish()
	}
	for _, ok := range []string{"https://helpline.example.in", "http://10.0.0.5:8080/"} {
		if err := parse(ok); err != nil {
			t.Errorf("-public-url %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"helpline.example.in", "ftp://x", "https://x/console", "https://x/?a=1", "https://u@x"} {
		if err := parse(bad); err == nil || !strings.Contains(err.Error(), "-public-url") {
			t.Errorf("-public-url %q: %v, want an error naming -public-url", bad, err)
		}
	}
}
