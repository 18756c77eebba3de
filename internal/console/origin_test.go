package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secureContextOnly are browser APIs that exist only in secure contexts
// (HTTPS or localhost). The console is opened as http://<server>:8080 on a
// call centre's LAN, where each of them is undefined and a screen that
// calls one breaks.
var secureContextOnly = []string{
	"randomUUID", "crypto.subtle", "navigator.clipboard", "serviceWorker", "navigator.credentials",
	"navigator.geolocation", "getUserMedia", "getDisplayMedia", "Notification", "PaymentRequest",
	"navigator.storage", "navigator.share", "navigator.usb", "navigator.bluetooth", "showOpenFilePicker",
	"BroadcastChannel", "navigator.locks", "caches.", "CookieStore", "cookieStore",
}

// TestNoSecureContextOnlyAPI: no console file uses an API that needs HTTPS
// (the browser test proves the screens work over plain HTTP on a non-loopback
// name; this names the offending file and API at once).
func TestNoSecureContextOnlyAPI(t *testing.T) {
	files, err := filepath.Glob("static/*.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no console scripts: %v", err)
	}
	html, _ := filepath.Glob("static/*.html")
	for _, f := range append(files, html...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, api := range secureContextOnly {
			if strings.Contains(string(b), api) {
				t.Errorf("%s uses %s, which exists only in secure contexts (HTTPS or localhost)", f, api)
			}
		}
	}
}
