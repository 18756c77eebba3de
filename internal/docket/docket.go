// Package docket formats, parses and validates Helpline docket numbers.
//
// A docket number has the canonical form YY-NNNNNNN-C:
//
//   - YY is the last two digits of the year the grievance was registered;
//   - NNNNNNN is a zero-padded per-year sequence number from 1 to 9999999;
//   - C is a Verhoeff check digit computed over the nine digits YYNNNNNNN.
//
// The Verhoeff scheme detects every single-digit error and every
// transposition of two adjacent digits, which are the most common mistakes
// made when a citizen reads a docket number out over the phone or types it
// into a form.
package docket

import (
	"errors"
	"fmt"
	"strconv"
)

// MaxSeq is the largest per-year sequence number a docket can carry.
const MaxSeq = 9999999

// digitCount is the number of digits in a docket number, check digit included.
const digitCount = 10

// ErrMalformed is returned (possibly wrapped) by Parse and Normalize when the
// input, after separators are removed, is not exactly ten digits, or when it
// contains a character that is neither a digit nor an accepted separator, or
// when it encodes the sequence number zero.
var ErrMalformed = errors.New("docket: malformed docket number")

// ErrCheckDigit is returned (possibly wrapped) by Parse and Normalize when the
// input is well formed but its check digit does not match.
var ErrCheckDigit = errors.New("docket: check digit mismatch")

// Format returns the canonical docket number YY-NNNNNNN-C for the given full
// year (for example 2026, rendered as "26") and per-year sequence number.
// It returns an error if year is not a four-digit year or seq is outside
// 1..MaxSeq.
func Format(year int, seq int64) (string, error) {
	if year < 1000 || year > 9999 {
		return "", fmt.Errorf("docket: year %d is not a four-digit year", year)
	}
	if seq < 1 || seq > MaxSeq {
		return "", fmt.Errorf("docket: sequence %d out of range 1..%d", seq, MaxSeq)
	}
	return format(year%100, seq), nil
}

// format renders a two-digit year and an in-range sequence number.
func format(year2 int, seq int64) string {
	payload := fmt.Sprintf("%02d%07d", year2, seq)
	return payload[:2] + "-" + payload[2:] + "-" + string(CheckDigit(payload))
}

// Parse extracts the two-digit year and the sequence number from a docket
// number. Spaces, hyphen-minus, no-break spaces (U+00A0) and en dashes
// (U+2013) are ignored wherever they occur, and Devanagari digits (U+0966 to
// U+096F) are read as their ASCII equivalents. What remains must be exactly
// ten digits whose Verhoeff check digit is correct.
//
// Errors wrap ErrMalformed or ErrCheckDigit; test them with errors.Is.
func Parse(s string) (year2 int, seq int64, err error) {
	var buf [digitCount]byte
	n := 0
	for _, r := range s {
		var d byte
		switch {
		case r == ' ' || r == '-' || r == '\u00A0' || r == '\u2013':
			continue
		case r >= '0' && r <= '9':
			d = byte(r)
		case r >= '\u0966' && r <= '\u096F':
			d = byte('0' + (r - '\u0966'))
		default:
			return 0, 0, fmt.Errorf("%w: unexpected character %q", ErrMalformed, r)
		}
		if n == digitCount {
			return 0, 0, fmt.Errorf("%w: more than %d digits", ErrMalformed, digitCount)
		}
		buf[n] = d
		n++
	}
	if n != digitCount {
		return 0, 0, fmt.Errorf("%w: got %d digits, want %d", ErrMalformed, n, digitCount)
	}
	digits := string(buf[:])
	if !Valid(digits) {
		return 0, 0, ErrCheckDigit
	}
	year2 = int(buf[0]-'0')*10 + int(buf[1]-'0')
	seq, err = strconv.ParseInt(digits[2:9], 10, 64)
	if err != nil { // cannot happen: seven ASCII digits always parse
		return 0, 0, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if seq < 1 {
		return 0, 0, fmt.Errorf("%w: sequence number is zero", ErrMalformed)
	}
	return year2, seq, nil
}

// Normalize parses s as Parse does and returns it in the canonical form
// YY-NNNNNNN-C.
func Normalize(s string) (string, error) {
	year2, seq, err := Parse(s)
	if err != nil {
		return "", err
	}
	return format(year2, seq), nil
}

// Verhoeff tables: multiplication in the dihedral group D5, the position
// permutation, and the group inverse.
var (
	verhoeffD = [10][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
		{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
		{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	verhoeffInv = [10]byte{0, 4, 3, 2, 1, 5, 6, 7, 8, 9}
)

// verhoeff runs the Verhoeff checksum over digits, treating the rightmost
// digit as position offset. It reports false if digits contains anything
// other than ASCII digits.
func verhoeff(digits string, offset int) (byte, bool) {
	var c byte
	for i := 0; i < len(digits); i++ {
		ch := digits[len(digits)-1-i]
		if ch < '0' || ch > '9' {
			return 0, false
		}
		c = verhoeffD[c][verhoeffP[(i+offset)%8][ch-'0']]
	}
	return c, true
}

// CheckDigit returns the Verhoeff check digit, as an ASCII character '0' to
// '9', that must be appended to digits. It returns 0 (the NUL byte, never a
// valid digit) if digits contains anything other than ASCII digits.
func CheckDigit(digits string) byte {
	c, ok := verhoeff(digits, 1)
	if !ok {
		return 0
	}
	return '0' + verhoeffInv[c]
}

// Valid reports whether digits is a string of at least two ASCII digits whose
// last digit is the correct Verhoeff check digit for the digits before it.
func Valid(digits string) bool {
	if len(digits) < 2 {
		return false
	}
	c, ok := verhoeff(digits, 0)
	return ok && c == 0
}
