package complaint

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/helpline/helpline/internal/apperr"
)

// Record is a complaint row with the codes of what it refers to.
type Record struct {
	ID                    int64
	Docket                string
	Version               int64
	Status                Status
	CitizenID             int64
	CitizenName           string
	CitizenPhone          string
	CitizenLanguage       string
	DistrictID            int64
	DistrictCode          string
	BlockID               *int64
	BlockCode             string
	WardID                *int64
	WardCode              string
	Locality              string
	Address               string
	CategoryID            int64
	CategoryCode          string
	DepartmentID          *int64
	DepartmentCode        string
	PostID                *int64
	PostCode              string
	Officer               string
	Level                 int
	SLADueAt              *time.Time
	Description           string
	Channel               string
	Helpline              string
	CreatedAt             time.Time
	UpdatedAt             time.Time
	ResolvedAt            *time.Time
	ClosedAt              *time.Time
	Closure               string
	ReopenCount           int
	FollowUpCount         int
	SpecialClosurePending bool
	// OnHoldSince is when the SLA clock was paused.
	OnHoldSince       *time.Time
	ActionTakenReport string
	// The pending special closure proposal.
	SpecialReason      string
	SpecialDuplicateOf string
	SpecialNote        string
	SpecialProposerID  *int64
	SpecialProposer    string
	// LinkedDockets are complaints about the same issue.
	LinkedDockets []string
	// Failed feedback calls since the latest resolution, and the first of them.
	FeedbackAttempts      int
	FeedbackFirstFailedAt *time.Time
	// Counters behind the statistics.
	EscalationCount int
	FeedbackReached int
	ResolvedOnTime  *bool
	Assignments     int
	AcksOnTime      int
	// AckDueAt is the end of the working day after the current assignment.
	AckDueAt *time.Time
	// RegisteredBy is the username that registered it (its idempotency scope).
	RegisteredBy string
	// SupervisorFlag, when not empty, is why the complaint needs the
	// supervisor (a post without a holder, no held post above).
	SupervisorFlag string
	// StatusToken is the secret of the public status page (set by the
	// database at registration).
	StatusToken string
}

// Overdue reports whether the SLA clock has run out at now. The clock runs
// only while the complaint waits on an officer.
func (r *Record) Overdue(now time.Time) bool {
	switch r.Status {
	case Assigned, InProgress, Reopened:
		return r.SLADueAt != nil && now.After(*r.SLADueAt)
	}
	return false
}

// SelectSQL selects complaint records; append WHERE/ORDER clauses on alias c.
const SelectSQL = `
SELECT c.id, c.docket, c.version, c.status, c.citizen_id, c.citizen_name, ci.phone, c.citizen_language,
       c.district_id, d.code, c.block_id, coalesce(b.code, ''), c.ward_id, coalesce(w.code, ''),
       c.locality, c.address, c.category_id, cat.code, c.department_id, coalesce(dep.code, ''),
       c.post_id, coalesce(p.code, ''), coalesce(u.username, ''), c.level, c.sla_due_at,
       c.description, c.channel, c.helpline, c.created_at, c.updated_at, c.resolved_at, c.closed_at,
       coalesce(c.closure, ''), c.reopen_count, c.follow_up_count, c.special_closure_pending,
       c.on_hold_since, c.action_taken_report, coalesce(c.special_closure_reason, ''),
       coalesce(c.special_closure_duplicate_of, ''), coalesce(c.special_closure_note, ''),
       c.special_closure_proposed_by, coalesce(sp.username, ''),
       ARRAY(SELECT lc.docket FROM complaint_links cl JOIN complaints lc ON lc.id = cl.linked_id
             WHERE cl.complaint_id = c.id ORDER BY lc.docket),
       c.feedback_attempts, c.feedback_first_failed_at,
       c.escalation_count, c.feedback_reached, c.resolved_on_time, c.assignments, c.acks_on_time, c.ack_due_at,
       c.idem_scope, coalesce(c.supervisor_flag, ''), c.status_token
FROM complaints c
JOIN citizens ci ON ci.id = c.citizen_id
JOIN locations d ON d.id = c.district_id
LEFT JOIN locations b ON b.id = c.block_id
LEFT JOIN locations w ON w.id = c.ward_id
JOIN categories cat ON cat.id = c.category_id
LEFT JOIN departments dep ON dep.id = c.department_id
LEFT JOIN posts p ON p.id = c.post_id
LEFT JOIN users u ON u.id = p.holder_user_id
LEFT JOIN users sp ON sp.id = c.special_closure_proposed_by
`

// ScanRecord scans one row of SelectSQL.
func ScanRecord(row pgx.Row) (*Record, error) {
	r := &Record{}
	var status string
	err := row.Scan(&r.ID, &r.Docket, &r.Version, &status, &r.CitizenID, &r.CitizenName, &r.CitizenPhone, &r.CitizenLanguage,
		&r.DistrictID, &r.DistrictCode, &r.BlockID, &r.BlockCode, &r.WardID, &r.WardCode,
		&r.Locality, &r.Address, &r.CategoryID, &r.CategoryCode, &r.DepartmentID, &r.DepartmentCode,
		&r.PostID, &r.PostCode, &r.Officer, &r.Level, &r.SLADueAt,
		&r.Description, &r.Channel, &r.Helpline, &r.CreatedAt, &r.UpdatedAt, &r.ResolvedAt, &r.ClosedAt,
		&r.Closure, &r.ReopenCount, &r.FollowUpCount, &r.SpecialClosurePending,
		&r.OnHoldSince, &r.ActionTakenReport, &r.SpecialReason,
		&r.SpecialDuplicateOf, &r.SpecialNote,
		&r.SpecialProposerID, &r.SpecialProposer, &r.LinkedDockets,
		&r.FeedbackAttempts, &r.FeedbackFirstFailedAt,
		&r.EscalationCount, &r.FeedbackReached, &r.ResolvedOnTime, &r.Assignments, &r.AcksOnTime, &r.AckDueAt,
		&r.RegisteredBy, &r.SupervisorFlag, &r.StatusToken)
	r.Status = Status(status)
	return r, err
}

// CollectRecords scans every row of a SelectSQL query.
func CollectRecords(rows pgx.Rows) ([]*Record, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Record, error) { return ScanRecord(row) })
}

// Querier runs queries; a pgx.Tx or a pool.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// GetByDocket reads a complaint by canonical docket.
func GetByDocket(ctx context.Context, q Querier, docket string) (*Record, error) {
	return get(ctx, q, `WHERE c.docket = $1`, docket)
}

// LockByDocket reads a complaint by docket and locks its row until tx ends,
// which serializes every command on one complaint.
func LockByDocket(ctx context.Context, tx pgx.Tx, docket string) (*Record, error) {
	return lock(ctx, tx, `SELECT id FROM complaints WHERE docket = $1 FOR UPDATE`, `WHERE c.docket = $1`, docket)
}

// LockByID reads a complaint by id and locks its row until tx ends.
func LockByID(ctx context.Context, tx pgx.Tx, id int64) (*Record, error) {
	return lock(ctx, tx, `SELECT id FROM complaints WHERE id = $1 FOR UPDATE`, `WHERE c.id = $1`, id)
}

// LockByIDs locks the complaints of ids (in id order, so that concurrent
// callers cannot deadlock) and reads them, in one round trip; ids that do
// not exist are left out.
func LockByIDs(ctx context.Context, tx pgx.Tx, ids []int64) ([]*Record, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT id FROM complaints WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	b.Queue(SelectSQL+`WHERE c.id = ANY($1) ORDER BY c.id`, ids)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("lock complaints: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("read complaints: %w", err)
	}
	recs, err := CollectRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("read complaints: %w", err)
	}
	return recs, br.Close()
}

// lock takes the row lock first and reads the record in a second statement,
// both sent at once (one round trip): the second statement starts after the
// lock is held, with a fresh snapshot, so a lock that waited for another
// command sees the complaint as that command left it, joined rows (post,
// officer, category) included. Reading with FOR UPDATE OF c in one
// statement would recheck only the complaints row and join the rest as
// they were before the wait.
func lock(ctx context.Context, tx pgx.Tx, lockSQL, where string, arg any) (*Record, error) {
	b := &pgx.Batch{}
	b.Queue(lockSQL, arg)
	b.Queue(SelectSQL+where, arg)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	var id int64
	err := br.QueryRow().Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.NotFound("complaint %v not found", arg)
	}
	if err != nil {
		return nil, fmt.Errorf("lock complaint: %w", err)
	}
	r, err := ScanRecord(br.QueryRow())
	if err != nil {
		return nil, fmt.Errorf("read complaint: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("read complaint: %w", err)
	}
	return r, nil
}

func get(ctx context.Context, q Querier, where string, arg any) (*Record, error) {
	r, err := ScanRecord(q.QueryRow(ctx, SelectSQL+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.NotFound("complaint %v not found", arg)
	}
	if err != nil {
		return nil, fmt.Errorf("read complaint: %w", err)
	}
	return r, nil
}

// HistoryEntry is one row of the audit trail.
type HistoryEntry struct {
	Version        int64
	Action         string
	FromStatus     Status
	ToStatus       Status
	Actor          string
	ActorRole      string
	Note           string
	At             time.Time
	DepartmentCode string
	CategoryCode   string
	PostCode       string
	Level          int
	SLADueAt       *time.Time
}

// History reads a complaint's audit trail, oldest first.
func History(ctx context.Context, q Querier, complaintID int64) ([]HistoryEntry, error) {
	rows, err := q.Query(ctx, `
		SELECT version, action, coalesce(from_status, ''), to_status, actor, actor_role, note, at,
		       coalesce(department_code, ''), category_code, coalesce(post_code, ''), level, sla_due_at
		FROM complaint_history WHERE complaint_id = $1 ORDER BY version`, complaintID)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (HistoryEntry, error) {
		var h HistoryEntry
		var from, to string
		err := row.Scan(&h.Version, &h.Action, &from, &to, &h.Actor, &h.ActorRole, &h.Note, &h.At,
			&h.DepartmentCode, &h.CategoryCode, &h.PostCode, &h.Level, &h.SLADueAt)
		h.FromStatus, h.ToStatus = Status(from), Status(to)
		return h, err
	})
}
