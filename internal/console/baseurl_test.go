package console

import (
	"net/http/httptest"
	"testing"
)

// TestBaseURL: the QR codes' address is the -public-url setting when set,
// whatever the request's Host says; else the request's own.
func TestBaseURL(t *testing.T) {
	r := httptest.NewRequest("GET", "http://evil.example/console/qr.png", nil)
	if got := (&Handler{publicURL: "https://helpline.example.in"}).baseURL(r); got != "https://helpline.example.in" {
		t.Errorf("with -public-url: %q", got)
	}
	if got := (&Handler{}).baseURL(r); got != "http://evil.example" {
		t.Errorf("without -public-url: %q", got)
	}
}
