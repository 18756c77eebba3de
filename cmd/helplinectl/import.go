package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
)

// importKind is one kind of master data file: its columns and how a row
// becomes a MasterDataRow.
type importKind struct {
	kind     helplinev1.MasterDataKind
	columns  []string // every column, the required ones first
	required int
	row      func(get func(string) string) (*helplinev1.MasterDataRow, error)
}

// intCol reads an integer column; empty is 0.
func intCol(get func(string) string, col string) (int32, error) {
	s := get(col)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("column %s: %q is not a whole number", col, s)
	}
	return int32(n), nil
}

// boolCol reads a true/false column; empty is false.
func boolCol(get func(string) string, col string) (bool, error) {
	switch strings.ToLower(get(col)) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, fmt.Errorf("column %s: %q is neither true nor false", col, get(col))
}

var importKinds = map[string]importKind{
	"locations": {helplinev1.MasterDataKind_MASTER_DATA_KIND_LOCATIONS,
		[]string{"district_code", "name", "block_code", "ward_code", "name_hi"}, 2,
		func(get func(string) string) (*helplinev1.MasterDataRow, error) {
			return &helplinev1.MasterDataRow{Row: &helplinev1.MasterDataRow_Location{Location: &helplinev1.LocationRow{
				DistrictCode: get("district_code"), BlockCode: get("block_code"), WardCode: get("ward_code"),
				Name: get("name"), NameHi: get("name_hi")}}}, nil
		}},
	"departments": {helplinev1.MasterDataKind_MASTER_DATA_KIND_DEPARTMENTS,
		[]string{"code", "name", "name_hi"}, 2,
		func(get func(string) string) (*helplinev1.MasterDataRow, error) {
			return &helplinev1.MasterDataRow{Row: &helplinev1.MasterDataRow_Department{Department: &helplinev1.Department{
				Code: get("code"), Name: get("name"), NameHi: get("name_hi")}}}, nil
		}},
	"categories": {helplinev1.MasterDataKind_MASTER_DATA_KIND_CATEGORIES,
		[]string{"code", "department_code", "name", "sla_l1", "sla_l2", "sla_l3", "sla_l4", "name_hi", "sensitive"}, 7,
		func(get func(string) string) (*helplinev1.MasterDataRow, error) {
			cat := &helplinev1.Category{Code: get("code"), DepartmentCode: get("department_code"), Name: get("name"), NameHi: get("name_hi")}
			for _, col := range []string{"sla_l1", "sla_l2", "sla_l3", "sla_l4"} {
				d, err := intCol(get, col)
				if err != nil {
					return nil, err
				}
				cat.SlaDays = append(cat.SlaDays, d)
			}
			sensitive, err := boolCol(get, "sensitive")
			if err != nil {
				return nil, err
			}
			cat.Sensitive = sensitive
			return &helplinev1.MasterDataRow{Row: &helplinev1.MasterDataRow_Category{Category: cat}}, nil
		}},
	"posts": {helplinev1.MasterDataKind_MASTER_DATA_KIND_POSTS,
		[]string{"department_code", "level", "district_code", "name", "holder_username", "code"}, 2,
		func(get func(string) string) (*helplinev1.MasterDataRow, error) {
			level, err := intCol(get, "level")
			if err != nil {
				return nil, err
			}
			return &helplinev1.MasterDataRow{Row: &helplinev1.MasterDataRow_Post{Post: &helplinev1.Post{
				Code: get("code"), DepartmentCode: get("department_code"), Level: level, DistrictCode: get("district_code"),
				Name: get("name"), HolderUsername: get("holder_username")}}}, nil
		}},
	"officers": {helplinev1.MasterDataKind_MASTER_DATA_KIND_OFFICERS,
		[]string{"username", "department_code", "level", "display_name", "district_code", "post_name"}, 3,
		func(get func(string) string) (*helplinev1.MasterDataRow, error) {
			level, err := intCol(get, "level")
			if err != nil {
				return nil, err
			}
			return &helplinev1.MasterDataRow{Row: &helplinev1.MasterDataRow_Officer{Officer: &helplinev1.OfficerRow{
				Username: get("username"), DisplayName: get("display_name"), DepartmentCode: get("department_code"),
				DistrictCode: get("district_code"), Level: level, PostName: get("post_name")}}}, nil
		}},
	"rules": {helplinev1.MasterDataKind_MASTER_DATA_KIND_ROUTING_RULES,
		[]string{"category_code", "department_code", "district_code", "block_code", "ward_code"}, 2,
		func(get func(string) string) (*helplinev1.MasterDataRow, error) {
			return &helplinev1.MasterDataRow{Row: &helplinev1.MasterDataRow_Rule{Rule: &helplinev1.RoutingRule{
				CategoryCode: get("category_code"), DistrictCode: get("district_code"), BlockCode: get("block_code"),
				WardCode: get("ward_code"), DepartmentCode: get("department_code")}}}, nil
		}},
	"holidays": {helplinev1.MasterDataKind_MASTER_DATA_KIND_HOLIDAYS,
		[]string{"date", "name"}, 2,
		func(get func(string) string) (*helplinev1.MasterDataRow, error) {
			return &helplinev1.MasterDataRow{Row: &helplinev1.MasterDataRow_Holiday{Holiday: &helplinev1.Holiday{
				Date: get("date"), Name: get("name")}}}, nil
		}},
	"lines": {helplinev1.MasterDataKind_MASTER_DATA_KIND_LINES,
		[]string{"code", "name"}, 2,
		func(get func(string) string) (*helplinev1.MasterDataRow, error) {
			return &helplinev1.MasterDataRow{Row: &helplinev1.MasterDataRow_HelplineLine{HelplineLine: &helplinev1.Line{
				Code: get("code"), Name: get("name")}}}, nil
		}},
}

func importHelp() string {
	var b strings.Builder
	b.WriteString("usage: helplinectl import <kind> FILE.csv [-dry-run] [-passwords FILE]\n\n" +
		"The first line names the columns (any order); required columns are marked *.\n")
	names := make([]string, 0, len(importKinds))
	for name := range importKinds {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		k := importKinds[name]
		cols := slices.Clone(k.columns)
		for i := range k.required {
			cols[i] += "*"
		}
		fmt.Fprintf(&b, "  %-12s %s\n", name, strings.Join(cols, ","))
	}
	b.WriteString("\nLocations: a district row leaves block_code and ward_code empty; blocks and wards follow their parents.\n" +
		"Officers: new accounts get a one-time password, written to -passwords (mode 0600).\n")
	return b.String()
}

// sendChunk is how many rows go in one stream message.
const sendChunk = 500

func (c *cli) importCSV(ctx context.Context, args []string) error {
	fs := c.flags("import", importHelp())
	dryRun := fs.Bool("dry-run", false, "check every row against the server's master data; store nothing")
	pwFile := fs.String("passwords", "", "where to write new officers' one-time passwords (default FILE.passwords.csv)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return errors.New("import: give a kind and a CSV file")
	}
	kind, ok := importKinds[pos[0]]
	if !ok {
		return fmt.Errorf("import: unknown kind %q (see helplinectl import -h)", pos[0])
	}
	rows, lines, err := readCSV(pos[1], kind)
	if err != nil {
		return err
	}
	actx, err := c.authed(ctx)
	if err != nil {
		return err
	}
	// New officers' one-time passwords are shown once: make sure there is
	// somewhere to keep them before anything is stored.
	var pwOut *os.File
	if kind.kind == helplinev1.MasterDataKind_MASTER_DATA_KIND_OFFICERS && !*dryRun {
		path := *pwFile
		if path == "" {
			path = strings.TrimSuffix(pos[1], ".csv") + ".passwords.csv"
		}
		if pwOut, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return fmt.Errorf("the one-time passwords of new officers go to %s: %w (choose another with -passwords); nothing was imported", path, err)
		}
		defer func() {
			if info, _ := pwOut.Stat(); info != nil && info.Size() == 0 {
				_ = os.Remove(path) // no new accounts
			}
			_ = pwOut.Close()
		}()
	}
	start := time.Now()
	stream, err := helplinev1.NewRoutingServiceClient(c.conn).ImportMasterData(actx)
	if err != nil {
		return err
	}
	bar := c.bar(int64(len(rows)), "sending "+pos[0])
	for i := 0; i < len(rows); i += sendChunk {
		req := &helplinev1.ImportMasterDataRequest{Rows: rows[i:min(i+sendChunk, len(rows))]}
		if i == 0 {
			req.Kind, req.DryRun = kind.kind, *dryRun
		}
		if err := stream.Send(req); err != nil {
			break // the server's answer says why
		}
		_ = bar.Add(len(req.Rows))
	}
	_ = bar.Finish()
	if c.progress {
		fmt.Fprintf(c.stderr, "applying %d rows in one transaction...\n", len(rows))
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return rowFailure(err, lines, pos[1])
	}
	took := time.Since(start).Round(time.Millisecond)
	if resp.GetDryRun() {
		fmt.Fprintf(c.stdout, "%s: all %d rows are valid (dry run: nothing stored) in %v\n", pos[1], resp.GetRows(), took)
		return nil
	}
	fmt.Fprintf(c.stdout, "imported %d %s from %s in one transaction in %v\n", resp.GetRows(), pos[0], pos[1], took)
	if len(resp.GetInitialPasswords()) > 0 && pwOut != nil {
		if err := writePasswords(pwOut, resp.GetInitialPasswords()); err != nil {
			return fmt.Errorf("the import is stored, but writing the one-time passwords failed (reset them with helplinectl user reset-password): %w", err)
		}
		fmt.Fprintf(c.stdout, "created %d officer accounts; their one-time passwords are in %s (mode 0600)\n", len(resp.GetInitialPasswords()), pwOut.Name())
	}
	return nil
}

// readCSV reads and checks every row of a file; it reports every bad row
// (up to 20) by its line, and returns the rows with their lines.
func readCSV(path string, kind importKind) ([]*helplinev1.MasterDataRow, []int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reading the header line: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(kind.columns, h) {
			return nil, nil, fmt.Errorf("%s line 1: unknown column %q (columns: %s)", path, h, strings.Join(kind.columns, ","))
		}
		if _, dup := col[h]; dup {
			return nil, nil, fmt.Errorf("%s line 1: column %q twice", path, h)
		}
		col[h] = i
	}
	for _, req := range kind.columns[:kind.required] {
		if _, ok := col[req]; !ok {
			return nil, nil, fmt.Errorf("%s line 1: the required column %q is missing", path, req)
		}
	}
	var rows []*helplinev1.MasterDataRow
	var lines []int
	var bad []string
	nbad := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var line int
		if err == nil {
			line, _ = r.FieldPos(0)
		}
		var row *helplinev1.MasterDataRow
		switch {
		case err != nil:
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			err = fmt.Errorf("not valid CSV: %v", errors.Unwrap(err))
		case len(rec) == 1 && strings.TrimSpace(rec[0]) == "":
			continue // a blank line
		case len(rec) != len(header):
			err = fmt.Errorf("%d fields, the header has %d", len(rec), len(header))
		default:
			get := func(name string) string {
				if i, ok := col[name]; ok {
					return strings.TrimSpace(rec[i])
				}
				return ""
			}
			for _, req := range kind.columns[:kind.required] {
				if get(req) == "" && err == nil {
					err = fmt.Errorf("column %s is empty", req)
				}
			}
			if err == nil {
				row, err = kind.row(get)
			}
		}
		if err != nil {
			if nbad++; len(bad) < 20 {
				bad = append(bad, fmt.Sprintf("  line %d: %v", line, err))
			}
			continue
		}
		row.Line = int32(line)
		rows, lines = append(rows, row), append(lines, line)
	}
	if nbad > 0 {
		more := ""
		if nbad > len(bad) {
			more = fmt.Sprintf("\n  ... and %d more", nbad-len(bad))
		}
		return nil, nil, fmt.Errorf("%s: %d bad rows; nothing was imported:\n%s%s", path, nbad, strings.Join(bad, "\n"), more)
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("%s: no rows under the header", path)
	}
	return rows, lines, nil
}

var rowField = regexp.MustCompile(`^rows\[(\d+)\]\.?(.*)$`)

// rowFailure explains a refused import by the file's line and column.
func rowFailure(err error, lines []int, path string) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		br, ok := d.(*errdetails.BadRequest)
		if !ok {
			continue
		}
		for _, v := range br.GetFieldViolations() {
			m := rowField.FindStringSubmatch(v.GetField())
			if m == nil {
				continue
			}
			i, _ := strconv.Atoi(m[1])
			if i >= len(lines) {
				continue
			}
			reason := strings.TrimPrefix(v.GetDescription(), fmt.Sprintf("line %d: ", lines[i]))
			return fmt.Errorf("%s line %d, column %s: %s; nothing was imported", path, lines[i], m[2], reason)
		}
	}
	return fmt.Errorf("%s: %w; nothing was imported", path, describe(err))
}

// writePasswords writes one-time passwords as CSV to f (mode 0600).
func writePasswords(f *os.File, pws []*helplinev1.InitialPassword) error {
	w := csv.NewWriter(f)
	_ = w.Write([]string{"username", "one_time_password"})
	for _, p := range pws {
		_ = w.Write([]string{p.GetUsername(), p.GetPassword()})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return f.Sync()
}

// bar is a progress bar on stderr, silent unless progress is on.
func (c *cli) bar(total int64, what string) *progressbar.ProgressBar {
	if !c.progress {
		return progressbar.DefaultSilent(total)
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(c.stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(c.stderr) }),
	)
}
