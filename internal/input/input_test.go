package input

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// wantFieldError checks that err is a *FieldError for field.
func wantFieldError(t *testing.T, err error, field string) *FieldError {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FieldError", err, err)
	}
	if fe.Field != field {
		t.Errorf("FieldError.Field = %q, want %q", fe.Field, field)
	}
	if fe.Reason == "" {
		t.Errorf("FieldError.Reason is empty")
	}
	if got, want := fe.Error(), fe.Field+": "+fe.Reason; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	return fe
}

func TestFieldErrorMessage(t *testing.T) {
	_, err := LongText("description", strings.Repeat("a", 4001), 4000, true)
	if err == nil {
		t.Fatal("want error")
	}
	if got, want := err.Error(), "description: must be at most 4000 characters"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	_, err = Phone("citizen.phone", "12345")
	fe := wantFieldError(t, err, "citizen.phone")
	if !strings.HasPrefix(fe.Error(), "citizen.phone: ") {
		t.Errorf("Error() = %q", fe.Error())
	}
}

const (
	hindi      = "सड़क पर गड्ढे हैं, कृपया ठीक करें"
	persianRLM = "آب\u200Fنیست"
	vietnamese = "Đường bị hư hỏng"
)

func TestText(t *testing.T) {
	vietNFD := norm.NFD.String(vietnamese)
	if vietNFD == vietnamese {
		t.Fatal("test setup: NFD form equals NFC form")
	}
	tests := []struct {
		name     string
		in       string
		max      int
		required bool
		want     string
		wantErr  bool
	}{
		{name: "hindi unchanged", in: hindi, max: 200, want: hindi},
		// U+095C is a composition exclusion: NFC writes it as U+0921 U+093C.
		{name: "composition exclusion decomposed", in: "\u0938\u095C\u0915", max: 10, want: "\u0938\u0921\u093C\u0915"},
		{name: "persian with RLM", in: persianRLM, max: 50, want: persianRLM},
		{name: "persian with ZWNJ", in: "می\u200Cخواهم", max: 50, want: "می\u200Cخواهم"},
		{name: "LRM allowed", in: "a\u200Eb", max: 10, want: "a\u200Eb"},
		{name: "ZWJ allowed", in: "क्\u200Dष", max: 10, want: "क्\u200Dष"},
		{name: "ZWNJ allowed", in: "क्\u200Cष", max: 10, want: "क्\u200Cष"},
		{name: "vietnamese NFD to NFC", in: vietNFD, max: 100, want: vietnamese},
		{name: "vietnamese NFD counted after NFC", in: vietNFD, max: utf8.RuneCountInString(vietnamese), want: vietnamese},
		{name: "vietnamese one short", in: vietNFD, max: utf8.RuneCountInString(vietnamese) - 1, wantErr: true},
		{name: "trimmed", in: "  \u00A0hello\t \n", max: 10, want: "hello"},
		{name: "inner space kept", in: "a  b", max: 10, want: "a  b"},
		{name: "exactly max", in: "abcde", max: 5, want: "abcde"},
		{name: "over max", in: "abcdef", max: 5, wantErr: true},
		{name: "no limit", in: strings.Repeat("x", 10000), max: 0, want: strings.Repeat("x", 10000)},
		{name: "empty optional", in: "", max: 10, want: ""},
		{name: "blank optional", in: " \t ", max: 10, want: ""},
		{name: "empty required", in: "", max: 10, required: true, wantErr: true},
		{name: "blank required", in: " \u00A0 ", max: 10, required: true, wantErr: true},
		{name: "newline refused", in: "a\nb", max: 10, wantErr: true},
		{name: "CR refused", in: "a\rb", max: 10, wantErr: true},
		{name: "tab refused", in: "a\tb", max: 10, wantErr: true},
		{name: "line separator refused", in: "a\u2028b", max: 10, wantErr: true},
		{name: "invalid utf-8", in: "\xff", max: 10, wantErr: true},
		{name: "invalid utf-8 inside", in: "ab\xc3", max: 10, wantErr: true},
		{name: "encoded surrogate", in: "\xed\xa0\x80", max: 10, wantErr: true},
		{name: "NUL", in: "\x00", max: 10, wantErr: true},
		{name: "NUL inside", in: "a\x00b", max: 10, wantErr: true},
		{name: "escape", in: "a\x1b[31mb", max: 20, wantErr: true},
		{name: "DEL", in: "a\x7fb", max: 10, wantErr: true},
		{name: "C1 control", in: "a\u0085b", max: 10, wantErr: true},
		{name: "RLO U+202E", in: "abc\u202Etxt.exe", max: 20, wantErr: true},
		{name: "LRE U+202A", in: "a\u202Ab", max: 10, wantErr: true},
		{name: "PDF U+202C", in: "a\u202Cb", max: 10, wantErr: true},
		{name: "LRI U+2066", in: "a\u2066b", max: 10, wantErr: true},
		{name: "PDI U+2069", in: "a\u2069b", max: 10, wantErr: true},
		{name: "BOM", in: "\uFEFFhello", max: 10, wantErr: true},
		{name: "noncharacter FFFE", in: "a\uFFFEb", max: 10, wantErr: true},
		{name: "noncharacter FFFF", in: "a\uFFFFb", max: 10, wantErr: true},
		{name: "noncharacter FDD0", in: "a\uFDD0b", max: 10, wantErr: true},
		{name: "noncharacter 10FFFF", in: "a\U0010FFFFb", max: 10, wantErr: true},
		{name: "emoji allowed", in: "👍🏽 ok", max: 10, want: "👍🏽 ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Text("subject", tt.in, tt.max, tt.required)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Text(%q) = %q, want error", tt.in, got)
				}
				wantFieldError(t, err, "subject")
				if got != "" {
					t.Errorf("Text(%q) returned %q alongside error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Text(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLongText(t *testing.T) {
	// 4000 precomposed "ệ" (U+1EC7) written in NFD take 3 code points each;
	// plus one more so the NFD form is 12001 code points, the NFC form 4000.
	nfcLong := strings.Repeat("ệ", 4000)
	nfdLong := norm.NFD.String(nfcLong)
	if n := utf8.RuneCountInString(nfdLong); n <= 4000 {
		t.Fatalf("test setup: NFD form has only %d code points", n)
	}
	// Exactly 4001 code points in NFD, 4000 in NFC: 3999 ASCII letters and
	// one "e" + U+0302 that composes to "ê".
	nfd4001 := strings.Repeat("a", 3999) + "e\u0302"
	if n := utf8.RuneCountInString(nfd4001); n != 4001 {
		t.Fatalf("test setup: %d code points", n)
	}
	deva4000 := strings.Repeat("क", 4000)
	deva4001 := strings.Repeat("क", 4001)

	tests := []struct {
		name     string
		in       string
		max      int
		required bool
		want     string
		wantErr  bool
	}{
		{name: "hindi unchanged", in: hindi, max: 4000, want: hindi},
		{name: "persian with RLM", in: persianRLM, max: 4000, want: persianRLM},
		{name: "vietnamese NFD to NFC", in: norm.NFD.String(vietnamese), max: 4000, want: vietnamese},
		{name: "4001 in NFD, 4000 in NFC", in: nfd4001, max: 4000, want: strings.Repeat("a", 3999) + "ê"},
		{name: "12000 in NFD, 4000 in NFC", in: nfdLong, max: 4000, want: nfcLong},
		{name: "4000 devanagari", in: deva4000, max: 4000, want: deva4000},
		{name: "4001 devanagari", in: deva4001, max: 4000, wantErr: true},
		{name: "newline", in: "line one\nline two", max: 4000, want: "line one\nline two"},
		{name: "CRLF and tab", in: "a\r\n\tb", max: 4000, want: "a\r\n\tb"},
		{name: "line separator", in: "a\u2028b", max: 4000, want: "a\u2028b"},
		{name: "trimmed", in: "\n\n  text \r\n", max: 4000, want: "text"},
		{name: "ZWJ and ZWNJ", in: "क्\u200Dष क्\u200Cष", max: 4000, want: "क्\u200Dष क्\u200Cष"},
		{name: "empty required", in: "\n \n", max: 4000, required: true, wantErr: true},
		{name: "empty optional", in: "", max: 4000, want: ""},
		{name: "invalid utf-8", in: "\xff", max: 4000, wantErr: true},
		{name: "U+202E", in: "a\u202Eb", max: 4000, wantErr: true},
		{name: "U+2066", in: "a\u2066b", max: 4000, wantErr: true},
		{name: "U+2067", in: "a\u2067b", max: 4000, wantErr: true},
		{name: "U+2068", in: "a\u2068b", max: 4000, wantErr: true},
		{name: "NUL", in: "\x00", max: 4000, wantErr: true},
		{name: "vertical tab", in: "a\vb", max: 4000, wantErr: true},
		{name: "form feed", in: "a\fb", max: 4000, wantErr: true},
		{name: "BOM", in: "a\uFEFFb", max: 4000, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LongText("description", tt.in, tt.max, tt.required)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("LongText(%.40q) = %.40q, want error", tt.in, got)
				}
				wantFieldError(t, err, "description")
				return
			}
			if err != nil {
				t.Fatalf("LongText(%.40q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("LongText(%.40q) = %.40q, want %.40q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCode(t *testing.T) {
	tests := []struct {
		in       string
		required bool
		want     string
		wantErr  bool
	}{
		{in: "ROADS", want: "ROADS"},
		{in: " roads_pwd-2 ", want: "ROADS_PWD-2"},
		{in: "a", want: "A"},
		{in: strings.Repeat("A", 64), want: strings.Repeat("A", 64)},
		{in: strings.Repeat("A", 65), wantErr: true},
		{in: "", want: ""},
		{in: "  ", want: ""},
		{in: "", required: true, wantErr: true},
		{in: "ROAD S", wantErr: true},
		{in: "ROADS.1", wantErr: true},
		{in: "सड़क", wantErr: true},
		{in: "\u0131d", wantErr: true},  // dotless i: ToUpper would give "ID"
		{in: "\u017Fun", wantErr: true}, // long s: ToUpper would give "SUN"
		{in: "ＲＯＡＤ", wantErr: true},     // fullwidth
		{in: "A\x00", wantErr: true},
		{in: "\xff", wantErr: true},
	}
	for _, tt := range tests {
		got, err := Code("category.code", tt.in, tt.required)
		if tt.wantErr {
			if err == nil {
				t.Errorf("Code(%q) = %q, want error", tt.in, got)
				continue
			}
			wantFieldError(t, err, "category.code")
			continue
		}
		if err != nil {
			t.Errorf("Code(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Code(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPhone(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "98160 12345", want: "+919816012345"},
		{in: "9816012345", want: "+919816012345"},
		{in: "+91-98160-12345", want: "+919816012345"},
		{in: "+91 98160 12345", want: "+919816012345"},
		{in: "098160 12345", want: "+919816012345"},
		{in: " 98160\u00A012345 ", want: "+919816012345"},
		{in: "९८१६० १२३४५", want: "+919816012345"},
		{in: "0177-2624000", want: "+911772624000"},
		{in: "(0177) 262 4000", want: "+911772624000"},
		{in: "0177\u20132624000", want: "+911772624000"},
		{in: "+44 20 7946 0958", want: "+442079460958"},
		{in: "12345", wantErr: true},
		{in: "abc", wantErr: true},
		{in: "", wantErr: true},
		{in: "   ", wantErr: true},
		{in: "98160 12345 ext. 12", wantErr: true},
		{in: "call 9816012345", wantErr: true},
		{in: "1-800-FLOWERS", wantErr: true},
		{in: "+91 98160 1234", wantErr: true},   // too short
		{in: "+91 98160 123456", wantErr: true}, // too long
		{in: "+91 0000000000", wantErr: true},
		{in: "\xff", wantErr: true},
		{in: strings.Repeat("9", 300), wantErr: true},
	}
	for _, tt := range tests {
		got, err := Phone("citizen.phone", tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("Phone(%q) = %q, want error", tt.in, got)
				continue
			}
			wantFieldError(t, err, "citizen.phone")
			continue
		}
		if err != nil {
			t.Errorf("Phone(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Phone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"+919816012345", "98xxxxx345"},
		{"+911772624000", "17xxxxx000"},
		{"+442079460958", "20xxxxx958"},
		{"+14155552671", "41xxxxx671"},
		{"+6621234567", "21xxx567"},
		{"", ""},
		{"garbage", ""},
	}
	for _, tt := range tests {
		if got := MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Only five digits of the national number may ever be shown.
	for _, in := range []string{"+919816012345", "+911772624000", "+442079460958"} {
		m := MaskPhone(in)
		digits := strings.Count(m, "") - 1 - strings.Count(m, "x")
		if digits != 5 {
			t.Errorf("MaskPhone(%q) = %q shows %d digits, want 5", in, m, digits)
		}
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "", want: ""},
		{in: "  ", want: ""},
		{in: "hi", want: "hi"},
		{in: "en", want: "en"},
		{in: "pa", want: "pa"},
		{in: "ur", want: "ur"},
		{in: "fa", want: "fa"},
		{in: "vi", want: "vi"},
		{in: "HI", want: "hi"},
		{in: "hi-IN", want: "hi-in"},
		{in: " pa-Guru-IN ", want: "pa-guru-in"},
		{in: "sr-Latn-RS", want: "sr-latn-rs"},
		{in: "es-419", want: "es-419"},
		{in: "fil", want: "fil"},
		{in: "h", wantErr: true},
		{in: "hind", wantErr: true},
		{in: "hi_IN", wantErr: true},
		{in: "hi-", wantErr: true},
		{in: "-hi", wantErr: true},
		{in: "hi--in", wantErr: true},
		{in: "hi-I", wantErr: true},
		{in: "hi-abcdefghi", wantErr: true},
		{in: "h1", wantErr: true},
		{in: "hi in", wantErr: true},
		{in: "हि", wantErr: true},
		{in: "\u212Ai", wantErr: true}, // Kelvin sign lower-cases to "k"
		{in: "en-" + strings.Repeat("abcdefgh-", 4) + "ab", wantErr: true},
		{in: "\xff", wantErr: true},
	}
	for _, tt := range tests {
		got, err := Language("citizen.language", tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("Language(%q) = %q, want error", tt.in, got)
				continue
			}
			wantFieldError(t, err, "citizen.language")
			continue
		}
		if err != nil {
			t.Errorf("Language(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Language(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
