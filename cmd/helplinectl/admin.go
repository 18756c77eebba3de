package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/statstable"
)

const userHelp = `usage: helplinectl user <command>

  create -username U -role agent|officer|supervisor|admin [-display-name N]   (password asked for, or read from standard input)
  list [-role R]
  disable USERNAME
  reset-password USERNAME                                                     (new password asked for, or read from standard input)
  issue-token USERNAME -name NAME [-ttl 2160h] [-scope full|open311]          an API key; -scope open311: an Open311 application's`

func (c *cli) user(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(c.stderr, userHelp)
		return errors.New("user: no command given")
	}
	actx, err := c.authed(ctx)
	if err != nil {
		return err
	}
	id := helplinev1.NewIdentityServiceClient(c.conn)
	fs := c.flags("user "+args[0], userHelp)
	switch args[0] {
	case "create":
		username := fs.String("username", "", "user name (lower case)")
		roleName := fs.String("role", "", "agent, officer, supervisor or admin")
		display := fs.String("display-name", "", "name shown to others")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		r, err := role(*roleName)
		if err != nil {
			return err
		}
		pw, err := c.readSecret("password for " + *username + ": ")
		if err != nil {
			return err
		}
		resp, err := id.CreateUser(actx, &helplinev1.CreateUserRequest{Username: *username, DisplayName: *display, Role: r, Password: pw})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "created %s (%s); the password is a one-time password, to be changed at the first login\n",
			resp.GetUser().GetUsername(), enumName(resp.GetUser().GetRole().String(), "ROLE_"))
	case "list":
		roleName := fs.String("role", "", "only this role")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		r, err := role(*roleName)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tROLE\tNAME\tPOSTS\tDISABLED")
		for tok := ""; ; {
			resp, err := id.ListUsers(actx, &helplinev1.ListUsersRequest{Role: r, PageSize: 1000, PageToken: tok})
			if err != nil {
				return err
			}
			for _, u := range resp.GetUsers() {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", u.GetUsername(), enumName(u.GetRole().String(), "ROLE_"), u.GetDisplayName(),
					strings.Join(u.GetPosts(), ","), u.GetDisabled())
			}
			if tok = resp.GetNextPageToken(); tok == "" {
				break
			}
		}
		return tw.Flush()
	case "disable", "reset-password", "issue-token":
		name := fs.String("name", "", "issue-token: what the token is for")
		ttl := fs.Duration("ttl", 90*24*time.Hour, "issue-token: how long the token is valid")
		scope := fs.String("scope", "full", "issue-token: what the token opens: full, or open311 (an Open311 application's api_key)")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return fmt.Errorf("user %s: give one username", args[0])
		}
		switch args[0] {
		case "disable":
			if _, err := id.DisableUser(actx, &helplinev1.DisableUserRequest{Username: pos[0]}); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "disabled %s; their tokens no longer work\n", pos[0])
		case "reset-password":
			pw, err := c.readSecret("new password for " + pos[0] + ": ")
			if err != nil {
				return err
			}
			if _, err := id.ResetPassword(actx, &helplinev1.ResetPasswordRequest{Username: pos[0], NewPassword: pw}); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "password of %s reset, as a one-time password to be changed at the next login\n", pos[0])
		default:
			sc, ok := tokenScopes[*scope]
			if !ok {
				return fmt.Errorf("user issue-token: -scope must be full or open311")
			}
			resp, err := id.IssueToken(actx, &helplinev1.IssueTokenRequest{Username: pos[0], Name: *name, Ttl: durationpb.New(*ttl), Scope: sc})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s\n", resp.GetToken())
			fmt.Fprintf(c.stderr, "token %s for %s, valid until %s; it is shown once\n", resp.GetTokenId(), pos[0],
				resp.GetExpiresAt().AsTime().In(clock.IST).Format("2006-01-02 15:04 MST"))
		}
	default:
		fmt.Fprintln(c.stderr, userHelp)
		return fmt.Errorf("user: unknown command %q", args[0])
	}
	return nil
}

// tokenScopes are the values of issue-token's -scope.
var tokenScopes = map[string]helplinev1.TokenScope{
	"full":    helplinev1.TokenScope_TOKEN_SCOPE_FULL,
	"open311": helplinev1.TokenScope_TOKEN_SCOPE_OPEN311,
}

const statsHelp = `usage: helplinectl stats <resolution|aging|grades> [flags]

  resolution  [-from 2026-11-01 -to 2026-11-30] [-by department|district|category|officer|channel|line] [-department D] [-district D] [-csv FILE]
  aging       [-by ...] [-department D] [-district D] [-csv FILE]
  grades      [-month 2026-11] [-csv FILE]`

func (c *cli) stats(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(c.stderr, statsHelp)
		return errors.New("stats: no command given")
	}
	fs := c.flags("stats "+args[0], statsHelp)
	var q statstable.Query
	q.Register(fs)
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	actx, err := c.authed(ctx)
	if err != nil {
		return err
	}
	if _, ok := q.Grouping(); !ok {
		return fmt.Errorf("stats: unknown grouping %q", q.By)
	}
	st := helplinev1.NewStatsServiceClient(c.conn)
	var table statstable.Table
	switch args[0] {
	case "resolution":
		resp, err := st.GetResolutionStats(actx, q.ResolutionRequest())
		if err != nil {
			return err
		}
		table = statstable.Resolution(resp, q.By)
	case "aging":
		resp, err := st.GetPendencyAging(actx, q.AgingRequest())
		if err != nil {
			return err
		}
		table = statstable.Aging(resp, q.By)
	case "grades":
		resp, err := st.GetDepartmentGrades(actx, &helplinev1.GetDepartmentGradesRequest{Month: q.Month})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Department grades for %s (frozen: %v)\n", resp.GetMonth(), resp.GetFrozen())
		table = statstable.Grades(resp)
	default:
		fmt.Fprintln(c.stderr, statsHelp)
		return fmt.Errorf("stats: unknown command %q", args[0])
	}
	return q.Output(c.stdout, table)
}

func (c *cli) export(ctx context.Context, args []string) error {
	fs := c.flags("export", "usage: helplinectl export -from YYYY-MM-DD -to YYYY-MM-DD [-department D] [-district D] [-status S] -o FILE.csv")
	from := fs.String("from", "", "first registration day (YYYY-MM-DD)")
	to := fs.String("to", "", "last registration day (YYYY-MM-DD)")
	dept := fs.String("department", "", "only this department")
	district := fs.String("district", "", "only this district")
	statusName := fs.String("status", "", "only this status, e.g. resolved")
	out := fs.String("o", "", "CSV file to write; - for standard output")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("export: -o FILE is required (- for standard output)")
	}
	st, err := complaintStatus(*statusName)
	if err != nil {
		return err
	}
	actx, err := c.authed(ctx)
	if err != nil {
		return err
	}
	stream, err := helplinev1.NewStatsServiceClient(c.conn).ExportComplaints(actx, &helplinev1.ExportComplaintsRequest{
		FromDate: *from, ToDate: *to, DepartmentCode: *dept, DistrictCode: *district, Status: st})
	if err != nil {
		return err
	}
	var w io.Writer = c.stdout
	var f *os.File
	if *out != "-" {
		if f, err = os.Create(*out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(statstable.ExportHeader)
	bar := c.bar(-1, "exporting")
	n := 0
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("export stopped after %d complaints: %w", n, err)
		}
		if err := cw.Write(statstable.ExportRow(r)); err != nil {
			return err
		}
		n++
		_ = bar.Add(1)
	}
	_ = bar.Finish()
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "exported %d complaints to %s\n", n, *out)
	}
	return nil
}

func (c *cli) complaint(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: helplinectl complaint DOCKET")
	}
	actx, err := c.authed(ctx)
	if err != nil {
		return err
	}
	resp, err := helplinev1.NewIntakeServiceClient(c.conn).GetComplaint(actx, &helplinev1.GetComplaintRequest{Docket: args[0]})
	if err != nil {
		return err
	}
	x := resp.GetComplaint()
	t := func(ts interface{ AsTime() time.Time }) string {
		return ts.AsTime().In(clock.IST).Format("2006-01-02 15:04")
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "docket\t%s (version %d)\n", x.GetDocket(), x.GetVersion())
	fmt.Fprintf(tw, "status\t%s\n", enumName(x.GetStatus().String(), "COMPLAINT_STATUS_"))
	fmt.Fprintf(tw, "citizen\t%s %s\n", x.GetCitizen().GetName(), x.GetCitizen().GetPhone())
	fmt.Fprintf(tw, "where\t%s %s %s %s\n", x.GetLocation().GetDistrictCode(), x.GetLocation().GetBlockCode(), x.GetLocation().GetWardCode(), x.GetLocation().GetLocality())
	fmt.Fprintf(tw, "category\t%s (%s)\n", x.GetCategoryCode(), x.GetDepartmentCode())
	if x.GetPost() != "" {
		fmt.Fprintf(tw, "post\t%s level %d, %s\n", x.GetPost(), x.GetLevel(), x.GetAssignedOfficer())
	}
	if x.GetSlaDueAt() != nil {
		fmt.Fprintf(tw, "due\t%s (overdue: %v)\n", t(x.GetSlaDueAt()), x.GetOverdue())
	}
	fmt.Fprintf(tw, "registered\t%s via %s\n", t(x.GetCreatedAt()), enumName(x.GetChannel().String(), "CHANNEL_"))
	fmt.Fprintf(tw, "description\t%s\n", x.GetDescription())
	if x.GetActionTakenReport() != "" {
		fmt.Fprintf(tw, "action taken\t%s\n", x.GetActionTakenReport())
	}
	fmt.Fprintln(tw, "\nhistory")
	for _, h := range x.GetHistory() {
		fmt.Fprintf(tw, "  %s\t%s\t%s → %s\t%s\t%s\n", t(h.GetAt()), h.GetAction(), enumName(h.GetFromStatus().String(), "COMPLAINT_STATUS_"),
			enumName(h.GetToStatus().String(), "COMPLAINT_STATUS_"), h.GetActor(), h.GetNote())
	}
	return tw.Flush()
}

func (c *cli) search(ctx context.Context, args []string) error {
	fs := c.flags("search", "usage: helplinectl search [-phone P] [-docket D] [-text T] [-status S] [-limit N]")
	phone := fs.String("phone", "", "citizen's phone")
	dkt := fs.String("docket", "", "docket")
	text := fs.String("text", "", "words in the description or address, any script")
	statusName := fs.String("status", "", "status, e.g. assigned")
	limit := fs.Int("limit", 20, "at most this many")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, err := complaintStatus(*statusName)
	if err != nil {
		return err
	}
	actx, err := c.authed(ctx)
	if err != nil {
		return err
	}
	resp, err := helplinev1.NewIntakeServiceClient(c.conn).SearchComplaints(actx, &helplinev1.SearchComplaintsRequest{
		Phone: *phone, Docket: *dkt, Text: *text, Status: st, PageSize: int32(min(max(*limit, 1), 100))})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DOCKET\tREGISTERED\tSTATUS\tCATEGORY\tDISTRICT\tPOST\tDESCRIPTION")
	for _, x := range resp.GetComplaints() {
		d := []rune(x.GetDescription())
		if len(d) > 40 {
			d = append(d[:39], '…')
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.GetDocket(), x.GetCreatedAt().AsTime().In(clock.IST).Format("2006-01-02 15:04"),
			enumName(x.GetStatus().String(), "COMPLAINT_STATUS_"), x.GetCategoryCode(), x.GetLocation().GetDistrictCode(), x.GetPost(), string(d))
	}
	return tw.Flush()
}
