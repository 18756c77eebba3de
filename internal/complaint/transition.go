package complaint

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/outbox"
)

// Change is one action on a complaint.
type Change struct {
	Action Action
	// Note goes into the history entry and the event.
	Note string
	// ExpectedVersion, when not zero, must equal the complaint's version.
	ExpectedVersion int64
	// Mutate, when set, changes the record's fields (other than status and
	// version) after the transition is allowed and before it is written.
	Mutate func(r *Record) error
}

// Apply performs ch on r, which the caller read with LockByDocket or
// LockByID in tx: it checks the lifecycle table and the expected version,
// then writes the new state, a history entry and the event, all in tx (in
// one round trip). A refused change returns FAILED_PRECONDITION and writes
// nothing.
func Apply(ctx context.Context, tx pgx.Tx, r *Record, ch Change, now time.Time) error {
	return ApplyMany(ctx, tx, []*Record{r}, []Change{ch}, now)
}

// ApplyMany performs chs[i] on recs[i] for every i, as Apply does, and
// sends every write in one round trip. When one change is refused or a
// write fails, no record is changed and the error is returned; the caller
// rolls tx back.
func ApplyMany(ctx context.Context, tx pgx.Tx, recs []*Record, chs []Change, now time.Time) error {
	if len(recs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	before := make([]Record, len(recs))
	restore := func(n int) {
		for i := range n {
			*recs[i] = before[i]
		}
	}
	for i, r := range recs {
		before[i] = *r
		if err := queueChange(ctx, b, r, chs[i], now); err != nil {
			restore(i + 1)
			return err
		}
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	for i := 0; i < b.Len(); i++ {
		if _, err := br.Exec(); err != nil {
			restore(len(recs))
			switch i % 3 {
			case 0:
				return fmt.Errorf("update complaint: %w", err)
			case 1:
				return fmt.Errorf("append history: %w", err)
			default:
				return fmt.Errorf("write outbox: %w", err)
			}
		}
	}
	if err := br.Close(); err != nil {
		restore(len(recs))
		return err
	}
	return nil
}

// queueChange checks ch against the lifecycle table, applies it to r and
// queues its three writes (state, history entry, event) on b.
func queueChange(ctx context.Context, b *pgx.Batch, r *Record, ch Change, now time.Time) error {
	rule, ok := Table[ch.Action]
	if !ok {
		return fmt.Errorf("unknown action %q", ch.Action)
	}
	who := caller.From(ctx)
	if !rule.Permits(who.Role) {
		return fmt.Errorf("%s may not %s: %w", who.Role, ch.Action, apperr.ErrPermissionDenied)
	}
	if !rule.Allows(r.Status) {
		return apperr.Precondition("cannot %s complaint %s: it is %s", ch.Action, r.Docket, r.Status)
	}
	if rule.Guard != nil {
		if why := rule.Guard(r); why != "" {
			return apperr.Precondition("cannot %s complaint %s: %s", ch.Action, r.Docket, why)
		}
	}
	if ch.ExpectedVersion != 0 && ch.ExpectedVersion != r.Version {
		return apperr.Precondition("complaint %s is at version %d, not %d: reload it", r.Docket, r.Version, ch.ExpectedVersion)
	}
	from := r.Status
	r.Status = rule.Next(r.Status)
	if ch.Mutate != nil {
		if err := ch.Mutate(r); err != nil {
			return err
		}
	}
	if r.Status == Resolved || r.Status == Closed {
		withdrawProposal(r)
		r.SupervisorFlag = "" // nothing left for the supervisor to fix
	}
	r.Version++
	r.UpdatedAt = now
	b.Queue(`
		UPDATE complaints SET version = $2, status = $3, category_id = $4, department_id = $5, post_id = $6,
		       level = $7, sla_due_at = $8, updated_at = $9, resolved_at = $10, closed_at = $11,
		       closure = nullif($12, ''), reopen_count = $13, follow_up_count = $14, special_closure_pending = $15,
		       on_hold_since = $16, action_taken_report = $17, special_closure_reason = nullif($18, ''),
		       special_closure_duplicate_of = nullif($19, ''), special_closure_note = nullif($20, ''),
		       special_closure_proposed_by = $21, feedback_attempts = $22, feedback_first_failed_at = $23,
		       escalation_count = $24, feedback_reached = $25, resolved_on_time = $26, assignments = $27,
		       acks_on_time = $28, ack_due_at = $29, supervisor_flag = nullif($30, '')
		WHERE id = $1`,
		r.ID, r.Version, string(r.Status), r.CategoryID, r.DepartmentID, r.PostID,
		r.Level, r.SLADueAt, now, r.ResolvedAt, r.ClosedAt,
		r.Closure, r.ReopenCount, r.FollowUpCount, r.SpecialClosurePending,
		r.OnHoldSince, r.ActionTakenReport, r.SpecialReason,
		r.SpecialDuplicateOf, r.SpecialNote, r.SpecialProposerID, r.FeedbackAttempts, r.FeedbackFirstFailedAt,
		r.EscalationCount, r.FeedbackReached, r.ResolvedOnTime, r.Assignments,
		r.AcksOnTime, r.AckDueAt, r.SupervisorFlag)
	b.Queue(`
		INSERT INTO complaint_history (complaint_id, version, action, from_status, to_status, actor, actor_role, note, at,
		                               department_code, category_code, district_code, post_code, level, sla_due_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		historyRow(r, ch.Action, from, ch.Note, who, now)...)
	return outbox.Queue(ctx, b, event(r, ch.Action, from, ch.Note, who, now))
}

// withdrawProposal clears a pending special-closure proposal: no RESOLVED
// or CLOSED complaint carries one (an approved closure keeps its reason).
func withdrawProposal(r *Record) {
	if !r.SpecialClosurePending {
		return
	}
	r.SpecialClosurePending = false
	r.SpecialReason, r.SpecialDuplicateOf, r.SpecialNote, r.SpecialProposerID, r.SpecialProposer = "", "", "", nil, ""
}

// historyColumns are the complaint_history columns historyRow fills.
var historyColumns = []string{"complaint_id", "version", "action", "from_status", "to_status", "actor", "actor_role", "note", "at",
	"department_code", "category_code", "district_code", "post_code", "level", "sla_due_at"}

// historyRow is the history entry of a change, in historyColumns order.
func historyRow(r *Record, action Action, from Status, note string, who caller.Caller, now time.Time) []any {
	return []any{r.ID, r.Version, string(action), nullIfEmpty(string(from)), string(r.Status), who.Username, string(who.Role), note, now,
		nullIfEmpty(r.DepartmentCode), r.CategoryCode, r.DistrictCode, nullIfEmpty(r.PostCode), int16(r.Level), r.SLADueAt}
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// event is the outbox event of a change.
func event(r *Record, action Action, from Status, note string, who caller.Caller, now time.Time) *helplinev1.ComplaintEvent {
	return &helplinev1.ComplaintEvent{
		Id:          outbox.NewEventID(),
		Type:        Table[action].Event,
		ComplaintId: r.ID,
		Docket:      r.Docket,
		Version:     r.Version,
		Actor:       &helplinev1.Actor{Username: who.Username, Role: RoleProto(who.Role)},
		At:          timestamppb.New(now),
		Snapshot:    Snapshot(r),
		Action:      string(action),
		FromStatus:  StatusProto(from),
		Note:        note,
	}
}

// Snapshot is the event snapshot of r.
func Snapshot(r *Record) *helplinev1.ComplaintSnapshot {
	return &helplinev1.ComplaintSnapshot{
		Status:                StatusProto(r.Status),
		DepartmentCode:        r.DepartmentCode,
		DistrictCode:          r.DistrictCode,
		CategoryCode:          r.CategoryCode,
		Post:                  r.PostCode,
		Level:                 int32(r.Level),
		SlaDueAt:              ts(r.SLADueAt),
		CreatedAt:             timestamppb.New(r.CreatedAt),
		Channel:               ChannelProto(r.Channel),
		Helpline:              r.Helpline,
		Closure:               ClosureProto(r.Closure),
		ReopenCount:           int32(r.ReopenCount),
		SpecialClosurePending: r.SpecialClosurePending,
		Officer:               r.Officer,
		ResolvedAt:            ts(r.ResolvedAt),
		EscalationCount:       int32(r.EscalationCount),
		FeedbackReached:       int32(r.FeedbackReached),
		ResolvedOnTime:        r.ResolvedOnTime != nil && *r.ResolvedOnTime,
		Assignments:           int32(r.Assignments),
		AcksOnTime:            int32(r.AcksOnTime),
		ClosedAt:              ts(r.ClosedAt),
	}
}

func ts(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}
