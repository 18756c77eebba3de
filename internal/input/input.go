// Package input validates and normalizes text submitted by citizens and
// officers before it is stored.
//
// Free text must be valid UTF-8. It is normalized to Unicode Normalization
// Form C (NFC), surrounding white space is trimmed, and lengths are counted in
// code points after normalization, so the same visible text is accepted or
// refused regardless of how the client composed it. Control characters,
// bidirectional embedding/override/isolate characters (which can disguise the
// real order of text shown to an officer), the byte order mark and Unicode
// noncharacters are refused. Zero-width joiner and non-joiner and the
// left-to-right and right-to-left marks are allowed because Devanagari,
// Gurmukhi, Urdu and Persian text needs them.
//
// Every refusal is reported as a *FieldError naming the offending field.
package input

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
)

// FieldError reports why the value of one input field was refused.
type FieldError struct {
	// Field is the name of the field as supplied by the caller, possibly a
	// dotted path such as "citizen.phone".
	Field string
	// Reason is a short, human-readable explanation such as
	// "must be at most 4000 characters".
	Reason string
}

// Error returns Field and Reason joined by ": ".
func (e *FieldError) Error() string {
	return e.Field + ": " + e.Reason
}

// fieldErr builds a *FieldError.
func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Text validates a single-line text value such as a name or a subject.
// The result is NFC-normalized and trimmed. No control characters at all are
// allowed, including tab and line breaks. If max > 0 the result may have at
// most max code points. An empty result is an error only if required is true.
func Text(field, value string, max int, required bool) (string, error) {
	return text(field, value, max, required, false)
}

// LongText validates a multi-line text value such as a grievance
// description. It behaves like Text except that line feed, carriage return
// and tab are allowed.
func LongText(field, value string, max int, required bool) (string, error) {
	return text(field, value, max, required, true)
}

func text(field, value string, max int, required, multiline bool) (string, error) {
	if !utf8.ValidString(value) {
		return "", fieldErr(field, "must be valid UTF-8 text")
	}
	s := strings.TrimSpace(norm.NFC.String(value))
	if s == "" {
		if required {
			return "", fieldErr(field, "is required")
		}
		return "", nil
	}
	for _, r := range s {
		if reason := refuseRune(r, multiline); reason != "" {
			return "", fieldErr(field, "%s", reason)
		}
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		return "", fieldErr(field, "must be at most %d characters", max)
	}
	return s, nil
}

// refuseRune returns a non-empty reason if r may not appear in text.
func refuseRune(r rune, multiline bool) string {
	switch {
	case r == '\n' || r == '\r' || r == '\t':
		if multiline {
			return ""
		}
		return "must be a single line without tabs"
	case r == '\u2028' || r == '\u2029': // line and paragraph separators
		if multiline {
			return ""
		}
		return "must be a single line without tabs"
	case r < 0x20 || (r >= 0x7F && r <= 0x9F): // Unicode category Cc
		return fmt.Sprintf("must not contain control character U+%04X", r)
	case (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069'):
		return fmt.Sprintf("must not contain bidirectional control character U+%04X", r)
	case r == '\uFEFF':
		return "must not contain byte order mark U+FEFF"
	case isNoncharacter(r):
		return fmt.Sprintf("must not contain noncharacter U+%04X", r)
	}
	return ""
}

// isNoncharacter reports whether r is one of the 66 Unicode noncharacters:
// U+FDD0..U+FDEF and the last two code points of every plane.
func isNoncharacter(r rune) bool {
	return (r >= 0xFDD0 && r <= 0xFDEF) || r&0xFFFE == 0xFFFE
}

// maxCodeLen is the maximum length of a master data code.
const maxCodeLen = 64

// Code validates a master data code such as a department or category code.
// The value is trimmed and upper-cased; it may contain only the ASCII letters
// A-Z, digits, underscore and hyphen, and be 1 to 64 characters long. An
// empty value is an error only if required is true.
func Code(field, value string, required bool) (string, error) {
	s := strings.TrimSpace(value)
	if s == "" {
		if required {
			return "", fieldErr(field, "is required")
		}
		return "", nil
	}
	if len(s) > maxCodeLen {
		return "", fieldErr(field, "must be at most %d characters", maxCodeLen)
	}
	// Check before upper-casing: strings.ToUpper maps some non-ASCII
	// letters (such as U+0131 dotless i and U+017F long s) to ASCII ones.
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return "", fieldErr(field, "may contain only letters A-Z, digits, underscore and hyphen")
		}
	}
	return string(b), nil
}

// defaultRegion is the region assumed for phone numbers written without a
// country calling code.
const defaultRegion = "IN"

// Phone validates a required phone number and returns it in E.164 form, for
// example "+919816012345". Numbers without a country calling code are read as
// Indian numbers, so "98160 12345", "098160 12345", "+91-98160-12345" and the
// landline "0177-2624000" are all accepted. Digits may be ASCII or
// Devanagari; besides digits only white space, '+', '-', '–', '.', '/', '('
// and ')' are allowed.
func Phone(field, value string) (string, error) {
	if !utf8.ValidString(value) {
		return "", fieldErr(field, "must be valid UTF-8 text")
	}
	s := strings.TrimSpace(value)
	if s == "" {
		return "", fieldErr(field, "is required")
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '\u0966' && r <= '\u096F': // Devanagari digits
			b.WriteRune('0' + (r - '\u0966'))
		case r == ' ' || r == '\u00A0' || r == '\t':
			b.WriteByte(' ')
		case strings.ContainsRune("+-\u2013./()", r):
			b.WriteRune(r)
		default:
			return "", fieldErr(field, "is not a valid phone number")
		}
	}
	num, err := phonenumbers.Parse(b.String(), defaultRegion)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", fieldErr(field, "is not a valid phone number")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// MaskPhone masks a phone number in E.164 form for display to officers. It
// keeps the first two and last three digits of the national significant
// number and replaces the others with 'x': "+919816012345" becomes
// "98xxxxx345". National numbers of five digits or fewer, and values that
// cannot be parsed, are masked completely (one 'x' per digit).
func MaskPhone(e164 string) string {
	nsn := ""
	if num, err := phonenumbers.Parse(e164, defaultRegion); err == nil {
		nsn = phonenumbers.GetNationalSignificantNumber(num)
	}
	if nsn == "" {
		n := 0
		for _, r := range e164 {
			if r >= '0' && r <= '9' {
				n++
			}
		}
		return strings.Repeat("x", n)
	}
	if len(nsn) <= 5 {
		return strings.Repeat("x", len(nsn))
	}
	return nsn[:2] + strings.Repeat("x", len(nsn)-5) + nsn[len(nsn)-3:]
}

// maxLanguageLen is the maximum length of a language tag.
const maxLanguageLen = 35

// Language validates an optional BCP 47 style language tag such as "hi",
// "pa", "fa", "hi-IN" or "sr-Latn-RS" and returns it lower-cased. The tag is
// a primary language subtag of 2 or 3 ASCII letters optionally followed by
// hyphen-separated subtags of 2 to 8 ASCII letters or digits, at most 35
// characters in all. An empty value is accepted and returned as "".
func Language(field, value string) (string, error) {
	s := strings.TrimSpace(value)
	if s == "" {
		return "", nil
	}
	if len(s) > maxLanguageLen {
		return "", fieldErr(field, "must be at most %d characters", maxLanguageLen)
	}
	bad := fieldErr(field, "is not a valid language tag")
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
	}
	for i, sub := range strings.Split(string(b), "-") {
		if i == 0 {
			if len(sub) < 2 || len(sub) > 3 || !allASCII(sub, false) {
				return "", bad
			}
			continue
		}
		if len(sub) < 2 || len(sub) > 8 || !allASCII(sub, true) {
			return "", bad
		}
	}
	return string(b), nil
}

// allASCII reports whether s consists only of lower-case ASCII letters and,
// if digits is true, ASCII digits.
func allASCII(s string, digits bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z') && !(digits && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Username validates a user name: 1 to 64 lower-case ASCII letters, digits,
// '-', '_' and '.'.
func Username(field, v string) (string, error) {
	if v == "" {
		return "", fieldErr(field, "required")
	}
	if len(v) > 64 {
		return "", fieldErr(field, "must be at most 64 characters")
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return "", fieldErr(field, "use lower-case letters, digits, '-', '_' and '.'")
		}
	}
	return v, nil
}
