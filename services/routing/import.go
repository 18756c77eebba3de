package routing

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/auth"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/input"
)

// MaxImportRows bounds one import.
const MaxImportRows = 100_000

// errDryRun rolls back a dry run's transaction.
var errDryRun = errors.New("dry run")

// ImportMasterData loads every row of one kind in one transaction, or
// nothing: the first bad row refuses the import, named by its index and line.
func (s *Service) ImportMasterData(stream grpc.ClientStreamingServer[helplinev1.ImportMasterDataRequest, helplinev1.ImportMasterDataResponse]) error {
	ctx := stream.Context()
	var kind helplinev1.MasterDataKind
	var dryRun bool
	var rows []*helplinev1.MasterDataRow
	for first := true; ; first = false {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if first {
			kind, dryRun = req.GetKind(), req.GetDryRun()
		} else if req.GetKind() != helplinev1.MasterDataKind_MASTER_DATA_KIND_UNSPECIFIED && req.GetKind() != kind {
			return apperr.Invalid("kind", "every message of an import must name the same kind")
		}
		if len(rows)+len(req.GetRows()) > MaxImportRows {
			return apperr.Invalid("rows", fmt.Sprintf("at most %d rows per import", MaxImportRows))
		}
		rows = append(rows, req.GetRows()...)
	}
	if _, ok := helplinev1.MasterDataKind_name[int32(kind)]; !ok || kind == helplinev1.MasterDataKind_MASTER_DATA_KIND_UNSPECIFIED {
		return apperr.Invalid("kind", "name what the rows are: locations, departments, categories, posts, officers, routing rules, holidays or lines")
	}
	if len(rows) == 0 {
		return apperr.Invalid("rows", "no rows to import")
	}
	var accounts map[string]string // new officer accounts: username → password hash
	var initial []*helplinev1.InitialPassword
	if kind == helplinev1.MasterDataKind_MASTER_DATA_KIND_OFFICERS {
		var err error
		if accounts, initial, err = s.newOfficers(ctx, rows, dryRun); err != nil {
			return err
		}
	}
	err := db.InTx(ctx, s.store.pool, func(tx pgx.Tx) error {
		for i, row := range rows {
			if err := s.importRow(ctx, tx, kind, row, accounts); err != nil {
				return rowError(i, row.GetLine(), err)
			}
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return err
	}
	if dryRun {
		initial = nil
	} else {
		auth.Invalidate() // officers' cached posts
		s.log.InfoContext(ctx, "master data imported", "kind", kind.String(), "rows", len(rows), "new_accounts", len(initial))
	}
	return stream.SendAndClose(&helplinev1.ImportMasterDataResponse{Rows: int32(len(rows)), DryRun: dryRun, InitialPasswords: initial})
}

// rowError names the row of err: a field error on "post.level" becomes one
// on "rows[17].level", its reason prefixed with the line when known.
func rowError(i int, line int32, err error) error {
	at := fmt.Sprintf("rows[%d]", i)
	if line > 0 {
		at = fmt.Sprintf("line %d", line)
	}
	var fe *input.FieldError
	if errors.As(err, &fe) {
		field := fe.Field
		if j := strings.IndexByte(field, '.'); j >= 0 && !strings.HasPrefix(field, "rows[") {
			field = field[j+1:]
		}
		reason := fe.Reason
		if line > 0 {
			reason = fmt.Sprintf("line %d: %s", line, reason)
		}
		return &input.FieldError{Field: fmt.Sprintf("rows[%d].%s", i, field), Reason: reason}
	}
	return fmt.Errorf("%s: %w", at, err)
}

// importRow stores one row inside the import's transaction.
func (s *Service) importRow(ctx context.Context, tx pgx.Tx, kind helplinev1.MasterDataKind, row *helplinev1.MasterDataRow, accounts map[string]string) error {
	var err error
	switch kind {
	case helplinev1.MasterDataKind_MASTER_DATA_KIND_LOCATIONS:
		if row.GetLocation() == nil {
			return wrongRow("location")
		}
		err = importLocation(ctx, tx, row.GetLocation())
	case helplinev1.MasterDataKind_MASTER_DATA_KIND_DEPARTMENTS:
		if row.GetDepartment() == nil {
			return wrongRow("department")
		}
		_, err = s.upsertDepartment(ctx, tx, &helplinev1.UpsertDepartmentRequest{Department: row.GetDepartment()})
	case helplinev1.MasterDataKind_MASTER_DATA_KIND_CATEGORIES:
		if row.GetCategory() == nil {
			return wrongRow("category")
		}
		_, err = s.upsertCategory(ctx, tx, &helplinev1.UpsertCategoryRequest{Category: row.GetCategory()})
	case helplinev1.MasterDataKind_MASTER_DATA_KIND_POSTS:
		if row.GetPost() == nil {
			return wrongRow("post")
		}
		_, err = s.upsertPost(ctx, tx, &helplinev1.UpsertPostRequest{Post: row.GetPost()})
	case helplinev1.MasterDataKind_MASTER_DATA_KIND_OFFICERS:
		if row.GetOfficer() == nil {
			return wrongRow("officer")
		}
		err = s.importOfficer(ctx, tx, row.GetOfficer(), accounts)
	case helplinev1.MasterDataKind_MASTER_DATA_KIND_ROUTING_RULES:
		if row.GetRule() == nil {
			return wrongRow("rule")
		}
		_, err = s.upsertRoutingRule(ctx, tx, &helplinev1.UpsertRoutingRuleRequest{Rule: row.GetRule()})
	case helplinev1.MasterDataKind_MASTER_DATA_KIND_HOLIDAYS:
		if row.GetHoliday() == nil {
			return wrongRow("holiday")
		}
		_, err = s.upsertHoliday(ctx, tx, &helplinev1.UpsertHolidayRequest{Holiday: row.GetHoliday()})
	case helplinev1.MasterDataKind_MASTER_DATA_KIND_LINES:
		if row.GetHelplineLine() == nil {
			return wrongRow("helpline_line")
		}
		_, err = s.upsertLine(ctx, tx, &helplinev1.UpsertLineRequest{Line: row.GetHelplineLine()})
	}
	return err
}

func wrongRow(want string) error {
	return apperr.Invalid("rows."+want, "this import's rows must all be "+want+" rows")
}

// importLocation creates or renames one node under its existing parent.
func importLocation(ctx context.Context, tx pgx.Tx, l *helplinev1.LocationRow) error {
	var codes [3]string
	for i, f := range []struct{ field, value string }{
		{"location.district_code", l.GetDistrictCode()}, {"location.block_code", l.GetBlockCode()}, {"location.ward_code", l.GetWardCode()},
	} {
		var err error
		if codes[i], err = input.Code(f.field, f.value, i == 0); err != nil {
			return err
		}
	}
	if codes[2] != "" && codes[1] == "" {
		return apperr.Invalid("location.block_code", "a ward needs its block")
	}
	name, nameHi, err := names("location.", l.GetName(), l.GetNameHi())
	if err != nil {
		return err
	}
	var parent *int64
	kind, code, field := "DISTRICT", codes[0], "location.district_code"
	if codes[1] != "" {
		id, err := childID(ctx, tx, "location.district_code", "DISTRICT", codes[0], nil)
		if err != nil {
			return err
		}
		parent, kind, code, field = &id, "BLOCK", codes[1], "location.block_code"
	}
	if codes[2] != "" {
		id, err := childID(ctx, tx, "location.block_code", "BLOCK", codes[1], parent)
		if err != nil {
			return err
		}
		parent, kind, code, field = &id, "WARD", codes[2], "location.ward_code"
	}
	_, err = upsertLocation(ctx, tx, field, kind, code, parent, name, nameHi)
	return err
}

// childID finds a location node of a kind under parent (a district when nil).
func childID(ctx context.Context, tx pgx.Tx, field, kind, code string, parent *int64) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM locations WHERE code = $1 AND kind = $2 AND parent_id IS NOT DISTINCT FROM $3`,
		code, kind, parent).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, apperr.Invalid(field, fmt.Sprintf("unknown %s %q (import it first, or on an earlier row)", strings.ToLower(kind), code))
	}
	if err != nil {
		return 0, fmt.Errorf("look up location: %w", err)
	}
	return id, nil
}

// newOfficers validates the officer rows' usernames (each once) and makes
// a random password, hashed, for every one that has no account yet.
func (s *Service) newOfficers(ctx context.Context, rows []*helplinev1.MasterDataRow, dryRun bool) (map[string]string, []*helplinev1.InitialPassword, error) {
	seen := map[string]int{}
	var names []string
	for i, row := range rows {
		o := row.GetOfficer()
		if o == nil {
			return nil, nil, rowError(i, row.GetLine(), wrongRow("officer"))
		}
		u, err := input.Username("officer.username", o.GetUsername())
		if err != nil {
			return nil, nil, rowError(i, row.GetLine(), err)
		}
		if j, dup := seen[u]; dup {
			return nil, nil, rowError(i, row.GetLine(), apperr.Invalid("officer.username", fmt.Sprintf("%q is also on %s", u, rowName(j, rows[j].GetLine()))))
		}
		seen[u] = i
		names = append(names, u)
	}
	rs, err := s.store.pool.Query(ctx, `SELECT username FROM users WHERE username = ANY($1)`, names)
	if err != nil {
		return nil, nil, fmt.Errorf("look up officers: %w", err)
	}
	existing, err := pgx.CollectRows(rs, pgx.RowTo[string])
	if err != nil {
		return nil, nil, fmt.Errorf("look up officers: %w", err)
	}
	have := map[string]bool{}
	for _, u := range existing {
		have[u] = true
	}
	accounts := map[string]string{}
	var initial []*helplinev1.InitialPassword
	for _, u := range names {
		if !have[u] {
			initial = append(initial, &helplinev1.InitialPassword{Username: u, Password: randomPassword()})
		}
	}
	if dryRun || len(initial) == 0 {
		for _, p := range initial {
			accounts[p.Username] = "" // validated only
		}
		return accounts, initial, nil
	}
	if s.Hasher == nil {
		return nil, nil, errors.New("no password hasher configured for officer imports")
	}
	// Half the cores at most, so that logins (the same hasher) keep going
	// during a large import.
	hashes := make([]string, len(initial))
	errs := make([]error, len(initial))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, runtime.NumCPU()/2) {
		wg.Go(func() {
			for i := range next {
				hashes[i], errs[i] = s.Hasher.Hash(ctx, initial[i].Password)
			}
		})
	}
	for i := range initial {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, p := range initial {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		accounts[p.Username] = hashes[i]
	}
	return accounts, initial, nil
}

func rowName(i int, line int32) string {
	if line > 0 {
		return fmt.Sprintf("line %d", line)
	}
	return fmt.Sprintf("rows[%d]", i)
}

// randomPassword is a one-time password (the account must change it at
// its first login): 16 letters and digits (80 bits).
func randomPassword() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// importOfficer creates the officer's account when new (or renames it),
// and makes them the holder of their post, creating the post when needed.
func (s *Service) importOfficer(ctx context.Context, tx pgx.Tx, o *helplinev1.OfficerRow, accounts map[string]string) error {
	username, err := input.Username("officer.username", o.GetUsername())
	if err != nil {
		return err
	}
	display, err := input.Text("officer.display_name", o.GetDisplayName(), 200, false)
	if err != nil {
		return err
	}
	if hash, isNew := accounts[username]; isNew {
		if hash == "" {
			hash = "!" // a dry run: never a valid hash, and rolled back anyway
		}
		tag, err := tx.Exec(ctx, `INSERT INTO users (username, display_name, role, password_hash, created_at, password_change_required)
			VALUES ($1, $2, 'OFFICER', $3, $4, true) ON CONFLICT (username) DO NOTHING`, username, display, hash, s.clock.Now())
		if err != nil {
			return fmt.Errorf("create officer %s: %w", username, err)
		}
		if tag.RowsAffected() == 0 {
			return apperr.Invalid("officer.username", fmt.Sprintf("user %q was created by someone else during this import: import the file again", username))
		}
	} else {
		var role string
		err := tx.QueryRow(ctx, `UPDATE users SET display_name = CASE WHEN $2 = '' THEN display_name ELSE $2 END
			WHERE username = $1 RETURNING role`, username, display).Scan(&role)
		if err != nil {
			return fmt.Errorf("update officer %s: %w", username, err)
		}
		if role != "OFFICER" {
			return apperr.Invalid("officer.username", fmt.Sprintf("user %q exists and is not an officer", username))
		}
	}
	_, err = s.upsertPost(ctx, tx, &helplinev1.UpsertPostRequest{Post: &helplinev1.Post{
		DepartmentCode: o.GetDepartmentCode(), DistrictCode: o.GetDistrictCode(), Level: o.GetLevel(),
		Name: o.GetPostName(), HolderUsername: username,
	}})
	return renameField(err, "post.holder_username", "officer.username")
}

// renameField moves a field error from one field to another.
func renameField(err error, from, to string) error {
	var fe *input.FieldError
	if errors.As(err, &fe) {
		f := strings.Replace(fe.Field, "post.", "officer.", 1)
		if fe.Field == from {
			f = to
		}
		return &input.FieldError{Field: f, Reason: fe.Reason}
	}
	return err
}
