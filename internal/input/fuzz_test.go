package input

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzText: accepted text is valid UTF-8, NFC, within the limit, and free
// of the refused characters; validation never panics.
func FuzzText(f *testing.F) {
	for _, s := range []string{"सड़क पर गड्ढे", "آب\u200Fنیست", "a\u202Eb", "x\x00y", "line\nnext", "\xff", "Đường", strings.Repeat("क", 4001)} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, long bool) {
		check := Text
		if long {
			check = LongText
		}
		got, err := check("f", s, 100, false)
		if err != nil {
			if _, ok := err.(*FieldError); !ok {
				t.Fatalf("refusal is not a FieldError: %v", err)
			}
			return
		}
		if !utf8.ValidString(got) || !norm.NFC.IsNormalString(got) || utf8.RuneCountInString(got) > 100 {
			t.Fatalf("accepted %q as %q", s, got)
		}
		for _, r := range got {
			if (r < 0x20 && !(long && (r == '\n' || r == '\r' || r == '\t'))) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) {
				t.Fatalf("accepted %q holding %U", s, r)
			}
		}
	})
}

// FuzzPhone: an accepted phone is E.164 and normalizes to itself.
func FuzzPhone(f *testing.F) {
	for _, s := range []string{"98160 12345", "+91-98160-12345", "0177-2624000", "12345", "abc", "+1 415 555 0100", "९८१६०१२३४५"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Phone("phone", s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p, "+") {
			t.Fatalf("%q → %q is not E.164", s, p)
		}
		again, err := Phone("phone", p)
		if err != nil || again != p {
			t.Fatalf("%q → %q → %q, %v", s, p, again, err)
		}
		_ = MaskPhone(p)
	})
}
