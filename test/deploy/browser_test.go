//go:build deploy

package deploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/internal/webdriver"
)

// browser is an agent's and an officer's Chromium window on one origin,
// each signed in once and kept for the whole rehearsal of that origin.
type browser struct {
	driver         *webdriver.Driver
	base, shots    string
	args           []string
	agent, officer page
}

// page is a signed-in console window.
type page struct{ *webdriver.Session }

func newBrowser(t *testing.T, d *webdriver.Driver, base, shots string, c certs) *browser {
	b := &browser{driver: d, base: base, shots: shots, args: []string{
		"--host-resolver-rules=MAP " + hostname + " 127.0.0.1",
		"--ignore-certificate-errors-spki-list=" + c.spki,
	}}
	b.agent = b.signIn(t, "agent1", testenv.DemoPassword)
	b.officer = b.signIn(t, "pwd-shimla-l1", testenv.DemoPassword)
	return b
}

// signIn opens a window and signs in.
func (b *browser) signIn(t *testing.T, user, pw string) page {
	s := b.driver.NewSession(b.base, b.shots, b.args...)
	s.Open("/console/#/login")
	s.TypeIn("#login-username", user)
	s.TypeIn("#login-password", pw)
	s.Click("#login-form button[type=submit]")
	return page{s}
}

func (p page) isSecure() bool {
	var secure bool
	_ = json.Unmarshal(p.JS(`return window.isSecureContext;`), &secure)
	return secure
}

// lifecycle: the agent registers a complaint with the keyboard, the
// officer acknowledges and resolves it, the agent records the citizen's
// satisfaction; it returns the docket.
func (b *browser) lifecycle(t *testing.T, label string) string {
	t.Helper()
	a, o := b.agent, b.officer
	a.Find("#logout:not([hidden])")
	a.Open("/console/#/agent")
	a.TypeIn("#lookup-phone", "98160 12345")
	a.Click("#lookup-form button[type=submit]")
	for i := 0; !strings.Contains(a.Text("#previous"), "arlier complaints"); i++ { // "Earlier complaints" or "No earlier complaints"
		if i == 100 {
			t.Fatalf("%s: the phone lookup never answered: %s", label, a.Text("main"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.JS(`document.getElementById("reg-name").focus();`)
	tab, enter := "\uE004", "\uE007"
	a.Keys("Ram Singh" + tab + tab + tab + "Shimla" + tab + "Theog" + tab + tab + "Theog bazaar" + tab + tab +
		"[PWD_ROAD_POTHOLES]" + tab + "ठियोग बाज़ार के पास सड़क पर गड्ढे (" + label + ")" + tab + enter)
	a.Find("#docket")
	docket := strings.TrimSpace(a.Text("#docket"))
	if len(docket) != 12 {
		t.Fatalf("%s: docket %q", label, docket)
	}
	a.Screenshot(shotName(label, "1-registered"))

	o.Find("#logout:not([hidden])")
	for i := 0; ; i++ { // routing takes a moment
		o.Open("/console/#/complaint/" + docket)
		o.Find("main h1")
		if strings.Contains(o.Text("main"), "PWD-SHIMLA-L1") || strings.Contains(o.Text("main"), "Assigned") {
			break
		}
		if i == 50 {
			t.Fatalf("%s: %s never reached the officer: %s", label, docket, o.Text("main"))
		}
		o.Open("/console/#/worklist")
		o.Find("main h1")
		time.Sleep(200 * time.Millisecond)
	}
	o.WaitText("main dl", "98xxxxx345")
	o.TypeIn("#act-text", "on it")
	o.Click(`button[data-action="act.acknowledge"]`)
	o.WaitText("main dl", "In progress")
	o.TypeIn("#act-text", "गड्ढे भर दिए गए")
	o.Click(`button[data-action="act.resolve"]`)
	o.WaitText("main dl", "Resolved")
	o.Screenshot(shotName(label, "2-resolved"))

	a.Open("/console/#/feedback")
	for i := 0; ; i++ { // the feedback queue is fed by an event
		if n := a.JS(`return document.getElementById("feedback-" + arguments[0]) !== null;`, docket); string(n) == "true" {
			break
		}
		if i == 100 {
			t.Fatalf("%s: %s never reached the feedback queue", label, docket)
		}
		time.Sleep(200 * time.Millisecond)
		a.Open("/console/#/agent")
		a.Open("/console/#/feedback")
		a.Find("main h1")
	}
	a.JS(`document.getElementById("feedback-" + arguments[0]).focus();`, docket)
	a.Keys("1")
	for i := 0; ; i++ {
		if string(a.JS(`return document.getElementById("feedback-" + arguments[0]) === null;`, docket)) == "true" {
			break
		}
		if i == 100 {
			t.Fatalf("%s: feedback on %s never recorded", label, docket)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := 0; ; i++ { // the page shows the complaint as it was when opened
		o.Open("/console/#/agent")
		o.Open("/console/#/complaint/" + docket)
		o.Find("main dl")
		if strings.Contains(o.Text("main dl"), "Closed") {
			break
		}
		if i == 50 {
			t.Fatalf("%s: %s never closed: %s", label, docket, o.Text("main dl"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	a.Screenshot(shotName(label, "3-closed"))
	return docket
}

// firstLogin: an administrator creates an officer with a one-time password
// (through the proxy's REST); the officer's first login in the browser
// leads to the change-password screen, and the new password works.
func (b *browser) firstLogin(t *testing.T, d *deployment, user string) {
	t.Helper()
	c := d.certs.client("")
	api := fmt.Sprintf("https://%s:%d", hostname, d.httpsPort)
	code, _, body := login(t, c, api+"/v1/login", "admin", testenv.DemoPassword, "")
	if code != 200 {
		t.Fatalf("admin login: %d %s", code, body)
	}
	var l struct{ Token string }
	_ = json.Unmarshal([]byte(body), &l)
	oneTime := "a temporary password 4711"
	req, _ := http.NewRequest("POST", api+"/v1/users", strings.NewReader(fmt.Sprintf(
		`{"username": %q, "displayName": "New Officer", "role": "ROLE_OFFICER", "password": %q}`, user, oneTime)))
	req.Header.Set("Authorization", "Bearer "+l.Token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("create %s: HTTP %d", user, resp.StatusCode)
	}
	s := b.signIn(t, user, oneTime)
	s.Find("#password-form")
	s.Screenshot(shotName(user, "change-password"))
	newPassword := "my own secret, chosen at first login"
	s.TypeIn("#pw-old", oneTime)
	s.TypeIn("#pw-new", newPassword)
	s.TypeIn("#pw-again", newPassword)
	s.Click("#password-form button[type=submit]")
	for i := 0; string(s.JS(`return document.getElementById("password-form") === null;`)) != "true"; i++ {
		if i == 100 {
			s.Screenshot(shotName(user, "failed-change"))
			t.Fatalf("%s: the change-password screen stayed: %s", user, s.Text("main"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Find("#logout:not([hidden])")
	s.Screenshot(shotName(user, "after-change"))
	if code, _, body := login(t, c, api+"/v1/login", user, newPassword, ""); code != 200 || strings.Contains(body, `"passwordChangeRequired":true`) {
		t.Fatalf("%s with the new password: %d %s", user, code, body)
	}
}

func shotName(label, step string) string {
	return strings.NewReplacer(" ", "-", "/", "-").Replace(label) + "-" + step
}
