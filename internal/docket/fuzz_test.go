package docket

import "testing"

// FuzzParse: any input either fails or yields a docket that formats back
// to itself and parses again to the same numbers.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"26-0000001-8", "26 0000001 8", "२६-०००००१-८", "", "--", "26-9999999-0", "00-0000000-0", "\x00", "26-000\u00a00001-8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		y, seq, err := Parse(s)
		if err != nil {
			return
		}
		d, err := Format(2000+y, seq)
		if err != nil {
			t.Fatalf("Parse(%q) = %d, %d, which does not format: %v", s, y, seq, err)
		}
		y2, seq2, err := Parse(d)
		if err != nil || y2 != y || seq2 != seq {
			t.Fatalf("round trip of %q: %q → %d %d %v", s, d, y2, seq2, err)
		}
	})
}
