// Package apperr holds the domain errors and the one place where errors get
// their gRPC code. Handlers return plain errors; the interceptor maps them,
// logs the unexpected ones and never shows SQL or stack traces to callers.
package apperr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/helpline/helpline/internal/input"
)

// Sentinel domain errors; wrap them with fmt.Errorf("...: %w", ErrX) to add a message.
var (
	ErrNotFound           = errors.New("not found")
	ErrFailedPrecondition = errors.New("failed precondition")
	ErrAlreadyExists      = errors.New("already exists")
	ErrPermissionDenied   = errors.New("permission denied")
	ErrUnauthenticated    = errors.New("unauthenticated")
)

// Invalid returns an INVALID_ARGUMENT error naming field.
func Invalid(field, reason string) error {
	return &input.FieldError{Field: field, Reason: reason}
}

// WrongSecret returns an UNAUTHENTICATED error for a secret the caller
// gave in field (such as the current password) that does not match; like
// Invalid's, its google.rpc.BadRequest detail names the field, so that a
// client tells it from a token that no longer works.
func WrongSecret(field, reason string) error {
	st := status.New(codes.Unauthenticated, field+": "+reason)
	if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: reason}}}); err == nil {
		st = d
	}
	return st.Err()
}

// NotFound returns an ErrNotFound with a message for the caller.
func NotFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrNotFound)
}

// Precondition returns an ErrFailedPrecondition with a message for the caller.
func Precondition(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrFailedPrecondition)
}

// ToStatus maps err to a gRPC status. The second result is true when err was
// unexpected and its details must be logged rather than shown.
func ToStatus(err error) (*status.Status, bool) {
	if err == nil {
		return nil, false
	}
	if s, ok := status.FromError(err); ok {
		return s, false
	}
	var fe *input.FieldError
	switch {
	case errors.As(err, &fe):
		st := status.New(codes.InvalidArgument, fe.Error())
		if d, derr := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: fe.Field, Description: fe.Reason}}}); derr == nil {
			st = d
		}
		return st, false
	case errors.Is(err, ErrNotFound), errors.Is(err, pgx.ErrNoRows):
		return status.New(codes.NotFound, message(err, ErrNotFound)), false
	case errors.Is(err, ErrFailedPrecondition):
		return status.New(codes.FailedPrecondition, message(err, ErrFailedPrecondition)), false
	case errors.Is(err, ErrAlreadyExists):
		return status.New(codes.AlreadyExists, message(err, ErrAlreadyExists)), false
	case errors.Is(err, ErrPermissionDenied):
		return status.New(codes.PermissionDenied, message(err, ErrPermissionDenied)), false
	case errors.Is(err, ErrUnauthenticated):
		return status.New(codes.Unauthenticated, message(err, ErrUnauthenticated)), false
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, "canceled"), false
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, "deadline exceeded"), false
	case unavailable(err):
		return status.New(codes.Unavailable, "the database is unavailable; retry with the same idempotency key"), true
	}
	return status.New(codes.Internal, "internal error"), true
}

// message strips the sentinel's own text from the end of err's message.
func message(err, sentinel error) string {
	m := err.Error()
	suffix := ": " + sentinel.Error()
	if len(m) > len(suffix) && m[len(m)-len(suffix):] == suffix {
		return m[:len(m)-len(suffix)]
	}
	return m
}

// unavailable reports whether err means PostgreSQL cannot be reached now.
func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "57": // connection exception, operator intervention (shutdown)
			return true
		}
		return pgErr.Code == "53300" // too many connections
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var connErr *pgconn.ConnectError
	return errors.As(err, &connErr) || pgconn.SafeToRetry(err)
}

// UnaryInterceptor maps handler errors to gRPC statuses, logs unexpected
// ones, and turns a panic into INTERNAL (logged with its stack).
func UnaryInterceptor(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "rpc panicked", "method", info.FullMethod, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				resp, err = nil, status.Error(codes.Internal, "internal error")
			}
		}()
		resp, err = handler(ctx, req)
		if err != nil {
			return nil, convert(ctx, log, info.FullMethod, err)
		}
		return resp, nil
	}
}

// StreamInterceptor maps stream handler errors to gRPC statuses and turns
// a panic into INTERNAL.
func StreamInterceptor(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ss.Context(), "rpc panicked", "method", info.FullMethod, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		if err := handler(srv, ss); err != nil {
			return convert(ss.Context(), log, info.FullMethod, err)
		}
		return nil
	}
}

func convert(ctx context.Context, log *slog.Logger, method string, err error) error {
	st, unexpected := ToStatus(err)
	if unexpected {
		log.ErrorContext(ctx, "rpc failed", "method", method, "code", st.Code().String(), "err", err)
	}
	return st.Err()
}
