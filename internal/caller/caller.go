// Package caller carries the authenticated caller of an RPC in its context,
// so that every history entry and event takes its actor from there.
package caller

import (
	"context"

	"google.golang.org/grpc"
)

// Role is what a caller may do.
type Role string

// Roles of DESIGN.md, plus System for background jobs and Anonymous for
// calls that carry no identity.
const (
	Agent      Role = "AGENT"
	Officer    Role = "OFFICER"
	Supervisor Role = "SUPERVISOR"
	Admin      Role = "ADMIN"
	System     Role = "SYSTEM"
	Anonymous  Role = "ANONYMOUS"
)

// Scope is what a token may call, within what its user's role allows
// (internal/auth's Scopes table says which RPCs each limited scope allows).
type Scope string

// Token scopes (column tokens.scope).
const (
	// FullScope allows whatever the user's role allows.
	FullScope Scope = "FULL"
	// PasswordChangeScope is the token of a login with a one-time
	// password: it allows only ChangePassword.
	PasswordChangeScope Scope = "PASSWORD_CHANGE"
	// Open311Scope is an Open311 application's api_key: it allows only
	// the RPCs the Open311 adapter makes, and only through it.
	Open311Scope Scope = "OPEN311"
)

// Caller is who is calling.
type Caller struct {
	UserID   int64
	Username string
	Role     Role
	// TokenID is the id of the token the call carried.
	TokenID int64
	// Scope is the token's scope.
	Scope Scope
	// Posts are the posts an officer holds.
	Posts []Post
}

// Post is a post held by an officer: it scopes what the officer sees.
type Post struct {
	ID           int64
	Code         string
	DepartmentID int64
	// DistrictID is 0 for a state post (levels 3 and 4).
	DistrictID int64
}

// Sees reports whether the caller may see a complaint of a department
// (nil: not yet routed) in a district. Officers see only their posts'
// department and jurisdiction; other roles see every complaint.
func (c Caller) Sees(departmentID *int64, districtID int64) bool {
	if c.Role != Officer {
		return c.Role != Anonymous
	}
	if departmentID == nil {
		return false
	}
	for _, p := range c.Posts {
		if p.DepartmentID == *departmentID && (p.DistrictID == 0 || p.DistrictID == districtID) {
			return true
		}
	}
	return false
}

// MasksPhones reports whether citizens' phone numbers are masked for the caller.
func (c Caller) MasksPhones() bool { return c.Role == Officer || c.Role == Supervisor }

// anonymous is the caller of a request without identity.
var anonymous = Caller{Username: "anonymous", Role: Anonymous}

// SystemCaller is the actor of background jobs and consumers.
var SystemCaller = Caller{Username: "system", Role: System}

type ctxKey struct{}

// With returns a context carrying c.
func With(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// From returns the caller in ctx, or the anonymous caller.
func From(ctx context.Context) Caller {
	if c, ok := ctx.Value(ctxKey{}).(Caller); ok {
		return c
	}
	return anonymous
}

// Resolver finds the caller of an incoming RPC; it returns an error with a
// gRPC status when the call must be refused.
type Resolver func(ctx context.Context, fullMethod string) (Caller, error)

// AnonymousResolver lets every call through as the anonymous caller.
func AnonymousResolver(context.Context, string) (Caller, error) { return anonymous, nil }

// UnaryInterceptor puts the caller found by resolve into the context.
func UnaryInterceptor(resolve Resolver) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		c, err := resolve(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(With(ctx, c), req)
	}
}

// StreamInterceptor puts the caller found by resolve into the stream's context.
func StreamInterceptor(resolve Resolver) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		c, err := resolve(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &stream{ServerStream: ss, ctx: With(ss.Context(), c)})
	}
}

type stream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *stream) Context() context.Context { return s.ctx }
