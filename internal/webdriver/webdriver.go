// Package webdriver drives Debian's headless Chromium through chromedriver
// with the W3C WebDriver protocol, for the tests of the console and the
// deployment rehearsal. It is used by tests only.
package webdriver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Driver is a chromedriver process speaking the W3C WebDriver protocol.
type Driver struct {
	t   *testing.T
	url string
}

// Start starts Debian's chromedriver on a free port, or skips the
// test when the browser is not installed (make test installs it and sets
// HELPLINE_BROWSER_TESTS=1, which turns the skip into a failure).
func Start(t *testing.T) *Driver {
	t.Helper()
	for _, bin := range []string{"/usr/bin/chromium", "/usr/bin/chromedriver"} {
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv("HELPLINE_BROWSER_TESTS") == "1" {
				t.Fatalf("%s is missing: scripts/chromium.sh installs it", bin)
			}
			t.Skipf("%s is missing (make test installs it)", bin)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command("/usr/bin/chromedriver", fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	d := &Driver{t: t, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(d.url + "/status")
		if err == nil {
			resp.Body.Close()
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver did not start: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *Driver) Call(method, path string, body any) json.RawMessage {
	d.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, d.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != 200 {
		d.t.Fatalf("webdriver %s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return out.Value
}

// Session is one browser window.
type Session struct {
	d *Driver
	// T is the test the session fails.
	T    *testing.T
	id   string
	base string
	dir  string
}

// NewSession opens a headless Chromium with a fresh profile, offline but
// for loopback; args are more Chromium switches (e.g. --host-resolver-rules).
func (d *Driver) NewSession(base, screenshots string, args ...string) *Session {
	d.t.Helper()
	profile, err := os.MkdirTemp("", "helpline-chromium-")
	if err != nil {
		d.t.Fatal(err)
	}
	v := d.Call("POST", "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": "/usr/bin/chromium",
			"args": append([]string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
				"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--window-size=1280,1000", "--user-data-dir=" + profile, "--lang=en-IN"}, args...),
		},
	}}})
	var s struct {
		SessionID string `json:"sessionId"`
	}
	_ = json.Unmarshal(v, &s)
	sess := &Session{d: d, T: d.t, id: s.SessionID, base: base, dir: screenshots}
	d.t.Cleanup(func() {
		sess.Call("DELETE", "", nil)
		_ = os.RemoveAll(profile)
	})
	return sess
}

func (s *Session) Call(method, path string, body any) json.RawMessage {
	s.T.Helper()
	return s.d.Call(method, "/session/"+s.id+path, body)
}

func (s *Session) Open(path string) {
	s.T.Helper()
	s.Call("POST", "/url", map[string]any{"url": s.base + path})
}

// JS runs a script and returns its result.
func (s *Session) JS(script string, args ...any) json.RawMessage {
	s.T.Helper()
	if args == nil {
		args = []any{}
	}
	return s.Call("POST", "/execute/sync", map[string]any{"script": script, "args": args})
}

// Find waits for an element matching css and returns its id.
func (s *Session) Find(css string) string {
	s.T.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ids []map[string]string
		_ = json.Unmarshal(s.Call("POST", "/elements", map[string]any{"using": "css selector", "value": css}), &ids)
		if len(ids) > 0 {
			for _, v := range ids[0] {
				return v
			}
		}
		if time.Now().After(deadline) {
			s.Screenshot("failed-" + strings.NewReplacer("#", "", " ", "_", "/", "_").Replace(css))
			s.T.Fatalf("no element %q on %s", css, s.Text("body"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Session) Click(css string) {
	s.T.Helper()
	s.Call("POST", "/element/"+s.Find(css)+"/click", map[string]any{})
}

func (s *Session) TypeIn(css, text string) {
	s.T.Helper()
	id := s.Find(css)
	s.Call("POST", "/element/"+id+"/clear", map[string]any{})
	s.Call("POST", "/element/"+id+"/value", map[string]any{"text": text})
}

// Keys sends key presses to whatever has the focus.
func (s *Session) Keys(text string) {
	s.T.Helper()
	var acts []map[string]any
	for _, r := range text {
		acts = append(acts, map[string]any{"type": "keyDown", "value": string(r)}, map[string]any{"type": "keyUp", "value": string(r)})
	}
	s.Call("POST", "/actions", map[string]any{"actions": []map[string]any{{"type": "key", "id": "keyboard", "actions": acts}}})
}

func (s *Session) Text(css string) string {
	s.T.Helper()
	var out string
	_ = json.Unmarshal(s.JS(`const e = document.querySelector(arguments[0]); return e ? e.innerText : "";`, css), &out)
	return out
}

// WaitText waits until the element's text contains want.
func (s *Session) WaitText(css, want string) {
	s.T.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(s.Text(css), want) {
		if time.Now().After(deadline) {
			s.Screenshot("failed-wait")
			s.T.Fatalf("%s never showed %q; it shows %q", css, want, s.Text(css))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Screenshot saves the window as name.png in the screenshot directory.
func (s *Session) Screenshot(name string) {
	s.T.Helper()
	var b64 string
	_ = json.Unmarshal(s.Call("GET", "/screenshot", nil), &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		s.T.Fatal(err)
	}
	path := s.dir + "/" + name + ".png"
	if err := os.WriteFile(path, png, 0o644); err != nil {
		s.T.Fatal(err)
	}
	s.T.Logf("screenshot %s", path)
}

// JSAsync runs a script that calls its last argument with the result.
func (s *Session) JSAsync(script string, args ...any) json.RawMessage {
	s.T.Helper()
	if args == nil {
		args = []any{}
	}
	return s.Call("POST", "/execute/async", map[string]any{"script": script, "args": args})
}

// axeSource is axe-core (MPL-2.0, testdata/axe-LICENSE.txt), the
// accessibility checker, loaded into pages by the test only.
var axeSource string

// Audit checks the page against WCAG 2 A and AA with axe-core and fails the
// test on any violation.
func (s *Session) Audit(screen string) {
	s.T.Helper()
	if axeSource == "" {
		b, err := os.ReadFile("testdata/axe.min.js")
		if err != nil {
			s.T.Fatal(err)
		}
		axeSource = string(b)
	}
	s.JS(axeSource + "\n;return typeof axe;")
	var out string
	_ = json.Unmarshal(s.JSAsync(`const done = arguments[arguments.length - 1];
		axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
			.then(r => done(JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
				nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")) })))))
			.catch(e => done("error: " + e));`), &out)
	if out != "[]" {
		s.T.Errorf("%s: accessibility violations: %s", screen, out)
	}
}
