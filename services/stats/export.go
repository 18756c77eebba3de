package stats

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/complaint"
)

// ExportComplaints streams the complaints registered in a period, oldest
// first, without personal data, within the caller's scope.
func (s *Service) ExportComplaints(req *helplinev1.ExportComplaintsRequest, stream helplinev1.StatsService_ExportComplaintsServer) error {
	ctx := stream.Context()
	dept, district, err := s.codeFilters(ctx, req.GetDepartmentCode(), req.GetDistrictCode())
	if err != nil {
		return err
	}
	from, to, _, err := s.period(req.GetFromDate(), req.GetToDate(), false)
	if err != nil {
		return err
	}
	var status complaint.Status
	if req.GetStatus() != helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNSPECIFIED {
		if _, ok := helplinev1.ComplaintStatus_name[int32(req.GetStatus())]; !ok {
			return apperr.Invalid("status", "unknown status")
		}
		status = complaint.StatusFromProto(req.GetStatus())
	}
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, clock.IST)
	end := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, clock.IST).AddDate(0, 0, 1)
	now := s.clock.Now()
	var afterID int64
	for {
		args := []any{start, end, afterID}
		arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
		where := []string{"c.created_at >= $1", "c.created_at < $2", "c.id > $3"}
		if dept != "" {
			where = append(where, "dep.code = "+arg(dept))
		}
		if district != "" {
			where = append(where, "d.code = "+arg(district))
		}
		if status != "" {
			where = append(where, "c.status = "+arg(string(status)))
		}
		if cond := complaint.ScopeSQL(ctx, arg); cond != "" {
			where = append(where, cond)
		}
		rows, err := s.pool.Query(ctx, complaint.SelectSQL+" WHERE "+strings.Join(where, " AND ")+" ORDER BY c.id LIMIT 1000", args...)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		recs, err := complaint.CollectRecords(rows)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for _, r := range recs {
			if err := stream.Send(exportRow(r, now)); err != nil {
				return err
			}
			afterID = r.ID
		}
		if len(recs) < 1000 {
			return nil
		}
	}
}

func exportRow(r *complaint.Record, now time.Time) *helplinev1.ExportComplaintsResponse {
	ts := func(t *time.Time) *timestamppb.Timestamp {
		if t == nil {
			return nil
		}
		return timestamppb.New(*t)
	}
	return &helplinev1.ExportComplaintsResponse{
		Docket: r.Docket, RegisteredAt: timestamppb.New(r.CreatedAt), Status: complaint.StatusProto(r.Status),
		DepartmentCode: r.DepartmentCode, DistrictCode: r.DistrictCode, CategoryCode: r.CategoryCode,
		Channel: complaint.ChannelProto(r.Channel), Helpline: r.Helpline, Post: r.PostCode, Officer: r.Officer,
		Level: int32(r.Level), SlaDueAt: ts(r.SLADueAt), Overdue: r.Overdue(now), ResolvedAt: ts(r.ResolvedAt),
		ClosedAt: ts(r.ClosedAt), Closure: complaint.ClosureProto(r.Closure), ReopenCount: int32(r.ReopenCount),
		EscalationCount: int32(r.EscalationCount), FollowUpCount: int32(r.FollowUpCount),
	}
}
