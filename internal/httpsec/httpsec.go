// Package httpsec holds the HTTP headers every API answer carries.
package httpsec

import "net/http"

// NoStore sets, on every answer of next, `Cache-Control: no-store` (API
// answers may carry personal data: no cache keeps them) and
// `X-Content-Type-Options: nosniff` (a browser takes the content type as
// given).
func NoStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Set(w.Header())
		next.ServeHTTP(w, r)
	})
}

// Set sets the headers of NoStore on h.
func Set(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}
