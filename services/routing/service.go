// Package routing is the RoutingService: the master data that decides where
// complaints go, the consumer that routes every registered complaint to its
// department's L1 post, and the unrouted queue supervisors work.
package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/calendar"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/input"
	"github.com/helpline/helpline/internal/page"
	"github.com/helpline/helpline/internal/password"
)

// Service implements helplinev1.RoutingServiceServer.
type Service struct {
	helplinev1.UnimplementedRoutingServiceServer
	store    *store
	clock    clock.Clock
	calendar calendar.Calendar
	log      *slog.Logger
	wake     func()
	// Hasher hashes the initial passwords of officers an import creates;
	// set it before serving.
	Hasher *password.Hasher
}

// New returns the routing service; wake is called after every commit that
// wrote an event.
func New(pool *pgxpool.Pool, clk clock.Clock, cal calendar.Calendar, log *slog.Logger, wake func()) *Service {
	if wake == nil {
		wake = func() {}
	}
	return &Service{store: &store{pool: pool}, clock: clk, calendar: cal, log: log, wake: wake}
}

func (s *Service) view(ctx context.Context) complaint.View {
	return complaint.ViewFor(ctx, s.clock.Now())
}

// ListUnrouted lists complaints no rule could route, oldest first.
func (s *Service) ListUnrouted(ctx context.Context, req *helplinev1.ListUnroutedRequest) (*helplinev1.ListUnroutedResponse, error) {
	limit, err := page.Size(req.GetPageSize(), 50, 500)
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
	var districtID *int64
	if district != "" {
		n, err := complaint.ResolvePlace(ctx, s.store.pool, "", district, "", "")
		if err != nil {
			return nil, err
		}
		districtID = n.DistrictID
	}
	var afterAt *time.Time
	var afterID int64
	if after != nil {
		afterAt, afterID = &after.At, after.ID
	}
	recs, err := s.store.listUnrouted(ctx, districtID, afterAt, afterID, limit+1)
	if err != nil {
		return nil, err
	}
	resp := &helplinev1.ListUnroutedResponse{}
	if len(recs) > limit {
		recs = recs[:limit]
		last := recs[limit-1]
		resp.NextPageToken = page.Cursor{At: last.CreatedAt, ID: last.ID}.Token()
	}
	v := s.view(ctx)
	for _, r := range recs {
		resp.Complaints = append(resp.Complaints, complaint.ToProto(r, nil, v))
	}
	return resp, nil
}

// AssignComplaint assigns an unrouted complaint to an L1 post of its
// district, optionally changing its category, with a fresh L1 deadline.
func (s *Service) AssignComplaint(ctx context.Context, req *helplinev1.AssignComplaintRequest) (*helplinev1.AssignComplaintResponse, error) {
	d, err := complaint.ParseDocket("docket", req.GetDocket())
	if err != nil {
		return nil, err
	}
	postCode, err := input.Code("post", req.GetPost(), false)
	if err != nil {
		return nil, err
	}
	category, err := input.Code("category_code", req.GetCategoryCode(), false)
	if err != nil {
		return nil, err
	}
	note, err := input.LongText("note", req.GetNote(), 4000, false)
	if err != nil {
		return nil, err
	}
	if req.GetExpectedVersion() < 0 {
		return nil, apperr.Invalid("expected_version", "must not be negative")
	}
	var categoryID int64
	if category != "" {
		if categoryID, err = idOf(ctx, s.store.pool, "categories", "category_code", category); err != nil {
			return nil, err
		}
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
		if categoryID == 0 {
			categoryID = rec.CategoryID
		}
		post, err := s.assignablePost(ctx, tx, rec, postCode, categoryID)
		if err != nil {
			return err
		}
		due, err := complaint.Deadline(ctx, tx, s.calendar, categoryID, 1, now)
		if err != nil {
			return err
		}
		ackDue, err := complaint.AckDue(ctx, tx, s.calendar, now)
		if err != nil {
			return err
		}
		assign := complaint.AssignTo(post, due, ackDue)
		return complaint.Apply(ctx, tx, rec, complaint.Change{
			Action: complaint.Assign, Note: note, ExpectedVersion: req.GetExpectedVersion(),
			Mutate: func(r *complaint.Record) error {
				if category != "" {
					r.CategoryID, r.CategoryCode = categoryID, category
				}
				return assign(r)
			},
		}, now)
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return &helplinev1.AssignComplaintResponse{Complaint: complaint.ToProto(rec, nil, s.view(ctx))}, nil
}

// assignablePost finds the post an unrouted complaint goes to: the one
// named (an L1 post of its district), or the L1 post of the department the
// routing rules or the category give.
func (s *Service) assignablePost(ctx context.Context, tx pgx.Tx, rec *complaint.Record, code string, categoryID int64) (*complaint.Post, error) {
	if code != "" {
		p, err := complaint.PostByCode(ctx, tx, code)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, apperr.Invalid("post", fmt.Sprintf("unknown post %q", code))
		}
		if err != nil {
			return nil, err
		}
		if p.Level != 1 || p.DistrictID == nil || *p.DistrictID != rec.DistrictID {
			return nil, apperr.Invalid("post", fmt.Sprintf("post %s is not a level 1 post of district %s", code, rec.DistrictCode))
		}
		return p, nil
	}
	dept, err := complaint.DepartmentFor(ctx, tx, categoryID, rec)
	if errors.Is(err, apperr.ErrNotFound) {
		err = tx.QueryRow(ctx, `SELECT department_id FROM categories WHERE id = $1`, categoryID).Scan(&dept)
	}
	if err != nil {
		return nil, err
	}
	p, err := complaint.PostFor(ctx, tx, dept, 1, rec.DistrictID)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, apperr.Precondition("the department has no level 1 post in %s: name a post", rec.DistrictCode)
	}
	return p, err
}
