package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/internal/webdriver"
)

// TestConsoleOnALANName opens the console as a call centre's agents do:
// over plain HTTP by a name that is not localhost (helpline.lan, mapped to
// 127.0.0.1 inside Chromium), where the page is not a secure context. The
// agent's screen registers a complaint; a reload mid-registration keeps the
// form, and the resubmit after a reply that never arrived returns the same
// docket (one complaint stored). A new officer created by an administrator
// is taken to the change-password screen at the first login, changes the
// one-time password and reaches the worklist.
func TestConsoleOnALANName(t *testing.T) {
	d := webdriver.Start(t)
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	_, port, _ := strings.Cut(env.Server.HTTPAddr.String(), ":")
	base := "http://helpline.lan:" + port
	s := d.NewSession(base, screenshotDir(t), "--host-resolver-rules=MAP helpline.lan 127.0.0.1")

	login(s, "agent1")
	var secure bool
	if err := json.Unmarshal(s.JS(`return window.isSecureContext;`), &secure); err != nil || secure {
		t.Fatalf("isSecureContext = %v (%v) on %s: the test must run in an insecure context", secure, err, base)
	}
	var host string
	_ = json.Unmarshal(s.JS(`return location.host;`), &host)
	if host != "helpline.lan:"+port {
		t.Fatalf("the page is at %q", host)
	}

	complaints := func() (n int, docket string) {
		t.Helper()
		if err := env.Pool.QueryRow(context.Background(), `SELECT count(*), coalesce(max(docket), '') FROM complaints`).Scan(&n, &docket); err != nil {
			t.Fatal(err)
		}
		return n, docket
	}
	if n, _ := complaints(); n != 0 {
		t.Fatalf("%d complaints before the test", n)
	}

	// The agent fills the form in...
	s.Open("/console/#/agent")
	s.Find("#register-form")
	s.TypeIn("#reg-phone", "98160 12345")
	s.TypeIn("#reg-name", "Ram Singh")
	s.JS(`for (const [id, v] of [["reg-district", "SHIMLA"], ["reg-block", "THEOG"]]) {
		const e = document.getElementById(id); e.value = v;
		e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); }`)
	s.TypeIn("#reg-locality", "Theog bazaar")
	s.TypeIn("#reg-category", "[PWD_ROAD_POTHOLES]")
	s.TypeIn("#reg-description", "ठियोग बाज़ार के पास सड़क पर बड़े गड्ढे हैं")
	form := func() map[string]string {
		var v map[string]string
		_ = json.Unmarshal(s.JS(`const v = {}; for (const id of ["reg-phone", "reg-name", "reg-district", "reg-block", "reg-locality", "reg-category", "reg-description"])
			v[id] = document.getElementById(id).value; return v;`), &v)
		return v
	}
	filled := form()
	if filled["reg-block"] != "THEOG" || filled["reg-description"] == "" {
		t.Fatalf("the form as filled: %v", filled)
	}
	reload := func() {
		t.Helper()
		s.JS(`window.testMark = true; location.reload();`)
		for i := 0; ; i++ { // until the new page is there
			var old bool
			_ = json.Unmarshal(s.JS(`return window.testMark === true;`), &old)
			if !old {
				break
			}
			if i == 100 {
				t.Fatal("the page did not reload")
			}
			time.Sleep(50 * time.Millisecond)
		}
		s.Find("#register-form")
	}
	// ...the browser is reloaded mid-call: nothing is lost.
	reload()
	if got := form(); fmt.Sprint(got) != fmt.Sprint(filled) {
		t.Fatalf("after a reload the form holds %v, want %v", got, filled)
	}
	// The agent registers, and the reply never arrives (the request reaches
	// the server; the page never hears back).
	s.JS(`const real = window.fetch;
		window.fetch = async (...a) => { const r = await real(...a);
			if (String(a[0]).startsWith("/v1/complaints")) { window.testSent = true; return new Promise(() => {}); }
			return r; };`)
	s.Click("#register")
	for i := 0; ; i++ {
		var sent bool
		_ = json.Unmarshal(s.JS(`return window.testSent === true;`), &sent)
		if sent {
			break
		}
		if i == 200 {
			t.Fatal("the registration was never sent")
		}
		time.Sleep(50 * time.Millisecond)
	}
	n, stored := complaints()
	if n != 1 {
		t.Fatalf("%d complaints stored by the first submit", n)
	}
	// Reloaded again, the form is still there and the resubmit is the same complaint.
	reload()
	if got := form(); fmt.Sprint(got) != fmt.Sprint(filled) {
		t.Fatalf("after the lost reply and a reload the form holds %v, want %v", got, filled)
	}
	s.Click("#register")
	s.Find("#docket")
	if got := strings.TrimSpace(s.Text("#docket")); got != stored {
		t.Fatalf("the resubmit shows docket %q, the first submit stored %q", got, stored)
	}
	if n, _ := complaints(); n != 1 {
		t.Fatalf("%d complaints after the resubmit, want 1", n)
	}
	var draft *string
	_ = json.Unmarshal(s.JS(`return sessionStorage.getItem("helpline.registration");`), &draft)
	if draft != nil {
		t.Errorf("the form's draft is kept after the docket showed: %s", *draft)
	}
	s.Screenshot("11-agent-on-a-lan-name")

	// A new officer, created by an administrator with a one-time password.
	const oneTime = "one-time-from-the-admin"
	if _, err := env.Identity.CreateUser(env.Admin, &helplinev1.CreateUserRequest{Username: "new-officer", DisplayName: "New Officer",
		Role: helplinev1.Role_ROLE_OFFICER, Password: oneTime}); err != nil {
		t.Fatal(err)
	}
	logout(s)
	s.TypeIn("#login-username", "new-officer")
	s.TypeIn("#login-password", oneTime)
	s.Click("#login-form button[type=submit]")
	s.Find("#password-form #pw-forced")
	if nav := s.Text("#nav"); nav != "" {
		t.Errorf("the restricted session offers screens: %q", nav)
	}
	s.Open("/console/#/worklist") // nothing else until the password is changed
	s.Find("#password-form #pw-forced")
	s.Screenshot("12-change-password-forced")
	s.Audit("change password (forced)")

	// The rules, with the field named; then the change.
	s.TypeIn("#pw-old", oneTime)
	s.TypeIn("#pw-new", "new-officer-password")
	s.TypeIn("#pw-again", "new-officer-password")
	s.Click("#password-form button[type=submit]")
	s.WaitText("#flash", "new_password")
	s.TypeIn("#pw-new", "a password of my own")
	s.TypeIn("#pw-again", "a password of my own!")
	s.Click("#password-form button[type=submit]")
	s.WaitText("#flash", "The two new passwords differ")
	s.TypeIn("#pw-again", "a password of my own")
	s.Click("#password-form button[type=submit]")
	s.WaitText("main h1", "My worklist")
	s.WaitText("#nav", "Worklist")
	if r, err := env.Identity.Login(context.Background(), &helplinev1.LoginRequest{Username: "new-officer", Password: "a password of my own"}); err != nil || r.GetPasswordChangeRequired() {
		t.Fatalf("login with the changed password: %v", err)
	}

	// Every signed-in user reaches the screen from the header, in Hindi too.
	s.Click("#password-link")
	s.Find("#password-form")
	if strings.Contains(s.Text("main"), "one-time") {
		t.Error("the screen reached from the header says the password is a one-time one")
	}
	s.Click("#lang")
	s.WaitText("main h1", "अपना पासवर्ड बदलें")
	s.Screenshot("13-change-password-hindi")
	s.Audit("change password in Hindi")
	s.TypeIn("#pw-old", "not my password at all")
	s.TypeIn("#pw-new", "yet another password")
	s.TypeIn("#pw-again", "yet another password")
	s.Click("#password-form button[type=submit]")
	s.WaitText("#flash", "वर्तमान पासवर्ड गलत है")
	s.Find("#password-form") // a wrong current password does not sign the user out
	s.Click("#lang")
}
