package resolution

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/input"
)

const maxText = 4000

// command is one officer action on one complaint.
type command struct {
	docket   string
	expected int64
	action   complaint.Action
	note     string
	// annotate, when set, returns what the history note adds about the
	// complaint as locked (before the change).
	annotate func(r *complaint.Record) string
	// prepare runs with the complaint locked and the caller authorized, and
	// returns the mutation of the transition (nil for none).
	prepare func(ctx context.Context, tx pgx.Tx, r *complaint.Record, now time.Time) (func(*complaint.Record) error, error)
}

func expectedVersion(v int64) error {
	if v < 0 {
		return apperr.Invalid("expected_version", "must not be negative")
	}
	return nil
}

// run executes a command: lock, scope, authorize, prepare, transition, all
// in one transaction; the reply comes after the commit.
func (s *Service) run(ctx context.Context, cmd command) (*helplinev1.Complaint, error) {
	d, err := complaint.ParseDocket("docket", cmd.docket)
	if err != nil {
		return nil, err
	}
	if err := expectedVersion(cmd.expected); err != nil {
		return nil, err
	}
	var rec *complaint.Record
	now := s.clock.Now()
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if rec, err = complaint.LockByDocket(ctx, tx, d); err != nil {
			return err
		}
		if err := complaint.CheckVisible(ctx, rec); err != nil {
			return err
		}
		if err := authorize(ctx, cmd.action, rec); err != nil {
			return err
		}
		var mutate func(*complaint.Record) error
		if cmd.prepare != nil {
			if mutate, err = cmd.prepare(ctx, tx, rec, now); err != nil {
				return err
			}
		}
		note := cmd.note
		if cmd.annotate != nil {
			if extra := cmd.annotate(rec); extra != "" {
				note = strings.TrimSpace(note + "\n" + extra)
			}
		}
		return complaint.Apply(ctx, tx, rec, complaint.Change{Action: cmd.action, Note: note, ExpectedVersion: cmd.expected, Mutate: mutate}, now)
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return complaint.ToProto(rec, nil, complaint.ViewFor(ctx, now)), nil
}

// authorize applies who-may-act beyond the role: an officer acts only on
// complaints at a post they hold; a special closure is decided by a
// supervisor, an admin or an L3+ officer of the department, never by the
// one who proposed it.
func authorize(ctx context.Context, action complaint.Action, r *complaint.Record) error {
	c := caller.From(ctx)
	switch action {
	case complaint.ApproveSpecial, complaint.RejectSpecial:
		if r.SpecialProposerID != nil && *r.SpecialProposerID == c.UserID {
			return fmt.Errorf("the proposer of a special closure cannot decide it: %w", apperr.ErrPermissionDenied)
		}
		if c.Role == caller.Officer && !slices.ContainsFunc(c.Posts, func(p caller.Post) bool {
			return r.DepartmentID != nil && p.DepartmentID == *r.DepartmentID && p.DistrictID == 0
		}) {
			return fmt.Errorf("only a level 3 or 4 officer of the department decides special closures: %w", apperr.ErrPermissionDenied)
		}
		return nil
	case complaint.Link:
		return nil // seeing the complaint is enough
	}
	if c.Role != caller.Officer {
		return nil
	}
	if r.PostID == nil || !slices.ContainsFunc(c.Posts, func(p caller.Post) bool { return p.ID == *r.PostID }) {
		return fmt.Errorf("complaint %s is at post %s, which you do not hold: %w", r.Docket, orNone(r.PostCode), apperr.ErrPermissionDenied)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// AcknowledgeComplaint: the post holder starts work.
func (s *Service) AcknowledgeComplaint(ctx context.Context, req *helplinev1.AcknowledgeComplaintRequest) (*helplinev1.AcknowledgeComplaintResponse, error) {
	note, err := input.LongText("note", req.GetNote(), maxText, false)
	if err != nil {
		return nil, err
	}
	c, err := s.run(ctx, command{docket: req.GetDocket(), expected: req.GetExpectedVersion(), action: complaint.Acknowledge, note: note,
		prepare: func(_ context.Context, _ pgx.Tx, _ *complaint.Record, now time.Time) (func(*complaint.Record) error, error) {
			return func(r *complaint.Record) error {
				if r.AckDueAt == nil || !now.After(*r.AckDueAt) {
					r.AcksOnTime++
				}
				return nil
			}, nil
		}})
	return &helplinev1.AcknowledgeComplaintResponse{Complaint: c}, err
}

// AddNote adds a note to the history.
func (s *Service) AddNote(ctx context.Context, req *helplinev1.AddNoteRequest) (*helplinev1.AddNoteResponse, error) {
	note, err := input.LongText("note", req.GetNote(), maxText, true)
	if err != nil {
		return nil, err
	}
	c, err := s.run(ctx, command{docket: req.GetDocket(), expected: req.GetExpectedVersion(), action: complaint.Note, note: note})
	return &helplinev1.AddNoteResponse{Complaint: c}, err
}

// RequestInformation puts the complaint on hold and pauses its SLA clock.
func (s *Service) RequestInformation(ctx context.Context, req *helplinev1.RequestInformationRequest) (*helplinev1.RequestInformationResponse, error) {
	note, err := input.LongText("note", req.GetNote(), maxText, true)
	if err != nil {
		return nil, err
	}
	c, err := s.run(ctx, command{docket: req.GetDocket(), expected: req.GetExpectedVersion(), action: complaint.RequestInformation, note: note,
		prepare: func(_ context.Context, _ pgx.Tx, _ *complaint.Record, now time.Time) (func(*complaint.Record) error, error) {
			return func(r *complaint.Record) error { r.OnHoldSince = &now; return nil }, nil
		}})
	return &helplinev1.RequestInformationResponse{Complaint: c}, err
}

// ResumeComplaint takes the complaint off hold; the deadline moves on by the
// working days spent on hold.
func (s *Service) ResumeComplaint(ctx context.Context, req *helplinev1.ResumeComplaintRequest) (*helplinev1.ResumeComplaintResponse, error) {
	note, err := input.LongText("note", req.GetNote(), maxText, false)
	if err != nil {
		return nil, err
	}
	c, err := s.run(ctx, command{docket: req.GetDocket(), expected: req.GetExpectedVersion(), action: complaint.Resume, note: note,
		prepare: func(ctx context.Context, tx pgx.Tx, _ *complaint.Record, now time.Time) (func(*complaint.Record) error, error) {
			return func(r *complaint.Record) error { return complaint.ResumeClock(ctx, tx, s.calendar, r, now) }, nil
		}})
	return &helplinev1.ResumeComplaintResponse{Complaint: c}, err
}

// ResolveComplaint resolves with an action-taken report. A pending special
// closure proposal is withdrawn (the citizen is asked instead), and the
// history entry says so.
func (s *Service) ResolveComplaint(ctx context.Context, req *helplinev1.ResolveComplaintRequest) (*helplinev1.ResolveComplaintResponse, error) {
	atr, err := input.LongText("action_taken_report", req.GetActionTakenReport(), maxText, true)
	if err != nil {
		return nil, err
	}
	c, err := s.run(ctx, command{docket: req.GetDocket(), expected: req.GetExpectedVersion(), action: complaint.Resolve, note: atr,
		annotate: func(r *complaint.Record) string {
			if !r.SpecialClosurePending {
				return ""
			}
			return fmt.Sprintf("(the special closure proposal of %s, %s, is withdrawn by the resolution)", orNone(r.SpecialProposer), r.SpecialReason)
		},
		prepare: func(_ context.Context, _ pgx.Tx, _ *complaint.Record, now time.Time) (func(*complaint.Record) error, error) {
			return func(r *complaint.Record) error {
				r.ResolvedAt, r.ActionTakenReport = &now, atr
				onTime := r.SLADueAt == nil || !now.After(*r.SLADueAt)
				r.ResolvedOnTime = &onTime
				r.FeedbackAttempts, r.FeedbackFirstFailedAt = 0, nil
				clearProposal(r)
				return nil
			}, nil
		}})
	return &helplinev1.ResolveComplaintResponse{Complaint: c}, err
}

// unassign takes a complaint off its post and drops a pending proposal.
func unassign(r *complaint.Record) {
	r.DepartmentID, r.DepartmentCode = nil, ""
	r.PostID, r.PostCode, r.Officer = nil, "", ""
	r.Level, r.SLADueAt, r.OnHoldSince = 0, nil, nil
	r.SupervisorFlag = "" // the unrouted queue is the supervisor's anyway
	clearProposal(r)
}

func clearProposal(r *complaint.Record) {
	r.SpecialClosurePending = false
	r.SpecialReason, r.SpecialDuplicateOf, r.SpecialNote, r.SpecialProposerID, r.SpecialProposer = "", "", "", nil, ""
}

// ReturnComplaint sends a complaint that is not the department's back to
// the unrouted queue.
func (s *Service) ReturnComplaint(ctx context.Context, req *helplinev1.ReturnComplaintRequest) (*helplinev1.ReturnComplaintResponse, error) {
	reason, err := input.LongText("reason", req.GetReason(), maxText, true)
	if err != nil {
		return nil, err
	}
	c, err := s.run(ctx, command{docket: req.GetDocket(), expected: req.GetExpectedVersion(), action: complaint.Return, note: reason,
		prepare: func(context.Context, pgx.Tx, *complaint.Record, time.Time) (func(*complaint.Record) error, error) {
			return func(r *complaint.Record) error { unassign(r); return nil }, nil
		}})
	return &helplinev1.ReturnComplaintResponse{Complaint: c}, err
}

// TransferComplaint moves a complaint to another category and the L1 post
// of the department the routing rules give for it, with a fresh deadline.
func (s *Service) TransferComplaint(ctx context.Context, req *helplinev1.TransferComplaintRequest) (*helplinev1.TransferComplaintResponse, error) {
	category, err := input.Code("category_code", req.GetCategoryCode(), true)
	if err != nil {
		return nil, err
	}
	note, err := input.LongText("note", req.GetNote(), maxText, false)
	if err != nil {
		return nil, err
	}
	var extra string // set by prepare: the post has no holder
	c, err := s.run(ctx, command{docket: req.GetDocket(), expected: req.GetExpectedVersion(), action: complaint.Transfer, note: note,
		annotate: func(*complaint.Record) string { return extra },
		prepare: func(ctx context.Context, tx pgx.Tx, rec *complaint.Record, now time.Time) (func(*complaint.Record) error, error) {
			var categoryID, ownDept int64
			err := tx.QueryRow(ctx, `SELECT id, department_id FROM categories WHERE code = $1`, category).Scan(&categoryID, &ownDept)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil, apperr.Invalid("category_code", fmt.Sprintf("unknown category %q", category))
			}
			if err != nil {
				return nil, err
			}
			if categoryID == rec.CategoryID {
				return nil, apperr.Invalid("category_code", "the complaint is in that category already")
			}
			dept, err := complaint.DepartmentFor(ctx, tx, categoryID, rec)
			if errors.Is(err, apperr.ErrNotFound) {
				dept, err = ownDept, nil
			}
			if err != nil {
				return nil, err
			}
			post, err := complaint.PostFor(ctx, tx, dept, 1, rec.DistrictID)
			if errors.Is(err, apperr.ErrNotFound) {
				return nil, apperr.Precondition("the department of %s has no level 1 post in %s", category, rec.DistrictCode)
			}
			if err != nil {
				return nil, err
			}
			due, err := complaint.Deadline(ctx, tx, s.calendar, categoryID, 1, now)
			if err != nil {
				return nil, err
			}
			ackDue, err := complaint.AckDue(ctx, tx, s.calendar, now)
			if err != nil {
				return nil, err
			}
			assign := complaint.AssignTo(post, due, ackDue)
			if post.Holder == "" {
				extra = complaint.NoHolderFlag(post) + ": flagged for the supervisor"
			}
			return func(r *complaint.Record) error {
				clearProposal(r)
				r.CategoryID, r.CategoryCode, r.OnHoldSince = categoryID, category, nil
				return assign(r)
			}, nil
		}})
	return &helplinev1.TransferComplaintResponse{Complaint: c}, err
}

var specialReasons = map[helplinev1.SpecialClosureReason]string{
	helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_POLICY_MATTER:   "policy_matter",
	helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_SUB_JUDICE:      "sub_judice",
	helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_NOT_A_GRIEVANCE: "not_a_grievance",
	helplinev1.SpecialClosureReason_SPECIAL_CLOSURE_REASON_DUPLICATE:       "duplicate",
}

// ProposeSpecialClosure flags a complaint for closure without resolution;
// the SLA clock runs on until someone decides.
func (s *Service) ProposeSpecialClosure(ctx context.Context, req *helplinev1.ProposeSpecialClosureRequest) (*helplinev1.ProposeSpecialClosureResponse, error) {
	reason, ok := specialReasons[req.GetReason()]
	if !ok {
		return nil, apperr.Invalid("reason", "must be POLICY_MATTER, SUB_JUDICE, NOT_A_GRIEVANCE or DUPLICATE")
	}
	note, err := input.LongText("note", req.GetNote(), maxText, true)
	if err != nil {
		return nil, err
	}
	var dup string
	if reason == "duplicate" {
		if dup, err = complaint.ParseDocket("duplicate_of", req.GetDuplicateOf()); err != nil {
			return nil, err
		}
	} else if req.GetDuplicateOf() != "" {
		return nil, apperr.Invalid("duplicate_of", "only for the DUPLICATE reason")
	}
	c, err := s.run(ctx, command{docket: req.GetDocket(), expected: req.GetExpectedVersion(), action: complaint.ProposeSpecial,
		note: strings.TrimSpace(reason + " " + dup + ": " + note),
		prepare: func(ctx context.Context, tx pgx.Tx, rec *complaint.Record, _ time.Time) (func(*complaint.Record) error, error) {
			if dup != "" {
				if dup == rec.Docket {
					return nil, apperr.Invalid("duplicate_of", "a complaint cannot duplicate itself")
				}
				// A docket the caller may not see answers as if it did not exist.
				other, err := complaint.GetByDocket(ctx, tx, dup)
				if errors.Is(err, apperr.ErrNotFound) || (err == nil && !complaint.Visible(ctx, other)) {
					return nil, apperr.Invalid("duplicate_of", fmt.Sprintf("no complaint %s", dup))
				}
				if err != nil {
					return nil, err
				}
			}
			who := caller.From(ctx)
			return func(r *complaint.Record) error {
				r.SpecialClosurePending = true
				r.SpecialReason, r.SpecialDuplicateOf, r.SpecialNote = reason, dup, note
				r.SpecialProposerID, r.SpecialProposer = &who.UserID, who.Username
				return nil
			}, nil
		}})
	return &helplinev1.ProposeSpecialClosureResponse{Complaint: c}, err
}

// DecideSpecialClosure approves (CLOSED SPECIAL) or rejects a proposal.
func (s *Service) DecideSpecialClosure(ctx context.Context, req *helplinev1.DecideSpecialClosureRequest) (*helplinev1.DecideSpecialClosureResponse, error) {
	note, err := input.LongText("note", req.GetNote(), maxText, false)
	if err != nil {
		return nil, err
	}
	action, verdict := complaint.RejectSpecial, "rejected"
	if req.GetApprove() {
		action, verdict = complaint.ApproveSpecial, "approved"
	}
	c, err := s.run(ctx, command{docket: req.GetDocket(), expected: req.GetExpectedVersion(), action: action,
		note: strings.TrimSuffix(verdict+": "+note, ": "),
		prepare: func(_ context.Context, _ pgx.Tx, _ *complaint.Record, now time.Time) (func(*complaint.Record) error, error) {
			return func(r *complaint.Record) error {
				r.SpecialClosurePending = false
				if req.GetApprove() {
					r.ClosedAt, r.Closure = &now, "SPECIAL"
					return nil
				}
				clearProposal(r)
				return nil
			}, nil
		}})
	return &helplinev1.DecideSpecialClosureResponse{Complaint: c}, err
}

// LinkComplaints links two complaints about the same issue, in both
// directions, with a history entry on each; expected_version and
// linked_expected_version, when set, must be the two complaints' versions.
func (s *Service) LinkComplaints(ctx context.Context, req *helplinev1.LinkComplaintsRequest) (*helplinev1.LinkComplaintsResponse, error) {
	a, err := complaint.ParseDocket("docket", req.GetDocket())
	if err != nil {
		return nil, err
	}
	b, err := complaint.ParseDocket("linked_docket", req.GetLinkedDocket())
	if err != nil {
		return nil, err
	}
	if a == b {
		return nil, apperr.Invalid("linked_docket", "a complaint cannot be linked to itself")
	}
	note, err := input.LongText("note", req.GetNote(), maxText, false)
	if err != nil {
		return nil, err
	}
	if err := expectedVersion(req.GetExpectedVersion()); err != nil {
		return nil, err
	}
	if req.GetLinkedExpectedVersion() < 0 {
		return nil, apperr.Invalid("linked_expected_version", "must not be negative")
	}
	expected := map[string]int64{a: req.GetExpectedVersion(), b: req.GetLinkedExpectedVersion()}
	now := s.clock.Now()
	var first *complaint.Record
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock in docket order so that two opposite links cannot deadlock.
		lo, hi := min(a, b), max(a, b)
		recs := map[string]*complaint.Record{}
		for _, d := range []string{lo, hi} {
			r, err := complaint.LockByDocket(ctx, tx, d)
			if errors.Is(err, apperr.ErrNotFound) && d == b {
				return apperr.NotFound("complaint %s not found", b)
			}
			if err != nil {
				return err
			}
			if err := complaint.CheckVisible(ctx, r); err != nil {
				return err
			}
			recs[d] = r
		}
		tag, err := tx.Exec(ctx, `INSERT INTO complaint_links (complaint_id, linked_id, created_at) VALUES ($1, $2, $3), ($2, $1, $3) ON CONFLICT DO NOTHING`,
			recs[a].ID, recs[b].ID, now)
		if err != nil {
			return fmt.Errorf("link: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return apperr.Precondition("%s and %s are linked already", a, b)
		}
		for _, pair := range [][2]string{{a, b}, {b, a}} {
			r := recs[pair[0]]
			r.LinkedDockets = append(r.LinkedDockets, pair[1])
			slices.Sort(r.LinkedDockets)
			if err := complaint.Apply(ctx, tx, r, complaint.Change{Action: complaint.Link, Note: strings.TrimSuffix("linked to "+pair[1]+": "+note, ": "),
				ExpectedVersion: expected[pair[0]]}, now); err != nil {
				return err
			}
		}
		first = recs[a]
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return &helplinev1.LinkComplaintsResponse{Complaint: complaint.ToProto(first, nil, complaint.ViewFor(ctx, now))}, nil
}
