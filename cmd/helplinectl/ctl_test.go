package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/testenv"
)

// ctl runs helplinectl in-process against env's server.
type ctl struct {
	t      *testing.T
	server string
	config string
}

func (c ctl) run(stdin string, args ...string) (string, error) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"-server", c.server, "-config", c.config}, args...),
		strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

func (c ctl) must(stdin string, args ...string) string {
	c.t.Helper()
	out, err := c.run(stdin, args...)
	if err != nil {
		c.t.Fatalf("helplinectl %v: %v\n%s", args, err, out)
	}
	return out
}

func writeCSV(t *testing.T, path string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	_ = w.WriteAll(rows)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, env *testenv.Env, sql string) int {
	var n int
	if err := env.Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var districts = []string{"SHIMLA", "KANGRA", "MANDI", "LAHAUL_SPITI"}

// officers is a CSV of 1,000 officers: 100 departments, each with an L1 and
// L2 post in the four districts and its two state posts.
func officers() [][]string {
	rows := [][]string{{"username", "display_name", "department_code", "district_code", "level", "post_name"}}
	for d := range 100 {
		dept := fmt.Sprintf("DEPT%03d", d)
		for _, dist := range districts {
			for level := 1; level <= 2; level++ {
				rows = append(rows, []string{fmt.Sprintf("d%03d-%s-l%d", d, strings.ToLower(dist), level), "Officer " + dept, dept, dist, fmt.Sprint(level), ""})
			}
		}
		for level := 3; level <= 4; level++ {
			rows = append(rows, []string{fmt.Sprintf("d%03d-state-l%d", d, level), "अधिकारी " + dept, dept, "", fmt.Sprint(level), "Head"})
		}
	}
	return rows
}

func TestLoginImportAndAdminister(t *testing.T) {
	env := testenv.StartServer(t)
	dir := t.TempDir()
	c := ctl{t: t, server: env.Server.GRPCAddr.String(), config: filepath.Join(dir, "cfg", "config.json")}

	if _, err := c.run("", "whoami"); err == nil || !strings.Contains(err.Error(), "not logged in") {
		t.Fatalf("whoami before login: %v", err)
	}
	if _, err := c.run("wrong-password\n", "login", "-username", "admin"); err == nil {
		t.Fatal("a wrong password logged in")
	}
	c.must(testenv.DemoPassword+"\n", "login", "-username", "admin")
	info, err := os.Stat(c.config)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v mode %v, want 0600", err, info.Mode().Perm())
	}
	if out := c.must("", "whoami"); !strings.Contains(out, "admin (admin)") {
		t.Fatalf("whoami: %s", out)
	}

	depts := [][]string{{"code", "name", "name_hi"}}
	for d := range 100 {
		depts = append(depts, []string{fmt.Sprintf("DEPT%03d", d), fmt.Sprintf("Department %d", d), "विभाग"})
	}
	writeCSV(t, filepath.Join(dir, "departments.csv"), depts)
	if out := c.must("", "import", "departments", filepath.Join(dir, "departments.csv")); !strings.Contains(out, "imported 100 departments") {
		t.Fatalf("departments: %s", out)
	}

	users := count(t, env, `SELECT count(*) FROM users`)
	posts := count(t, env, `SELECT count(*) FROM posts`)

	// One bad row found by the server (level 7) refuses the whole file, naming the line.
	rows := officers()
	rows[500][4] = "7"
	writeCSV(t, filepath.Join(dir, "bad.csv"), rows)
	out, err := c.run("", "import", "officers", filepath.Join(dir, "bad.csv"))
	if err == nil || !strings.Contains(err.Error(), "line 501, column level") || !strings.Contains(err.Error(), "nothing was imported") {
		t.Fatalf("bad level: %v\n%s", err, out)
	}
	// One bad row found before sending (not a number).
	rows = officers()
	rows[42][4] = "two"
	writeCSV(t, filepath.Join(dir, "bad2.csv"), rows)
	if _, err := c.run("", "import", "officers", filepath.Join(dir, "bad2.csv")); err == nil || !strings.Contains(err.Error(), "line 43: column level") {
		t.Fatalf("not a number: %v", err)
	}
	// A district that does not exist.
	rows = officers()
	rows[999][3] = "NOWHERE"
	writeCSV(t, filepath.Join(dir, "bad3.csv"), rows)
	if _, err := c.run("", "import", "officers", filepath.Join(dir, "bad3.csv")); err == nil || !strings.Contains(err.Error(), "line 1000, column district_code") {
		t.Fatalf("unknown district: %v", err)
	}
	// Broken CSV: a stray quote opening a field.
	raw := "username,department_code,level\nd1-x,DEPT000,1\n5\"x,DEPT000,1\n"
	if err := os.WriteFile(filepath.Join(dir, "bad4.csv"), []byte(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.run("", "import", "officers", filepath.Join(dir, "bad4.csv")); err == nil || !strings.Contains(err.Error(), "line 3: not valid CSV") {
		t.Fatalf("broken CSV: %v", err)
	}
	if count(t, env, `SELECT count(*) FROM users`) != users || count(t, env, `SELECT count(*) FROM posts`) != posts {
		t.Fatal("a refused import stored something")
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.passwords.csv")); !os.IsNotExist(err) {
		t.Fatal("a refused import left a passwords file")
	}

	// A dry run stores nothing either.
	writeCSV(t, filepath.Join(dir, "officers.csv"), officers())
	if out := c.must("", "import", "officers", filepath.Join(dir, "officers.csv"), "-dry-run"); !strings.Contains(out, "all 1000 rows are valid") {
		t.Fatalf("dry run: %s", out)
	}
	if count(t, env, `SELECT count(*) FROM users`) != users {
		t.Fatal("a dry run stored users")
	}

	out = c.must("", "import", "officers", filepath.Join(dir, "officers.csv"))
	if !strings.Contains(out, "imported 1000 officers") || !strings.Contains(out, "created 1000 officer accounts") {
		t.Fatalf("officers: %s", out)
	}
	if got := count(t, env, `SELECT count(*) FROM users`) - users; got != 1000 {
		t.Fatalf("%d users created, want 1000", got)
	}
	if got := count(t, env, `SELECT count(*) FROM posts p JOIN users u ON u.id = p.holder_user_id WHERE u.username LIKE 'd0%'`); got != 1000 {
		t.Fatalf("%d posts held by the new officers, want 1000", got)
	}
	pwPath := filepath.Join(dir, "officers.passwords.csv")
	info, err = os.Stat(pwPath)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("passwords file: %v %v", err, info.Mode().Perm())
	}
	f, _ := os.Open(pwPath)
	pws, _ := csv.NewReader(f).ReadAll()
	f.Close()
	if len(pws) != 1001 {
		t.Fatalf("%d password rows", len(pws))
	}
	// An imported officer logs in with the one-time password and holds the
	// post; the password must be changed first.
	resp, err := env.Identity.Login(context.Background(), &helplinev1.LoginRequest{Username: pws[1][0], Password: pws[1][1]})
	if err != nil || len(resp.GetUser().GetPosts()) != 1 || !resp.GetPasswordChangeRequired() {
		t.Fatalf("imported officer login: %v %v, change required %v", err, resp.GetUser(), resp.GetPasswordChangeRequired())
	}
	if _, err := env.Resolution.ListAssignedComplaints(testenv.WithToken(context.Background(), env.FirstLogin(pws[1][0], pws[1][1])),
		&helplinev1.ListAssignedComplaintsRequest{}); err != nil {
		t.Fatalf("imported officer's worklist after the change: %v", err)
	}
	// Another, through helplinectl: login asks for the new password at once.
	officer := ctl{t: t, server: c.server, config: filepath.Join(dir, "officer", "config.json")}
	if _, err := officer.run(pws[2][1]+"\n"+pws[2][0]+"-pw\n", "login", "-username", pws[2][0]); err == nil ||
		!strings.Contains(err.Error(), "new_password") {
		t.Fatalf("login choosing a password containing the username: %v", err)
	}
	officer.must(pws[2][1]+"\nmy own officer password\n", "login", "-username", pws[2][0])
	if out := officer.must("", "whoami"); !strings.Contains(out, pws[2][0]+" (officer)") {
		t.Fatalf("whoami after the first login: %s", out)
	}
	// And changes it again with helplinectl password.
	if _, err := officer.run("not my password\nyet another password\n", "password"); err == nil || !strings.Contains(err.Error(), "old_password") {
		t.Fatalf("password with a wrong current one: %v", err)
	}
	if out := officer.must("my own officer password\nyet another password\n", "password"); !strings.Contains(out, "password changed") {
		t.Fatalf("password: %s", out)
	}
	if out := officer.must("", "whoami"); !strings.Contains(out, pws[2][0]) {
		t.Fatalf("whoami after the change (the kept token): %s", out)
	}
	if r, err := env.Identity.Login(context.Background(), &helplinev1.LoginRequest{Username: pws[2][0], Password: "yet another password"}); err != nil || r.GetPasswordChangeRequired() {
		t.Fatalf("login with the changed password: %v", err)
	}
	// A passwords file that exists already is never overwritten: nothing is imported.
	writeCSV(t, filepath.Join(dir, "more.csv"), [][]string{{"username", "department_code", "level", "district_code"}, {"extra-officer", "DEPT000", "1", "SHIMLA"}})
	if err := os.WriteFile(filepath.Join(dir, "more.passwords.csv"), []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.run("", "import", "officers", filepath.Join(dir, "more.csv")); err == nil || count(t, env, `SELECT count(*) FROM users WHERE username = 'extra-officer'`) != 0 {
		t.Fatalf("import over an existing passwords file: %v", err)
	}
	// Importing the same file again changes holders nothing and creates no account.
	if out := c.must("", "import", "officers", filepath.Join(dir, "officers.csv"), "-passwords", filepath.Join(dir, "again.csv")); strings.Contains(out, "created") {
		t.Fatalf("re-import: %s", out)
	}

	// User administration, statistics and lookup over gRPC.
	c.must("a-long-password-9\n", "user", "create", "-username", "agent9", "-role", "agent")
	if out := c.must("", "user", "list", "-role", "agent"); !strings.Contains(out, "agent9") {
		t.Fatalf("user list: %s", out)
	}
	c.must("", "user", "disable", "agent9")
	if out := c.must("", "stats", "grades", "-csv", filepath.Join(dir, "grades.csv")); !strings.Contains(out, "Department grades for") {
		t.Fatalf("grades: %s", out)
	}
	reg, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: "ctl-1", Citizen: &helplinev1.Citizen{Name: "Asha", Phone: "9816012345"},
		Location: &helplinev1.Location{DistrictCode: "SHIMLA"}, CategoryCode: "PWD_ROAD_POTHOLES", Description: "गड्ढा",
		Channel: helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out := c.must("", "complaint", reg.GetComplaint().GetDocket()); !strings.Contains(out, "गड्ढा") || !strings.Contains(out, "register") {
		t.Fatalf("complaint: %s", out)
	}
	from := testenv.Start.Format("2006-01-02")
	out = c.must("", "export", "-from", from, "-to", from, "-o", filepath.Join(dir, "export.csv"))
	if !strings.Contains(out, "exported 1 complaints") {
		t.Fatalf("export: %s", out)
	}
	c.must("", "logout")
	if _, err := os.Stat(c.config); !os.IsNotExist(err) {
		t.Fatal("logout kept the token file")
	}
}

// TestImportCategoriesSensitiveColumn: the categories CSV's optional
// sensitive column (true/false, empty is false) reaches the stored category;
// any other value is refused naming the line and column.
func TestImportCategoriesSensitiveColumn(t *testing.T) {
	env := testenv.StartServer(t)
	dir := t.TempDir()
	c := ctl{t: t, server: env.Server.GRPCAddr.String(), config: filepath.Join(dir, "cfg", "config.json")}
	c.must(testenv.DemoPassword+"\n", "login", "-username", "admin")

	writeCSV(t, filepath.Join(dir, "bad.csv"), [][]string{
		{"code", "department_code", "name", "sla_l1", "sla_l2", "sla_l3", "sla_l4", "sensitive"},
		{"POLICE_STALKING", "POLICE", "Stalking", "2", "2", "3", "3", "yes"},
	})
	if _, err := c.run("", "import", "categories", filepath.Join(dir, "bad.csv")); err == nil || !strings.Contains(err.Error(), "column sensitive") {
		t.Fatalf("sensitive=yes: %v, want refused naming the column", err)
	}
	writeCSV(t, filepath.Join(dir, "categories.csv"), [][]string{
		{"code", "department_code", "name", "sla_l1", "sla_l2", "sla_l3", "sla_l4", "sensitive"},
		{"POLICE_STALKING", "POLICE", "Stalking", "2", "2", "3", "3", "true"},
		{"POLICE_NOISE", "POLICE", "Noise", "2", "2", "3", "3", ""},
		{"POLICE_DRUG_PEDDLING", "POLICE", "Drug (chitta) peddling", "2", "2", "3", "3", "FALSE"},
	})
	if out := c.must("", "import", "categories", filepath.Join(dir, "categories.csv")); !strings.Contains(out, "imported 3 categories") {
		t.Fatalf("categories: %s", out)
	}
	got := map[string]bool{}
	rows, err := env.Pool.Query(context.Background(), `SELECT code, sensitive FROM categories WHERE code IN ('POLICE_STALKING', 'POLICE_NOISE', 'POLICE_DRUG_PEDDLING')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var code string
		var s bool
		if err := rows.Scan(&code, &s); err != nil {
			t.Fatal(err)
		}
		got[code] = s
	}
	if rows.Err() != nil || len(got) != 3 || !got["POLICE_STALKING"] || got["POLICE_NOISE"] || got["POLICE_DRUG_PEDDLING"] {
		t.Fatalf("stored marks = %v, want only POLICE_STALKING sensitive", got)
	}
}
