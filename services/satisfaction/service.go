// Package satisfaction is the SatisfactionService: the feedback call after
// resolution. A complaint closes when the citizen says they are satisfied,
// goes back up the chain when they are not, and closes as no-response when
// they cannot be reached in the configured attempts or days.
package satisfaction

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"

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

// Config is the no-response rule.
type Config struct {
	// MaxAttempts failed calls close a resolved complaint as no-response.
	MaxAttempts int
	// MaxDays after the first failed call close it too.
	MaxDays int
}

// DefaultConfig: three failed calls, or seven days after the first.
var DefaultConfig = Config{MaxAttempts: 3, MaxDays: 7}

// Service implements helplinev1.SatisfactionServiceServer.
type Service struct {
	helplinev1.UnimplementedSatisfactionServiceServer
	pool     *pgxpool.Pool
	clock    clock.Clock
	calendar calendar.Calendar
	log      *slog.Logger
	wake     func()
	cfg      Config
}

// New returns the satisfaction service; wake is called after every commit
// that wrote an event.
func New(pool *pgxpool.Pool, clk clock.Clock, cal calendar.Calendar, log *slog.Logger, wake func(), cfg Config) *Service {
	if wake == nil {
		wake = func() {}
	}
	if cfg.MaxAttempts < 1 {
		cfg.MaxAttempts = DefaultConfig.MaxAttempts
	}
	if cfg.MaxDays < 1 {
		cfg.MaxDays = DefaultConfig.MaxDays
	}
	return &Service{pool: pool, clock: clk, calendar: cal, log: log, wake: wake, cfg: cfg}
}

// ListPendingFeedback pages resolved complaints awaiting the call, oldest
// resolution first.
func (s *Service) ListPendingFeedback(ctx context.Context, req *helplinev1.ListPendingFeedbackRequest) (*helplinev1.ListPendingFeedbackResponse, error) {
	limit, err := page.Size(req.GetPageSize(), 50, 200)
	if err != nil {
		return nil, err
	}
	after, err := page.Parse(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	district, err := input.Code("district_code", req.GetDistrictCode(), false)
	if err != nil {
		return nil, err
	}
	if err := complaint.CheckFilterCode(ctx, s.pool, "district_code", complaint.DistrictCode, district); err != nil {
		return nil, err
	}
	var afterAt *time.Time
	var afterID int64
	if after != nil {
		afterAt, afterID = &after.At, after.ID
	}
	rows, err := s.pool.Query(ctx, complaint.SelectSQL+`
		JOIN feedback_queue q ON q.complaint_id = c.id
		WHERE c.status = 'RESOLVED' AND ($1 = '' OR d.code = $1)
		  AND ($2::timestamptz IS NULL OR (q.resolved_at, c.id) > ($2, $3))
		ORDER BY q.resolved_at, c.id LIMIT $4`, district, afterAt, afterID, limit+1)
	if err != nil {
		return nil, fmt.Errorf("list pending feedback: %w", err)
	}
	recs, err := complaint.CollectRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("list pending feedback: %w", err)
	}
	resp := &helplinev1.ListPendingFeedbackResponse{}
	if len(recs) > limit {
		recs = recs[:limit]
		var at time.Time
		if err := s.pool.QueryRow(ctx, `SELECT resolved_at FROM feedback_queue WHERE complaint_id = $1`, recs[limit-1].ID).Scan(&at); err != nil {
			return nil, fmt.Errorf("page token: %w", err)
		}
		resp.NextPageToken = page.Cursor{At: at, ID: recs[limit-1].ID}.Token()
	}
	v := complaint.ViewFor(ctx, s.clock.Now())
	for _, r := range recs {
		item := &helplinev1.PendingFeedback{Complaint: complaint.ToProto(r, nil, v), Attempts: int32(r.FeedbackAttempts)}
		if r.FeedbackFirstFailedAt != nil {
			item.FirstFailedAt = timestamppb.New(*r.FeedbackFirstFailedAt)
		}
		resp.Items = append(resp.Items, item)
	}
	return resp, nil
}

// RecordFeedback records a feedback call and applies its outcome.
func (s *Service) RecordFeedback(ctx context.Context, req *helplinev1.RecordFeedbackRequest) (*helplinev1.RecordFeedbackResponse, error) {
	d, err := complaint.ParseDocket("docket", req.GetDocket())
	if err != nil {
		return nil, err
	}
	comment, err := input.LongText("comment", req.GetComment(), 4000, false)
	if err != nil {
		return nil, err
	}
	if req.GetExpectedVersion() < 0 {
		return nil, apperr.Invalid("expected_version", "must not be negative")
	}
	var action complaint.Action
	outcome := ""
	switch req.GetOutcome() {
	case helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_REACHED:
		outcome = "REACHED"
		if r := req.GetRating(); r < 0 || r > 5 {
			return nil, apperr.Invalid("rating", "must be 1 to 5 (0: not given)")
		}
		action = complaint.FeedbackNotSatisfied
		if req.GetSatisfied() {
			action = complaint.FeedbackSatisfied
		}
	case helplinev1.FeedbackOutcome_FEEDBACK_OUTCOME_NOT_REACHABLE:
		outcome, action = "NOT_REACHABLE", complaint.FeedbackUnreachable
		if req.GetSatisfied() {
			return nil, apperr.Invalid("satisfied", "a citizen who was not reached cannot be satisfied")
		}
		if req.GetRating() != 0 {
			return nil, apperr.Invalid("rating", "a citizen who was not reached gives no rating")
		}
	default:
		return nil, apperr.Invalid("outcome", "must be FEEDBACK_OUTCOME_REACHED or FEEDBACK_OUTCOME_NOT_REACHABLE")
	}
	now := s.clock.Now()
	var rec *complaint.Record
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if rec, err = complaint.LockByDocket(ctx, tx, d); err != nil {
			return err
		}
		if err := complaint.CheckVisible(ctx, rec); err != nil {
			return err
		}
		level := rec.Level
		mutate, why, err := s.outcome(ctx, tx, rec, action, now)
		if err != nil {
			return err
		}
		note := feedbackNote(outcome, req.GetSatisfied(), req.GetRating(), comment)
		if why != "" {
			note += "\n" + why
		}
		if err := complaint.Apply(ctx, tx, rec, complaint.Change{Action: action, Note: note, ExpectedVersion: req.GetExpectedVersion(), Mutate: mutate}, now); err != nil {
			return err
		}
		var satisfied *bool
		var rating *int32
		if outcome == "REACHED" {
			v := req.GetSatisfied()
			satisfied = &v
			if req.GetRating() > 0 {
				r := req.GetRating()
				rating = &r
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO feedback (complaint_id, outcome, satisfied, rating, comment, agent, level, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			rec.ID, outcome, satisfied, rating, comment, caller.From(ctx).Username, level, now)
		if err != nil {
			return fmt.Errorf("record feedback: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return &helplinev1.RecordFeedbackResponse{Complaint: complaint.ToProto(rec, nil, complaint.ViewFor(ctx, now))}, nil
}

func feedbackNote(outcome string, satisfied bool, rating int32, comment string) string {
	n := "not reachable"
	if outcome == "REACHED" {
		n = "reached, not satisfied"
		if satisfied {
			n = "reached, satisfied"
		}
		if rating > 0 {
			n += fmt.Sprintf(", rating %d/5", rating)
		}
	}
	if comment != "" {
		n += ": " + comment
	}
	return n
}

// outcome returns the mutation of a feedback action on rec, and what the
// history note adds about where a reopened complaint went.
func (s *Service) outcome(ctx context.Context, tx pgx.Tx, rec *complaint.Record, action complaint.Action, now time.Time) (func(*complaint.Record) error, string, error) {
	switch action {
	case complaint.FeedbackSatisfied:
		return func(r *complaint.Record) error {
			r.ClosedAt, r.Closure = &now, "SATISFIED"
			r.FeedbackReached++
			return nil
		}, "", nil
	case complaint.FeedbackUnreachable:
		return func(r *complaint.Record) error {
			r.FeedbackAttempts++
			if r.FeedbackFirstFailedAt == nil {
				r.FeedbackFirstFailedAt = &now
			}
			return nil
		}, "", nil
	}
	// Not satisfied: back to the department one level up (L4 stays L4), with
	// a fresh deadline; where that level has no post or no holder, the next
	// level up with a held post; where there is none, the same level,
	// flagged for the supervisor.
	if rec.Status != complaint.Resolved || rec.DepartmentID == nil {
		return nil, "", nil // Apply refuses it
	}
	var post *complaint.Post
	var why, flag string
	if rec.Level < 4 {
		climb, err := complaint.ClimbFrom(ctx, tx, *rec.DepartmentID, rec.Level, rec.DistrictID)
		if err != nil {
			return nil, "", err
		}
		post, why = climb.Post, climb.Why()
		if post == nil {
			flag = fmt.Sprintf("reopened at L%d: no level above has a held post (%s)", rec.Level, strings.Join(climb.PassedOver, "; "))
			why = "no level above has a held post: " + why + "; it stays at L" + strconv.Itoa(rec.Level) + ", flagged for the supervisor"
		}
	}
	if post == nil {
		p, err := complaint.PostFor(ctx, tx, *rec.DepartmentID, rec.Level, rec.DistrictID)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, "", apperr.Precondition("the department has no post to reopen complaint %s at", rec.Docket)
		}
		if err != nil {
			return nil, "", err
		}
		post = p
	}
	due, err := complaint.Deadline(ctx, tx, s.calendar, rec.CategoryID, post.Level, now)
	if err != nil {
		return nil, "", err
	}
	ackDue, err := complaint.AckDue(ctx, tx, s.calendar, now)
	if err != nil {
		return nil, "", err
	}
	assign := complaint.AssignTo(post, due, ackDue)
	if flag == "" && post.Holder == "" {
		why = strings.TrimPrefix(why+"; "+complaint.NoHolderFlag(post)+": flagged for the supervisor", "; ")
	}
	return func(r *complaint.Record) error {
		r.ReopenCount++
		r.FeedbackReached++
		r.ResolvedAt, r.ResolvedOnTime = nil, nil
		r.FeedbackAttempts, r.FeedbackFirstFailedAt = 0, nil
		if err := assign(r); err != nil {
			return err
		}
		if flag != "" {
			r.SupervisorFlag = flag
		}
		return nil
	}, why, nil
}
