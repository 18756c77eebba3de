// Package intake is the IntakeService: call-centre agents register
// complaints, look them up and log follow-up calls.
package intake

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/input"
	"github.com/helpline/helpline/internal/page"
)

// Limits on input, in code points after NFC.
const (
	maxDescription = 4000
	maxName        = 200
	maxLocality    = 200
	maxAddress     = 500
	maxNote        = 4000
	maxKey         = 128
)

// DefaultLine is the helpline line of a registration that names none.
const DefaultLine = "1100"

// Service implements helplinev1.IntakeServiceServer.
type Service struct {
	helplinev1.UnimplementedIntakeServiceServer
	store    *store
	clock    clock.Clock
	calendar calendar.Calendar
	log      *slog.Logger
	wake     func()
	commits  *committer
}

// New returns the intake service; wake is called after every commit that
// wrote an event.
func New(pool *pgxpool.Pool, clk clock.Clock, cal calendar.Calendar, log *slog.Logger, wake func()) *Service {
	if wake == nil {
		wake = func() {}
	}
	return &Service{store: &store{pool: pool}, clock: clk, calendar: cal, log: log, wake: wake, commits: newCommitter(pool, clk, wake)}
}

// Run commits registrations in groups until ctx ends; RegisterComplaint
// needs it running.
func (s *Service) Run(ctx context.Context) { s.commits.run(ctx) }

// registration is a validated RegisterComplaintRequest.
type registration struct {
	key, name, phone, language               string
	district, block, ward, locality, address string
	category, description, channel, line     string
}

func validateRegistration(req *helplinev1.RegisterComplaintRequest) (registration, error) {
	var r registration
	var err error
	check := func(v string, e error, dst *string) {
		if err == nil {
			*dst, err = v, e
		}
	}
	v, e := input.Text("idempotency_key", req.GetIdempotencyKey(), maxKey, true)
	check(v, e, &r.key)
	v, e = input.Text("citizen.name", req.GetCitizen().GetName(), maxName, true)
	check(v, e, &r.name)
	v, e = input.Phone("citizen.phone", req.GetCitizen().GetPhone())
	check(v, e, &r.phone)
	v, e = input.Language("citizen.language", req.GetCitizen().GetLanguage())
	check(v, e, &r.language)
	v, e = input.Code("location.district_code", req.GetLocation().GetDistrictCode(), true)
	check(v, e, &r.district)
	v, e = input.Code("location.block_code", req.GetLocation().GetBlockCode(), false)
	check(v, e, &r.block)
	v, e = input.Code("location.ward_code", req.GetLocation().GetWardCode(), false)
	check(v, e, &r.ward)
	v, e = input.Text("location.locality", req.GetLocation().GetLocality(), maxLocality, false)
	check(v, e, &r.locality)
	v, e = input.LongText("location.address", req.GetLocation().GetAddress(), maxAddress, false)
	check(v, e, &r.address)
	v, e = input.Code("category_code", req.GetCategoryCode(), true)
	check(v, e, &r.category)
	v, e = input.LongText("description", req.GetDescription(), maxDescription, true)
	check(v, e, &r.description)
	line := req.GetHelpline()
	if line == "" {
		line = DefaultLine
	}
	v, e = input.Code("helpline", line, true)
	check(v, e, &r.line)
	if err != nil {
		return r, err
	}
	if r.ward != "" && r.block == "" {
		return r, apperr.Invalid("location.block_code", "required when a ward is given")
	}
	if r.channel = complaint.ChannelFromProto(req.GetChannel()); r.channel == "" {
		return r, apperr.Invalid("channel", "required: PHONE, WHATSAPP, WEB, MOBILE_APP, EMAIL, SOCIAL_MEDIA or WALK_IN")
	}
	return r, nil
}

// hash fingerprints the content of a registration, without its key.
func (r registration) hash() []byte {
	h := sha256.New()
	for _, f := range []string{r.name, r.phone, r.language, r.district, r.block, r.ward, r.locality, r.address,
		r.category, r.description, r.channel, r.line} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return h.Sum(nil)
}

// RegisterComplaint registers a complaint, its first history entry and its
// registered event, and answers after the commit. Concurrent registrations
// share transactions (group commit); see committer.
func (s *Service) RegisterComplaint(ctx context.Context, req *helplinev1.RegisterComplaintRequest) (*helplinev1.RegisterComplaintResponse, error) {
	r, err := validateRegistration(req)
	if err != nil {
		return nil, err
	}
	p := &pending{ctx: ctx, who: caller.From(ctx), reg: r, hash: r.hash()}
	if err := s.commits.submit(ctx, p); err != nil {
		return nil, err
	}
	if p.replay {
		return s.replay(ctx, p.who.Username, r.key, p.hash)
	}
	return &helplinev1.RegisterComplaintResponse{Complaint: complaint.ToProto(p.rec, nil, s.view(ctx))}, nil
}

// replay answers a registration whose key was seen before.
func (s *Service) replay(ctx context.Context, scope, key string, hash []byte) (*helplinev1.RegisterComplaintResponse, error) {
	dkt, stored, err := s.store.findByKey(ctx, scope, key)
	if err != nil {
		return nil, err
	}
	if string(stored) != string(hash) {
		return nil, fmt.Errorf("idempotency key %q was used for a different complaint (%s): %w", key, dkt, apperr.ErrAlreadyExists)
	}
	return s.respond(ctx, dkt, true)
}

func (s *Service) respond(ctx context.Context, dkt string, replayed bool) (*helplinev1.RegisterComplaintResponse, error) {
	rec, err := complaint.GetByDocket(ctx, s.store.pool, dkt)
	if err != nil {
		return nil, err
	}
	return &helplinev1.RegisterComplaintResponse{Complaint: complaint.ToProto(rec, nil, s.view(ctx)), Replayed: replayed}, nil
}

func (s *Service) view(ctx context.Context) complaint.View {
	return complaint.ViewFor(ctx, s.clock.Now())
}

// parseDocket validates an optional or required docket field.
func parseDocket(field, s string, required bool) (string, error) {
	if s == "" && !required {
		return "", nil
	}
	return complaint.ParseDocket(field, s)
}

// GetComplaint reads a complaint with its history.
func (s *Service) GetComplaint(ctx context.Context, req *helplinev1.GetComplaintRequest) (*helplinev1.GetComplaintResponse, error) {
	d, err := parseDocket("docket", req.GetDocket(), true)
	if err != nil {
		return nil, err
	}
	rec, err := complaint.GetByDocket(ctx, s.store.pool, d)
	if err != nil {
		return nil, err
	}
	if err := complaint.CheckVisible(ctx, rec); err != nil {
		return nil, err
	}
	hist, err := complaint.History(ctx, s.store.pool, rec.ID)
	if err != nil {
		return nil, err
	}
	return &helplinev1.GetComplaintResponse{Complaint: complaint.ToProto(rec, hist, s.view(ctx))}, nil
}

// SearchComplaints finds complaints by phone, docket, status and free text.
func (s *Service) SearchComplaints(ctx context.Context, req *helplinev1.SearchComplaintsRequest) (*helplinev1.SearchComplaintsResponse, error) {
	var f searchFilter
	var err error
	if req.GetPhone() != "" {
		if f.phone, err = input.Phone("phone", req.GetPhone()); err != nil {
			return nil, err
		}
	}
	if f.docket, err = parseDocket("docket", req.GetDocket(), false); err != nil {
		return nil, err
	}
	if req.GetStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNSPECIFIED {
		if _, ok := helplinev1.ComplaintStatus_name[int32(req.GetStatus())]; !ok {
			return nil, apperr.Invalid("status", "unknown status")
		}
		f.status = complaint.StatusFromProto(req.GetStatus())
	}
	if f.text, err = input.Text("text", req.GetText(), 200, false); err != nil {
		return nil, err
	}
	if f.text != "" && len([]rune(f.text)) < 2 {
		return nil, apperr.Invalid("text", "must be at least 2 characters")
	}
	switch req.GetStatusGroup() {
	case helplinev1.StatusGroup_STATUS_GROUP_UNSPECIFIED:
	case helplinev1.StatusGroup_STATUS_GROUP_OPEN:
		f.group = "open"
	case helplinev1.StatusGroup_STATUS_GROUP_CLOSED:
		f.group = "closed"
	default:
		return nil, apperr.Invalid("status_group", "unknown status group")
	}
	if f.category, err = input.Code("category_code", req.GetCategoryCode(), false); err != nil {
		return nil, err
	}
	if err := complaint.CheckFilterCode(ctx, s.store.pool, "category_code", complaint.CategoryCode, f.category); err != nil {
		return nil, err
	}
	f.specialPending, f.escalated, f.flagged = req.GetSpecialClosurePending(), req.GetEscalated(), req.GetFlaggedForSupervisor()
	if req.GetRegisteredByMe() {
		f.registeredBy = caller.From(ctx).Username
	}
	if f.from, err = dayStart("from_date", req.GetFromDate(), 0); err != nil {
		return nil, err
	}
	if f.to, err = dayStart("to_date", req.GetToDate(), 1); err != nil {
		return nil, err
	}
	if f.from != nil && f.to != nil && !f.from.Before(*f.to) {
		return nil, apperr.Invalid("to_date", "must not be before from_date")
	}
	if f.phone == "" && f.docket == "" && f.status == "" && f.text == "" && f.registeredBy == "" && f.from == nil &&
		!f.specialPending && !f.escalated && !f.flagged {
		return nil, apperr.Invalid("phone", "give at least one of phone, docket, status, text, registered_by_me, from_date, special_closure_pending, escalated or flagged_for_supervisor")
	}
	if f.limit, err = page.Size(req.GetPageSize(), 20, 100); err != nil {
		return nil, err
	}
	if f.after, err = page.Parse(req.GetPageToken()); err != nil {
		return nil, err
	}
	f.limit++ // one more tells whether there is a next page
	recs, err := s.store.search(ctx, f, complaint.ScopeSQL)
	if err != nil {
		return nil, err
	}
	resp := &helplinev1.SearchComplaintsResponse{}
	if len(recs) == f.limit {
		recs = recs[:f.limit-1]
		last := recs[len(recs)-1]
		resp.NextPageToken = page.Cursor{At: last.CreatedAt, ID: last.ID}.Token()
	}
	v := s.view(ctx)
	for _, r := range recs {
		resp.Complaints = append(resp.Complaints, complaint.ToProto(r, nil, v))
	}
	return resp, nil
}

// AddFollowUp records that the citizen called again; with the information
// an officer asked for, an ON_HOLD complaint resumes and its deadline moves
// on by the working days spent on hold.
func (s *Service) AddFollowUp(ctx context.Context, req *helplinev1.AddFollowUpRequest) (*helplinev1.AddFollowUpResponse, error) {
	d, err := parseDocket("docket", req.GetDocket(), true)
	if err != nil {
		return nil, err
	}
	note, err := input.LongText("note", req.GetNote(), maxNote, true)
	if err != nil {
		return nil, err
	}
	if req.GetExpectedVersion() < 0 {
		return nil, apperr.Invalid("expected_version", "must not be negative")
	}
	var rec *complaint.Record
	now := s.clock.Now()
	err = db.InTx(ctx, s.store.pool, func(tx pgx.Tx) error {
		var err error
		if rec, err = complaint.LockByDocket(ctx, tx, d); err != nil {
			return err
		}
		if err := complaint.CheckVisible(ctx, rec); err != nil {
			return err
		}
		action, mutate := complaint.FollowUp, func(r *complaint.Record) error { r.FollowUpCount++; return nil }
		if req.GetProvidesInformation() {
			action = complaint.ProvideInformation
			mutate = func(r *complaint.Record) error {
				r.FollowUpCount++
				return complaint.ResumeClock(ctx, tx, s.calendar, r, now)
			}
		}
		return complaint.Apply(ctx, tx, rec, complaint.Change{
			Action: action, Note: note, ExpectedVersion: req.GetExpectedVersion(), Mutate: mutate,
		}, now)
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return &helplinev1.AddFollowUpResponse{Complaint: complaint.ToProto(rec, nil, s.view(ctx))}, nil
}

// dayStart parses an optional IST date (YYYY-MM-DD) into the start of that
// day plus addDays.
func dayStart(field, s string, addDays int) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, clock.IST)
	if err != nil {
		return nil, apperr.Invalid(field, "must be a date like 2026-11-01")
	}
	d = d.AddDate(0, 0, addDays)
	return &d, nil
}
