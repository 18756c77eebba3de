package apperr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestErrorsGetTheirCodeAndHideDetails(t *testing.T) {
	cases := []struct {
		err        error
		code       codes.Code
		unexpected bool
		hidden     string
	}{
		{Invalid("citizen.phone", "is not a valid phone number"), codes.InvalidArgument, false, ""},
		{NotFound("complaint %s not found", "26-0000001-8"), codes.NotFound, false, ""},
		{Precondition("cannot resolve"), codes.FailedPrecondition, false, ""},
		{fmt.Errorf("key taken: %w", ErrAlreadyExists), codes.AlreadyExists, false, ""},
		{fmt.Errorf("select: %w", &pgconn.PgError{Code: "42P01", Message: `relation "complaints" does not exist`}), codes.Internal, true, "relation"},
		{fmt.Errorf("insert: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}), codes.Unavailable, true, "terminating"},
		{errors.New("SELECT * FROM users boom"), codes.Internal, true, "SELECT"},
	}
	for _, tc := range cases {
		st, unexpected := ToStatus(tc.err)
		if st.Code() != tc.code || unexpected != tc.unexpected {
			t.Errorf("%v: %s (unexpected %v), want %s (%v)", tc.err, st.Code(), unexpected, tc.code, tc.unexpected)
		}
		if tc.hidden != "" && strings.Contains(st.Message(), tc.hidden) {
			t.Errorf("%v: the caller sees %q", tc.err, st.Message())
		}
	}
}

func TestPanicBecomesInternalAndIsLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	_, err := UnaryInterceptor(log)(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/x/Y"},
		func(context.Context, any) (any, error) { panic("nil map write") })
	if status.Code(err) != codes.Internal || strings.Contains(err.Error(), "nil map") {
		t.Fatalf("panic answered %v", err)
	}
	if !strings.Contains(buf.String(), "nil map write") || !strings.Contains(buf.String(), "stack") {
		t.Fatalf("panic not logged: %s", buf.String())
	}
}
