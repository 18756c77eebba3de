package console_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// screenshotDir is where the browser test leaves a picture of every screen:
// $HELPLINE_SCREENSHOT_DIR, else bin/screenshots of the repository.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("HELPLINE_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "bin", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

func (s *session) login(user string) {
	s.t.Helper()
	s.open("/console/#/login")
	s.typeIn("#login-username", user)
	s.typeIn("#login-password", testenv.DemoPassword)
	s.click("#login-form button[type=submit]")
	s.find("#logout:not([hidden])")
}

func (s *session) logout() {
	s.t.Helper()
	s.click("#logout")
	s.find("#login-form")
}

// TestConsoleLifecycle: an agent registers a complaint, the assigned
// officer acknowledges and resolves it, the agent records satisfied
// feedback, and an administrator's open dashboard counts each step as it
// happens. Every screen is photographed.
func TestConsoleLifecycle(t *testing.T) {
	d := startDriver(t)
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	base := "http://" + env.Server.HTTPAddr.String()
	shots := screenshotDir(t)

	admin := d.newSession(base, shots)
	admin.login("admin")
	admin.open("/console/#/dashboard")
	admin.find("#dash-form")
	// The test's clock is in November 2026.
	admin.js(`document.getElementById("dash-from").value = "2026-11-01"; document.getElementById("dash-to").value = "2026-11-30";
		document.querySelector("#dash-form button").click();`)
	admin.waitText("#tile-registered", "0")

	agent := d.newSession(base, shots)
	agent.login("agent1")
	agent.open("/console/#/agent")
	agent.typeIn("#lookup-phone", "98160 12345")
	agent.click("#lookup-form button[type=submit]")
	agent.waitText("#previous", "No earlier complaints")
	// The rest of the call with the keyboard alone: Tab from field to field,
	// letters pick district and block, the category by its code or name.
	start := time.Now()
	agent.js(`document.getElementById("reg-name").focus();`)
	tab, enter := "\uE004", "\uE007"
	agent.keys("Ram Singh" + tab + tab + tab + // name, language, channel
		"Shimla" + tab + "Theog" + tab + tab + // district, block, ward
		"Theog bazaar" + tab + tab + // locality, address
		"[PWD_ROAD_POTHOLES]" + tab + "ठियोग बाज़ार के पास सड़क पर बड़े गड्ढे हैं" + tab + enter)
	agent.find("#docket")
	docket := strings.TrimSpace(agent.text("#docket"))
	if len(docket) != 12 {
		t.Fatalf("docket %q", docket)
	}
	t.Logf("registered %s with the keyboard alone in %v", docket, time.Since(start).Round(time.Millisecond))
	if got := agent.text("#docket"); got != docket {
		t.Fatal("docket changed")
	}
	agent.find(`img[src*="qr.png"]`)
	agent.screenshot("1-agent-registered")
	agent.audit("agent")

	admin.waitText("#tile-registered", "1")
	admin.screenshot("2-dashboard-after-registration")
	admin.waitText("#aging", "1")
	admin.js(`document.getElementById("aging").scrollIntoView();`)
	admin.screenshot("2b-dashboard-aging-and-grades")

	officer := agent
	officer.logout()
	officer.login("pwd-shimla-l1")
	officer.open("/console/#/worklist")
	for i := 0; !strings.Contains(officer.text("main"), docket); i++ { // routing takes a moment
		if i == 50 {
			t.Fatalf("%s never reached the worklist: %s", docket, officer.text("main"))
		}
		officer.open("/console/#/agent") // leave and come back to reload
		officer.open("/console/#/worklist")
		officer.find("h1")
	}
	officer.screenshot("3-officer-worklist")
	officer.audit("worklist")
	officer.click(`a[href="#/complaint/` + docket + `"]`)
	officer.waitText("main dl", "Theog")
	officer.waitText("main dl", "ठियोग बाज़ार के पास सड़क पर बड़े गड्ढे हैं")
	officer.waitText("main dl", "98xxxxx345") // masked for officers
	officer.typeIn("#act-text", "on it")
	officer.click(`button[data-action="act.acknowledge"]`)
	officer.waitText("main dl", "In progress")
	officer.typeIn("#act-text", "गड्ढे भर दिए गए")
	officer.click(`button[data-action="act.resolve"]`)
	officer.waitText("main dl", "Resolved")
	officer.waitText(".history", "resolve")
	officer.screenshot("4-officer-complaint")
	officer.audit("complaint")

	admin.waitText("#tile-resolved", "1")

	agent.logout()
	agent.login("agent1")
	agent.open("/console/#/feedback")
	agent.find("#feedback-" + docket)
	agent.screenshot("5-agent-feedback-queue")
	agent.audit("feedback")
	agent.js(`document.getElementById("feedback-" + arguments[0]).focus();`, docket)
	agent.keys("1")
	agent.waitText("main", "No complaint waits for a feedback call")

	admin.waitText("#tile-sr", "100.0%")
	admin.screenshot("6-admin-dashboard")
	admin.audit("dashboard")

	// Supervision, and the same screens in Hindi.
	sup := agent
	sup.logout()
	sup.login("supervisor")
	// One complaint no rule routes, one with a special closure proposed.
	reg := func(key, category string) string {
		resp, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
			IdempotencyKey: key, Citizen: &helplinev1.Citizen{Name: "Meena", Phone: "9418012345"},
			Location: &helplinev1.Location{DistrictCode: "SHIMLA"}, CategoryCode: category,
			Description: "complaint " + key, Channel: helplinev1.Channel_CHANNEL_WHATSAPP,
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetComplaint().GetDocket()
	}
	unrouted := reg("console-unrouted", "GENERAL_OTHER")
	special := reg("console-special", "PWD_ROAD_POTHOLES")
	testenv.Eventually(t, 10*time.Second, "routed", func() bool {
		c, err := env.Intake.GetComplaint(env.Agent, &helplinev1.GetComplaintRequest{Docket: special})
		u, uerr := env.Intake.GetComplaint(env.Agent, &helplinev1.GetComplaintRequest{Docket: unrouted})
		return err == nil && uerr == nil && c.GetComplaint().GetPost() != "" &&
			u.GetComplaint().GetStatus() == helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNROUTED
	})
	if _, err := env.Resolution.ProposeSpecialClosure(env.As("pwd-shimla-l1"), &helplinev1.ProposeSpecialClosureRequest{
		Docket: special, Reason: helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_SUB_JUDICE, Note: "before the High Court",
	}); err != nil {
		t.Fatal(err)
	}
	sup.open("/console/#/supervisor")
	sup.js(`route();`) // the login already showed this screen, before these complaints
	sup.waitText("main", unrouted)
	sup.waitText("main", special)
	sup.screenshot("7-supervisor")
	sup.audit("supervisor")
	sup.click(`a[href="#/complaint/` + special + `"]`)
	sup.waitText("main dl", "before the High Court")
	sup.typeIn("#act-text", "a matter for the court")
	sup.click(`button[data-action="act.approve"]`)
	sup.waitText("main dl", "Closed")
	admin.click("#lang")
	admin.waitText("nav", "डैशबोर्ड")
	admin.waitText("main h1", "डैशबोर्ड")
	admin.screenshot("8-dashboard-hindi")
	admin.audit("dashboard in Hindi")

	// Text in a right-to-left script is laid out right to left.
	urdu, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: "console-urdu", Citizen: &helplinev1.Citizen{Name: "عائشہ", Phone: "9816054321", Language: "ur"},
		Location: &helplinev1.Location{DistrictCode: "SHIMLA"}, CategoryCode: "PWD_ROAD_POTHOLES",
		Description: "سڑک پر گڑھے ہیں", Channel: helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatal(err)
	}
	admin.open("/console/#/complaint/" + urdu.GetComplaint().GetDocket())
	admin.waitText("main dl", "سڑک پر گڑھے ہیں")
	var dir string
	_ = json.Unmarshal(admin.js(`for (const e of document.querySelectorAll("main dd .usertext")) if (e.textContent.includes("سڑک")) return getComputedStyle(e).direction; return "";`), &dir)
	if dir != "rtl" {
		t.Fatalf("Urdu text laid out %q", dir)
	}
	admin.screenshot("9-complaint-urdu")
	admin.audit("complaint in Urdu")

	// The QR code's page: the citizen sees where the complaint is, without logging in, and nothing personal.
	citizen := d.newSession(base, shots)
	citizen.open("/console/#/status/" + docket)
	citizen.waitText("#status", "Closed")
	citizen.waitText("#status", "Potholes on road")
	if body := citizen.text("body"); strings.Contains(body, "राम") || strings.Contains(body, "गड्ढे") || strings.Contains(body, "12345") {
		t.Fatalf("the public status page shows personal data: %s", body)
	}
	citizen.screenshot("10-citizen-status")
	citizen.audit("status")

	// Nothing was loaded from anywhere but this server.
	var urls []string
	_ = json.Unmarshal(admin.js(`return performance.getEntriesByType("resource").map(e => e.name).concat([location.href]);`), &urls)
	for _, u := range urls {
		if !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			t.Errorf("the console loaded %s", u)
		}
	}
}
