//go:build hostile

package hostile

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/server"
	"github.com/helpline/helpline/internal/testenv"
)

// TestSensitiveCategoryOnTheStatusPage: whoever holds a status link (a QR
// code photographed over a shoulder, a link forwarded) read what the
// complaint was about and where: "drug peddling, KANGRA" points at a person.
// The seed's sensitive categories (drug peddling, an FIR not registered)
// now show only the department; a category an administrator marks
// sensitive hides at once on the pages of complaints already filed.
func TestSensitiveCategoryOnTheStatusPage(t *testing.T) {
	env := testenv.StartServerWith(t, func(c *server.Config) { c.HTTPAddr = "127.0.0.1:0" })
	after := "not measured (the test stopped early)"
	defer func() {
		record(t, "reading a sensitive complaint's category and district off its status page",
			"the status page shows the category (e.g. drug peddling) and district of any complaint", after)
	}()
	base := "http://" + env.Server.HTTPAddr.String()
	type filed struct{ docket, token string }
	file := func(category string) filed {
		t.Helper()
		reg, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
			IdempotencyKey: "hostile-sensitive-" + category,
			Citizen:        &helplinev1.Citizen{Name: "Kamla Devi", Phone: "9418055555"},
			Location:       &helplinev1.Location{DistrictCode: "KANGRA"},
			CategoryCode:   category, Description: "behind the school", Channel: helplinev1.Channel_CHANNEL_PHONE,
		})
		if err != nil {
			t.Fatal(err)
		}
		d := reg.GetComplaint().GetDocket()
		testenv.Eventually(t, 5*time.Second, "routing of "+d, func() bool {
			got, err := env.Intake.GetComplaint(env.Agent, &helplinev1.GetComplaintRequest{Docket: d})
			if err != nil {
				t.Fatal(err)
			}
			return got.GetComplaint().GetDepartmentCode() != ""
		})
		return filed{d, reg.GetComplaint().GetStatusToken()}
	}
	// page reads the status page with its secret and says what it gives away.
	page := func(f filed, names ...string) (leaks []string, dept string) {
		t.Helper()
		code, body := httpCall(t, "GET", base+"/console/status.json?docket="+f.docket+"&token="+f.token, "", nil)
		var st map[string]any
		if err := json.Unmarshal([]byte(body), &st); err != nil || code != http.StatusOK {
			t.Fatalf("status of %s: %d %s", f.docket, code, body)
		}
		for _, k := range []string{"categoryCode", "category", "categoryHi", "districtCode"} {
			if _, ok := st[k]; ok {
				leaks = append(leaks, k)
			}
		}
		for _, n := range names {
			if strings.Contains(body, n) {
				leaks = append(leaks, fmt.Sprintf("%q", n))
			}
		}
		dept, _ = st["department"].(string)
		return leaks, dept
	}

	hidden := 0
	for _, cat := range []string{"POLICE_DRUG_PEDDLING", "POLICE_FIR_NOT_REGISTERED"} {
		leaks, dept := page(file(cat), cat, "chitta", "FIR", "KANGRA")
		if len(leaks) > 0 || dept == "" {
			t.Errorf("%s's status page: gives away %v, department %q; want only the department", cat, leaks, dept)
			continue
		}
		hidden++
	}

	// An administrator marks an ordinary category sensitive: the pages of
	// complaints already filed in it hide it from then on.
	pothole := file("PWD_ROAD_POTHOLES")
	if leaks, _ := page(pothole); len(leaks) == 0 {
		t.Fatal("an ordinary complaint's page shows no category or district: the test proves nothing")
	}
	list, err := env.Routing.ListCategories(env.Admin, &helplinev1.ListCategoriesRequest{DepartmentCode: "PWD"})
	if err != nil {
		t.Fatal(err)
	}
	marked := false
	for _, c := range list.GetCategories() {
		if c.GetCode() == "PWD_ROAD_POTHOLES" {
			c.Sensitive = true
			if _, err := env.Routing.UpsertCategory(env.Admin, &helplinev1.UpsertCategoryRequest{Category: c}); err != nil {
				t.Fatal(err)
			}
			marked = true
		}
	}
	if !marked {
		t.Fatal("PWD_ROAD_POTHOLES not listed")
	}
	leaks, dept := page(pothole, "PWD_ROAD_POTHOLES", "KANGRA")
	if len(leaks) > 0 || dept == "" {
		t.Errorf("a category marked sensitive afterwards: the page gives away %v, department %q", leaks, dept)
	} else {
		hidden++
	}
	after = fmt.Sprintf("%d/3 sensitive complaints' pages (drug peddling, FIR not registered, one marked later) show the department alone, no category or district", hidden)
}
