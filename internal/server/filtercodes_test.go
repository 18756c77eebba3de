package server_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/testenv"
)

// TestUnknownCodesInFiltersAreRefused (issue 17, point 8): a filter naming
// a well-formed code that does not exist is INVALID_ARGUMENT naming the
// field, never an empty list; the same filter with a code that exists
// answers. The table is written out here, independently of the handlers.
func TestUnknownCodesInFiltersAreRefused(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	stats := helplinev1.NewStatsServiceClient(env.Conn)
	sat := helplinev1.NewSatisfactionServiceClient(env.Conn)
	admin, agent, sup := env.Admin, env.Agent, env.As("supervisor")
	export := func(ctx context.Context, req *helplinev1.ExportComplaintsRequest) error {
		st, err := stats.ExportComplaints(ctx, req)
		if err != nil {
			return err
		}
		for {
			if _, err := st.Recv(); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	}
	const period = "2026-11-01"
	cases := []struct {
		rpc, field string
		call       func(code string) error
		good       string
	}{
		{"GetResolutionStats", "department_code", func(code string) error {
			_, err := stats.GetResolutionStats(admin, &helplinev1.GetResolutionStatsRequest{GroupBy: helplinev1.StatsGrouping_STATS_GROUPING_DEPARTMENT,
				DepartmentCode: code, FromDate: period, ToDate: period})
			return err
		}, "PWD"},
		{"GetResolutionStats", "district_code", func(code string) error {
			_, err := stats.GetResolutionStats(admin, &helplinev1.GetResolutionStatsRequest{GroupBy: helplinev1.StatsGrouping_STATS_GROUPING_DISTRICT,
				DistrictCode: code, FromDate: period, ToDate: period})
			return err
		}, "SHIMLA"},
		{"GetPendencyAging", "department_code", func(code string) error {
			_, err := stats.GetPendencyAging(admin, &helplinev1.GetPendencyAgingRequest{GroupBy: helplinev1.StatsGrouping_STATS_GROUPING_DEPARTMENT, DepartmentCode: code})
			return err
		}, "PWD"},
		{"GetPendencyAging", "district_code", func(code string) error {
			_, err := stats.GetPendencyAging(admin, &helplinev1.GetPendencyAgingRequest{GroupBy: helplinev1.StatsGrouping_STATS_GROUPING_DISTRICT, DistrictCode: code})
			return err
		}, "SHIMLA"},
		{"ExportComplaints", "department_code", func(code string) error {
			return export(admin, &helplinev1.ExportComplaintsRequest{DepartmentCode: code, FromDate: period, ToDate: period})
		}, "PWD"},
		{"ExportComplaints", "district_code", func(code string) error {
			return export(admin, &helplinev1.ExportComplaintsRequest{DistrictCode: code, FromDate: period, ToDate: period})
		}, "SHIMLA"},
		{"SearchComplaints", "category_code", func(code string) error {
			_, err := env.Intake.SearchComplaints(agent, &helplinev1.SearchComplaintsRequest{Phone: "94180 55555", CategoryCode: code})
			return err
		}, "PWD_ROAD_POTHOLES"},
		{"SearchComplaints (supervisor's queue)", "category_code", func(code string) error {
			_, err := env.Intake.SearchComplaints(sup, &helplinev1.SearchComplaintsRequest{SpecialClosurePending: true, CategoryCode: code})
			return err
		}, "PWD_ROAD_POTHOLES"},
		{"ListPendingFeedback", "district_code", func(code string) error {
			_, err := sat.ListPendingFeedback(agent, &helplinev1.ListPendingFeedbackRequest{DistrictCode: code})
			return err
		}, "SHIMLA"},
		{"ListCategories", "department_code", func(code string) error {
			_, err := env.Routing.ListCategories(admin, &helplinev1.ListCategoriesRequest{DepartmentCode: code})
			return err
		}, "PWD"},
		{"ListPosts", "department_code", func(code string) error {
			_, err := env.Routing.ListPosts(admin, &helplinev1.ListPostsRequest{DepartmentCode: code})
			return err
		}, "PWD"},
		{"ListPosts", "district_code", func(code string) error {
			_, err := env.Routing.ListPosts(admin, &helplinev1.ListPostsRequest{DistrictCode: code})
			return err
		}, "SHIMLA"},
		{"ListRoutingRules", "category_code", func(code string) error {
			_, err := env.Routing.ListRoutingRules(admin, &helplinev1.ListRoutingRulesRequest{CategoryCode: code})
			return err
		}, "PWD_ROAD_POTHOLES"},
	}
	for _, c := range cases {
		t.Run(c.rpc+"/"+c.field, func(t *testing.T) {
			if err := c.call(c.good); err != nil {
				t.Fatalf("with the existing code %s: %v", c.good, err)
			}
			// A block code is no district; a department code is no category.
			for _, unknown := range []string{"NOWHERE", "THEOG", "PWD_ROAD_POTHOLE"} {
				err := c.call(unknown)
				st, _ := status.FromError(err)
				if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), c.field) {
					t.Errorf("%s %s=%s: %v; want INVALID_ARGUMENT naming %s", c.rpc, c.field, unknown, err, c.field)
					continue
				}
				named := false
				for _, d := range st.Details() {
					if br, ok := d.(*errdetails.BadRequest); ok {
						for _, v := range br.GetFieldViolations() {
							named = named || v.GetField() == c.field
						}
					}
				}
				if !named {
					t.Errorf("%s %s=%s: no BadRequest field violation for %s", c.rpc, c.field, unknown, c.field)
				}
			}
		})
	}
}
