// Package page handles paging: page sizes and opaque keyset page tokens.
package page

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/helpline/helpline/internal/apperr"
)

// Cursor is a position in a listing ordered by (time, id).
type Cursor struct {
	At time.Time
	ID int64
}

// Token encodes c as an opaque page token.
func (c Cursor) Token() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d.%d", c.At.UnixMicro(), c.ID)))
}

// Parse decodes a page token; an empty token is the first page (nil).
func Parse(tok string) (*Cursor, error) {
	if tok == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, apperr.Invalid("page_token", "malformed page token")
	}
	micro, id, ok := strings.Cut(string(raw), ".")
	us, err1 := strconv.ParseInt(micro, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return nil, apperr.Invalid("page_token", "malformed page token")
	}
	return &Cursor{At: time.UnixMicro(us), ID: n}, nil
}

// Size validates a requested page size: 0 means def, at most max.
func Size(requested int32, def, max int) (int, error) {
	switch {
	case requested < 0 || int(requested) > max:
		return 0, apperr.Invalid("page_size", fmt.Sprintf("must be between 0 and %d", max))
	case requested == 0:
		return def, nil
	}
	return int(requested), nil
}
