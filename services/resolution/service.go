// Package resolution is the ResolutionService: department officers work the
// queue of the posts they hold, most urgent SLA deadline first.
package resolution

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/input"
	"github.com/helpline/helpline/internal/page"
)

// Service implements helplinev1.ResolutionServiceServer.
type Service struct {
	helplinev1.UnimplementedResolutionServiceServer
	pool     *pgxpool.Pool
	clock    clock.Clock
	calendar calendar.Calendar
	log      *slog.Logger
	wake     func()
}

// New returns the resolution service; wake is called after every commit
// that wrote an event.
func New(pool *pgxpool.Pool, clk clock.Clock, cal calendar.Calendar, log *slog.Logger, wake func()) *Service {
	if wake == nil {
		wake = func() {}
	}
	return &Service{pool: pool, clock: clk, calendar: cal, log: log, wake: wake}
}

// ListAssignedComplaints pages the complaints at the caller's posts, most
// urgent deadline first; ties keep the order of ids, so pages are stable.
func (s *Service) ListAssignedComplaints(ctx context.Context, req *helplinev1.ListAssignedComplaintsRequest) (*helplinev1.ListAssignedComplaintsResponse, error) {
	c := caller.From(ctx)
	limit, err := page.Size(req.GetPageSize(), 50, 200)
	if err != nil {
		return nil, err
	}
	after, err := page.Parse(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	postCode, err := input.Code("post", req.GetPost(), false)
	if err != nil {
		return nil, err
	}
	var posts []int64
	for _, p := range c.Posts {
		if postCode == "" || p.Code == postCode {
			posts = append(posts, p.ID)
		}
	}
	if postCode != "" && len(posts) == 0 {
		return nil, apperr.Invalid("post", fmt.Sprintf("you do not hold post %q", postCode))
	}
	var status complaint.Status
	if req.GetStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNSPECIFIED {
		status = complaint.StatusFromProto(req.GetStatus())
		if !slices.Contains(complaint.AllStatuses, status) {
			return nil, apperr.Invalid("status", "unknown status")
		}
	}
	now := s.clock.Now()
	args := []any{posts}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"c.post_id = ANY($1)"}
	if status != "" {
		where = append(where, "c.status = "+arg(string(status)))
	} else {
		where = append(where, "c.status NOT IN ('RESOLVED', 'CLOSED')")
	}
	if req.GetOverdueOnly() {
		where = append(where, "c.status IN ('ASSIGNED', 'IN_PROGRESS', 'REOPENED') AND c.sla_due_at < "+arg(now))
	}
	if after != nil {
		where = append(where, fmt.Sprintf("(c.sla_due_at, c.id) > (%s, %s)", arg(after.At), arg(after.ID)))
	}
	// Pick the page's ids from the queue index first (an array computed
	// once), then join what a complaint shows for those alone. Written as
	// "IN (subquery)" with a LIMIT parameter, PostgreSQL's generic plan (used
	// after five calls) hash-joined every complaint: 8 s at a million.
	q := complaint.SelectSQL + " WHERE c.id = ANY(ARRAY(SELECT c.id FROM complaints c WHERE " + strings.Join(where, " AND ") +
		" ORDER BY c.sla_due_at, c.id LIMIT " + strconv.Itoa(limit+1) + ")) ORDER BY c.sla_due_at, c.id"
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	recs, err := complaint.CollectRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	resp := &helplinev1.ListAssignedComplaintsResponse{}
	if len(recs) > limit {
		recs = recs[:limit]
		last := recs[limit-1]
		at := time.Time{}
		if last.SLADueAt != nil {
			at = *last.SLADueAt
		}
		resp.NextPageToken = page.Cursor{At: at, ID: last.ID}.Token()
	}
	v := complaint.ViewFor(ctx, now)
	for _, r := range recs {
		resp.Complaints = append(resp.Complaints, complaint.ToProto(r, nil, v))
	}
	return resp, nil
}
