package console_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/internal/webdriver"
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

func login(s *webdriver.Session, user string) {
	s.T.Helper()
	s.Open("/console/#/login")
	s.TypeIn("#login-username", user)
	s.TypeIn("#login-password", testenv.DemoPassword)
	s.Click("#login-form button[type=submit]")
	s.Find("#logout:not([hidden])")
}

func logout(s *webdriver.Session) {
	s.T.Helper()
	s.Click("#logout")
	s.Find("#login-form")
}

// TestConsoleLifecycle: an agent registers a complaint, the assigned
// officer acknowledges and resolves it, the agent records satisfied
// feedback, and an administrator's open dashboard counts each step as it
// happens. Every screen is photographed.
func TestConsoleLifecycle(t *testing.T) {
	d := webdriver.Start(t)
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	base := "http://" + env.Server.HTTPAddr.String()
	shots := screenshotDir(t)

	admin := d.NewSession(base, shots)
	login(admin, "admin")
	admin.Open("/console/#/dashboard")
	admin.Find("#dash-form")
	// The test's clock is in November 2026.
	admin.JS(`document.getElementById("dash-from").value = "2026-11-01"; document.getElementById("dash-to").value = "2026-11-30";
		document.querySelector("#dash-form button").click();`)
	admin.WaitText("#tile-registered", "0")

	agent := d.NewSession(base, shots)
	login(agent, "agent1")
	agent.Open("/console/#/agent")
	agent.TypeIn("#lookup-phone", "98160 12345")
	agent.Click("#lookup-form button[type=submit]")
	agent.WaitText("#previous", "No earlier complaints")
	// The rest of the call with the keyboard alone: Tab from field to field,
	// letters pick district and block, the category by its code or name.
	start := time.Now()
	agent.JS(`document.getElementById("reg-name").focus();`)
	tab, enter := "\uE004", "\uE007"
	agent.Keys("Ram Singh" + tab + tab + tab + // name, language, channel
		"Shimla" + tab + "Theog" + tab + tab + // district, block, ward
		"Theog bazaar" + tab + tab + // locality, address
		"[PWD_ROAD_POTHOLES]" + tab + "ठियोग बाज़ार के पास सड़क पर बड़े गड्ढे हैं" + tab + enter)
	agent.Find("#docket")
	docket := strings.TrimSpace(agent.Text("#docket"))
	if len(docket) != 12 {
		t.Fatalf("docket %q", docket)
	}
	t.Logf("registered %s with the keyboard alone in %v", docket, time.Since(start).Round(time.Millisecond))
	if got := agent.Text("#docket"); got != docket {
		t.Fatal("docket changed")
	}
	agent.Find(`img[src*="qr.png"]`)
	var qrSrc string
	_ = json.Unmarshal(agent.JS(`return document.querySelector('img[src*="qr.png"]').getAttribute("src");`), &qrSrc)
	qrURL, err := url.Parse(qrSrc)
	if err != nil || qrURL.Query().Get("docket") != docket || len(qrURL.Query().Get("token")) != 32 {
		t.Fatalf("the QR code's source %q carries no docket with its secret", qrSrc)
	}
	// The QR code's link: /console/#/status/<docket>/<secret>.
	qrLink := "/console/#/status/" + docket + "/" + qrURL.Query().Get("token")
	agent.Screenshot("1-agent-registered")
	agent.Audit("agent")

	admin.WaitText("#tile-registered", "1")
	admin.Screenshot("2-dashboard-after-registration")
	admin.WaitText("#aging", "1")
	admin.JS(`document.getElementById("aging").scrollIntoView();`)
	admin.Screenshot("2b-dashboard-aging-and-grades")

	officer := agent
	logout(officer)
	login(officer, "pwd-shimla-l1")
	officer.Open("/console/#/worklist")
	for i := 0; !strings.Contains(officer.Text("main"), docket); i++ { // routing takes a moment
		if i == 50 {
			t.Fatalf("%s never reached the worklist: %s", docket, officer.Text("main"))
		}
		officer.Open("/console/#/agent") // leave and come back to reload
		officer.Open("/console/#/worklist")
		officer.Find("h1")
	}
	officer.Screenshot("3-officer-worklist")
	officer.Audit("worklist")
	officer.Click(`a[href="#/complaint/` + docket + `"]`)
	officer.WaitText("main dl", "Theog")
	officer.WaitText("main dl", "ठियोग बाज़ार के पास सड़क पर बड़े गड्ढे हैं")
	officer.WaitText("main dl", "98xxxxx345") // masked for officers
	officer.TypeIn("#act-text", "on it")
	officer.Click(`button[data-action="act.acknowledge"]`)
	officer.WaitText("main dl", "In progress")
	officer.TypeIn("#act-text", "गड्ढे भर दिए गए")
	officer.Click(`button[data-action="act.resolve"]`)
	officer.WaitText("main dl", "Resolved")
	officer.WaitText(".history", "resolve")
	officer.Screenshot("4-officer-complaint")
	officer.Audit("complaint")

	admin.WaitText("#tile-resolved", "1")

	logout(agent)
	login(agent, "agent1")
	agent.Open("/console/#/feedback")
	agent.Find("#feedback-" + docket)
	agent.Screenshot("5-agent-feedback-queue")
	agent.Audit("feedback")
	agent.JS(`document.getElementById("feedback-" + arguments[0]).focus();`, docket)
	agent.Keys("1")
	agent.WaitText("main", "No complaint waits for a feedback call")

	admin.WaitText("#tile-sr", "100.0%")
	admin.Screenshot("6-admin-dashboard")
	admin.Audit("dashboard")

	// Supervision, and the same screens in Hindi.
	sup := agent
	logout(sup)
	login(sup, "supervisor")
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
	sup.Open("/console/#/supervisor")
	sup.JS(`route();`) // the login already showed this screen, before these complaints
	sup.WaitText("main", unrouted)
	sup.WaitText("main", special)
	sup.Screenshot("7-supervisor")
	sup.Audit("supervisor")
	sup.Click(`a[href="#/complaint/` + special + `"]`)
	sup.WaitText("main dl", "before the High Court")
	sup.TypeIn("#act-text", "a matter for the court")
	sup.Click(`button[data-action="act.approve"]`)
	sup.WaitText("main dl", "Closed")
	admin.Click("#lang")
	admin.WaitText("nav", "डैशबोर्ड")
	admin.WaitText("main h1", "डैशबोर्ड")
	admin.Screenshot("8-dashboard-hindi")
	admin.Audit("dashboard in Hindi")

	// Text in a right-to-left script is laid out right to left.
	urdu, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: "console-urdu", Citizen: &helplinev1.Citizen{Name: "عائشہ", Phone: "9816054321", Language: "ur"},
		Location: &helplinev1.Location{DistrictCode: "SHIMLA"}, CategoryCode: "PWD_ROAD_POTHOLES",
		Description: "سڑک پر گڑھے ہیں", Channel: helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatal(err)
	}
	admin.Open("/console/#/complaint/" + urdu.GetComplaint().GetDocket())
	admin.WaitText("main dl", "سڑک پر گڑھے ہیں")
	var dir string
	_ = json.Unmarshal(admin.JS(`for (const e of document.querySelectorAll("main dd .usertext")) if (e.textContent.includes("سڑک")) return getComputedStyle(e).direction; return "";`), &dir)
	if dir != "rtl" {
		t.Fatalf("Urdu text laid out %q", dir)
	}
	admin.Screenshot("9-complaint-urdu")
	admin.Audit("complaint in Urdu")

	// The QR code's page: the citizen sees where the complaint is, without logging in, and nothing personal.
	citizen := d.NewSession(base, shots)
	citizen.Open("/console/#/status/" + docket) // the docket alone shows nothing
	citizen.WaitText(".status-page .error", "No complaint has this docket number and code.")
	citizen.Open(qrLink)
	citizen.WaitText("#status", "Closed")
	citizen.WaitText("#status", "Potholes on road")
	if body := citizen.Text("body"); strings.Contains(body, "राम") || strings.Contains(body, "गड्ढे") || strings.Contains(body, "12345") {
		t.Fatalf("the public status page shows personal data: %s", body)
	}
	citizen.Screenshot("10-citizen-status")
	citizen.Audit("status")

	// Nothing was loaded from anywhere but this server.
	var urls []string
	_ = json.Unmarshal(admin.JS(`return performance.getEntriesByType("resource").map(e => e.name).concat([location.href]);`), &urls)
	for _, u := range urls {
		if !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			t.Errorf("the console loaded %s", u)
		}
	}
}
