package main

import "testing"

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"256MiB", 256 << 20, true}, {"1GiB", 1 << 30, true}, {"300MB", 300e6, true}, {"1048576", 1 << 20, true},
		{"off", 0, true}, {"OFF", 0, true}, {"12 KiB", 12 << 10, true},
		{"", 0, false}, {"lots", 0, false}, {"-1MiB", 0, false}, {"1.5GiB", 0, false},
	} {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
