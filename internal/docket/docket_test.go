package docket

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckDigitVectors(t *testing.T) {
	tests := []struct {
		in   string
		want byte
	}{
		{"236", '3'},
		{"12345", '1'},
		{"142857", '0'},
		{"123456789012", '0'},
		{"8473643095483728456789", '2'},
		{"", '0'},
	}
	for _, tt := range tests {
		if got := CheckDigit(tt.in); got != tt.want {
			t.Errorf("CheckDigit(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.in == "" {
			continue
		}
		full := tt.in + string(tt.want)
		if !Valid(full) {
			t.Errorf("Valid(%q) = false, want true", full)
		}
	}
}

func TestCheckDigitNonDigit(t *testing.T) {
	for _, in := range []string{"12a", " 12", "१२३", "-1"} {
		if got := CheckDigit(in); got != 0 {
			t.Errorf("CheckDigit(%q) = %q, want 0", in, got)
		}
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"2363", true},
		{"2364", false},
		{"2633", false}, // transposition
		{"123451", true},
		{"1428570", true},
		{"1428507", false},
		{"", false},
		{"0", false},
		{"04", true},
		{"00", false},
		{"236a", false},
		{"236 3", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		year int
		seq  int64
		want string
	}{
		{2026, 1, "26-0000001-8"},
		{2026, 123, "26-0000123-3"},
		{2026, MaxSeq, "26-9999999-6"},
		{2000, 42, "00-0000042-6"},
		{2105, 7, "05-0000007-7"},
	}
	for _, tt := range tests {
		got, err := Format(tt.year, tt.seq)
		if err != nil {
			t.Errorf("Format(%d, %d) error: %v", tt.year, tt.seq, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Format(%d, %d) = %q, want %q", tt.year, tt.seq, got, tt.want)
		}
		if len(got) != 12 || got[2] != '-' || got[10] != '-' {
			t.Errorf("Format(%d, %d) = %q: not in YY-NNNNNNN-C form", tt.year, tt.seq, got)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	tests := []struct {
		year int
		seq  int64
	}{
		{2026, 0},
		{2026, -1},
		{2026, MaxSeq + 1},
		{26, 1},
		{-2026, 1},
		{10000, 1},
	}
	for _, tt := range tests {
		if got, err := Format(tt.year, tt.seq); err == nil {
			t.Errorf("Format(%d, %d) = %q, want error", tt.year, tt.seq, got)
		}
	}
}

func TestParse(t *testing.T) {
	const c = "3" // Verhoeff check digit of 260000123
	tests := []struct {
		name string
		in   string
	}{
		{"canonical", "26-0000123-" + c},
		{"no separators", "260000123" + c},
		{"spaced dashes", "26 - 0000123 - " + c},
		{"spaces only", "26 0000123 " + c},
		{"leading and trailing", "  26-0000123-" + c + "  "},
		{"separators anywhere", "2-6-0-0 0 0 1 2 3-" + c},
		{"no-break space", "26\u00A00000123\u00A0" + c},
		{"en dash", "26\u20130000123\u2013" + c},
		{"mixed devanagari", "२६-०००0१२३-३"},
		{"all devanagari", toDevanagari("26-0000123-" + c)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y, s, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if y != 26 || s != 123 {
				t.Errorf("Parse(%q) = %d, %d; want 26, 123", tt.in, y, s)
			}
			n, err := Normalize(tt.in)
			if err != nil {
				t.Fatalf("Normalize(%q) error: %v", tt.in, err)
			}
			if want := "26-0000123-" + c; n != want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, n, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	good, err := Format(2026, 123)
	if err != nil {
		t.Fatal(err)
	}
	wrongCheck := good[:11] + string('0'+(good[11]-'0'+1)%10)
	zeroSeq := "26-0000000-2" // correct check digit, but sequence 0
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"only separators", " - - ", ErrMalformed},
		{"too short", good[:len(good)-1], ErrMalformed},
		{"too long", good + "0", ErrMalformed},
		{"letter", "26-00001A3-4", ErrMalformed},
		{"check letter X", "26 - 0000123 - X", ErrMalformed},
		{"underscore", "26_0000123_" + good[11:], ErrMalformed},
		{"slash", "26/0000123/" + good[11:], ErrMalformed},
		{"tab", "26\t0000123\t" + good[11:], ErrMalformed},
		{"fullwidth digit", "２6-0000123-" + good[11:], ErrMalformed},
		{"arabic-indic digit", "٢6-0000123-" + good[11:], ErrMalformed},
		{"plus sign", "+26-0000123-" + good[11:], ErrMalformed},
		{"invalid utf-8", "26-0000123-\xff", ErrMalformed},
		{"zero sequence", zeroSeq, ErrMalformed},
		{"wrong check digit", wrongCheck, ErrCheckDigit},
		{"transposed", "26-0000213-" + good[11:], ErrCheckDigit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y, s, err := Parse(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse(%q) = %d, %d, %v; want %v", tt.in, y, s, err, tt.want)
			}
			if n, err := Normalize(tt.in); !errors.Is(err, tt.want) || n != "" {
				t.Errorf("Normalize(%q) = %q, %v; want \"\", %v", tt.in, n, err, tt.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, year := range []int{2000, 2026, 2099} {
		for _, seq := range []int64{1, 9, 10, 99999, 1234567, MaxSeq} {
			s, err := Format(year, seq)
			if err != nil {
				t.Fatalf("Format(%d, %d): %v", year, seq, err)
			}
			y, q, err := Parse(s)
			if err != nil {
				t.Fatalf("Parse(%q): %v", s, err)
			}
			if y != year%100 || q != seq {
				t.Errorf("Parse(Format(%d, %d)) = %d, %d", year, seq, y, q)
			}
		}
	}
}

// TestDetectsAllSingleErrors checks, for many docket numbers, that every
// single-digit substitution and every adjacent transposition of differing
// digits is rejected.
func TestDetectsAllSingleErrors(t *testing.T) {
	maxSeq := int64(20000)
	if testing.Short() {
		maxSeq = 2000
	}
	years := []int{2000, 2019, 2026, 2047, 2088, 2099}
	seqs := make([]int64, 0, maxSeq+4)
	for s := int64(1); s <= maxSeq; s++ {
		seqs = append(seqs, s)
	}
	seqs = append(seqs, 1234567, 7654321, 9876543, MaxSeq)

	checked := 0
	for _, year := range years {
		for _, seq := range seqs {
			canon, err := Format(year, seq)
			if err != nil {
				t.Fatalf("Format(%d, %d): %v", year, seq, err)
			}
			orig := []byte(strings.ReplaceAll(canon, "-", ""))
			if !Valid(string(orig)) {
				t.Fatalf("Valid(%q) = false for freshly formatted docket", orig)
			}
			buf := make([]byte, len(orig))

			for i := range orig {
				for d := byte('0'); d <= '9'; d++ {
					if d == orig[i] {
						continue
					}
					copy(buf, orig)
					buf[i] = d
					if Valid(string(buf)) {
						t.Fatalf("substitution at %d in %s -> %s not detected", i, orig, buf)
					}
					checked++
				}
			}
			for i := 0; i+1 < len(orig); i++ {
				if orig[i] == orig[i+1] {
					continue
				}
				copy(buf, orig)
				buf[i], buf[i+1] = buf[i+1], buf[i]
				if Valid(string(buf)) {
					t.Fatalf("transposition at %d in %s -> %s not detected", i, orig, buf)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no mutations checked")
	}

	// Spot-check that Parse (not just Valid) rejects mutations with
	// ErrCheckDigit, on the dashed canonical form.
	for _, seq := range []int64{1, 123, 20000, MaxSeq} {
		canon, _ := Format(2026, seq)
		b := []byte(canon)
		for i, ch := range b {
			if ch == '-' {
				continue
			}
			for d := byte('0'); d <= '9'; d++ {
				if d == ch {
					continue
				}
				m := append([]byte(nil), b...)
				m[i] = d
				if _, _, err := Parse(string(m)); !errors.Is(err, ErrCheckDigit) {
					t.Fatalf("Parse(%q) err = %v, want ErrCheckDigit", m, err)
				}
			}
		}
	}
}

func toDevanagari(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			r = '०' + (r - '0')
		}
		b.WriteRune(r)
	}
	return b.String()
}
