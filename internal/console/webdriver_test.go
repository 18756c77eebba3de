package console_test

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

// driver is a chromedriver process speaking the W3C WebDriver protocol.
type driver struct {
	t   *testing.T
	url string
}

// startDriver starts Debian's chromedriver on a free port, or skips the
// test when the browser is not installed (make test installs it and sets
// HELPLINE_BROWSER_TESTS=1, which turns the skip into a failure).
func startDriver(t *testing.T) *driver {
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
	d := &driver{t: t, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
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

func (d *driver) call(method, path string, body any) json.RawMessage {
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

// session is one browser window.
type session struct {
	d    *driver
	t    *testing.T
	id   string
	base string
	dir  string
}

// newSession opens a headless Chromium with a fresh profile, offline but
// for loopback.
func (d *driver) newSession(base, screenshots string) *session {
	d.t.Helper()
	profile, err := os.MkdirTemp("", "helpline-chromium-")
	if err != nil {
		d.t.Fatal(err)
	}
	v := d.call("POST", "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": "/usr/bin/chromium",
			"args": []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
				"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--window-size=1280,1000", "--user-data-dir=" + profile, "--lang=en-IN"},
		},
	}}})
	var s struct {
		SessionID string `json:"sessionId"`
	}
	_ = json.Unmarshal(v, &s)
	sess := &session{d: d, t: d.t, id: s.SessionID, base: base, dir: screenshots}
	d.t.Cleanup(func() {
		sess.call("DELETE", "", nil)
		_ = os.RemoveAll(profile)
	})
	return sess
}

func (s *session) call(method, path string, body any) json.RawMessage {
	s.t.Helper()
	return s.d.call(method, "/session/"+s.id+path, body)
}

func (s *session) open(path string) {
	s.t.Helper()
	s.call("POST", "/url", map[string]any{"url": s.base + path})
}

// js runs a script and returns its result.
func (s *session) js(script string, args ...any) json.RawMessage {
	s.t.Helper()
	if args == nil {
		args = []any{}
	}
	return s.call("POST", "/execute/sync", map[string]any{"script": script, "args": args})
}

// find waits for an element matching css and returns its id.
func (s *session) find(css string) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ids []map[string]string
		_ = json.Unmarshal(s.call("POST", "/elements", map[string]any{"using": "css selector", "value": css}), &ids)
		if len(ids) > 0 {
			for _, v := range ids[0] {
				return v
			}
		}
		if time.Now().After(deadline) {
			s.screenshot("failed-" + strings.NewReplacer("#", "", " ", "_", "/", "_").Replace(css))
			s.t.Fatalf("no element %q on %s", css, s.text("body"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *session) click(css string) {
	s.t.Helper()
	s.call("POST", "/element/"+s.find(css)+"/click", map[string]any{})
}

func (s *session) typeIn(css, text string) {
	s.t.Helper()
	id := s.find(css)
	s.call("POST", "/element/"+id+"/clear", map[string]any{})
	s.call("POST", "/element/"+id+"/value", map[string]any{"text": text})
}

// keys sends key presses to whatever has the focus.
func (s *session) keys(text string) {
	s.t.Helper()
	var acts []map[string]any
	for _, r := range text {
		acts = append(acts, map[string]any{"type": "keyDown", "value": string(r)}, map[string]any{"type": "keyUp", "value": string(r)})
	}
	s.call("POST", "/actions", map[string]any{"actions": []map[string]any{{"type": "key", "id": "keyboard", "actions": acts}}})
}

func (s *session) text(css string) string {
	s.t.Helper()
	var out string
	_ = json.Unmarshal(s.js(`const e = document.querySelector(arguments[0]); return e ? e.innerText : "";`, css), &out)
	return out
}

// waitText waits until the element's text contains want.
func (s *session) waitText(css, want string) {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(s.text(css), want) {
		if time.Now().After(deadline) {
			s.screenshot("failed-wait")
			s.t.Fatalf("%s never showed %q; it shows %q", css, want, s.text(css))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// screenshot saves the window as name.png in the screenshot directory.
func (s *session) screenshot(name string) {
	s.t.Helper()
	var b64 string
	_ = json.Unmarshal(s.call("GET", "/screenshot", nil), &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		s.t.Fatal(err)
	}
	path := s.dir + "/" + name + ".png"
	if err := os.WriteFile(path, png, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("screenshot %s", path)
}

// jsAsync runs a script that calls its last argument with the result.
func (s *session) jsAsync(script string, args ...any) json.RawMessage {
	s.t.Helper()
	if args == nil {
		args = []any{}
	}
	return s.call("POST", "/execute/async", map[string]any{"script": script, "args": args})
}

// axeSource is axe-core (MPL-2.0, testdata/axe-LICENSE.txt), the
// accessibility checker, loaded into pages by the test only.
var axeSource string

// audit checks the page against WCAG 2 A and AA with axe-core and fails the
// test on any violation.
func (s *session) audit(screen string) {
	s.t.Helper()
	if axeSource == "" {
		b, err := os.ReadFile("testdata/axe.min.js")
		if err != nil {
			s.t.Fatal(err)
		}
		axeSource = string(b)
	}
	s.js(axeSource + "\n;return typeof axe;")
	var out string
	_ = json.Unmarshal(s.jsAsync(`const done = arguments[arguments.length - 1];
		axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
			.then(r => done(JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
				nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")) })))))
			.catch(e => done("error: " + e));`), &out)
	if out != "[]" {
		s.t.Errorf("%s: accessibility violations: %s", screen, out)
	}
}
