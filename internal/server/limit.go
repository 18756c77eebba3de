package server

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/helpline/helpline/internal/caller"
)

// limiter bounds the RPCs in flight, so that a slow PostgreSQL or NATS
// makes callers wait at most briefly and then shed load, instead of piling
// up goroutines and memory. Unary calls, server streams and probe streams
// (health Watch, reflection) have budgets of their own, so that streams
// held open, by a careless or hostile client, never take a unary call's
// place.
type limiter struct {
	slots   chan struct{} // unary calls
	streams chan struct{} // server streams other than probes
	probes  chan struct{} // health Watch and reflection streams
	// refused is when a unary call was last refused (Unix nanoseconds).
	refused atomic.Int64

	mu      sync.Mutex
	exports map[int64]int // exports in flight by user id
}

// maxProbeStreams bounds the health Watch and reflection streams of a
// process: a monitor needs a few, more are refused RESOURCE_EXHAUSTED.
const maxProbeStreams = 64

// maxExportsPerUser bounds the concurrent ExportComplaints streams of a user.
const maxExportsPerUser = 2

func newLimiter(n int) *limiter {
	if n <= 0 {
		n = 512
	}
	return &limiter{slots: make(chan struct{}, n), streams: make(chan struct{}, n),
		probes: make(chan struct{}, maxProbeStreams), exports: map[int64]int{}}
}

// busyFor is how long after refusing a call the server reports itself not ready.
const busyFor = time.Second

// busy reports whether the server refused a unary call for lack of budget
// within the last busyFor.
func (l *limiter) busy() bool {
	return time.Since(time.Unix(0, l.refused.Load())) < busyFor
}

// maxQueueWait is the longest a call waits for a slot: a call the server
// cannot take is refused at once, so that a client under a burst learns
// it within milliseconds and can retry, rather than after its deadline.
const maxQueueWait = 10 * time.Millisecond

func (l *limiter) acquire(ctx context.Context) error {
	err := acquire(ctx, l.slots)
	if status.Code(err) == codes.ResourceExhausted {
		l.refused.Store(time.Now().UnixNano())
	}
	return err
}

// acquire takes a slot of slots, waiting at most maxQueueWait.
func acquire(ctx context.Context, slots chan struct{}) error {
	select {
	case slots <- struct{}{}:
		return nil
	default:
	}
	wait := maxQueueWait
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		wait = time.Until(d)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case slots <- struct{}{}:
		return nil
	case <-t.C:
		return status.Error(codes.ResourceExhausted, "the server is busy: retry shortly with the same idempotency key")
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

func (l *limiter) release() { <-l.slots }

func (l *limiter) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	defer l.release()
	return handler(ctx, req)
}

// probe reports whether method is a health or reflection RPC.
func probe(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/") || strings.HasPrefix(method, "/grpc.reflection.")
}

func (l *limiter) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	slots := l.streams
	if probe(info.FullMethod) {
		select {
		case l.probes <- struct{}{}:
		default:
			return status.Error(codes.ResourceExhausted, "too many health and reflection streams: retry later")
		}
		defer func() { <-l.probes }()
		return handler(srv, ss)
	}
	if err := acquire(ss.Context(), slots); err != nil {
		return err
	}
	defer func() { <-slots }()
	return handler(srv, ss)
}

// exportMethod is the stream limited per user.
const exportMethod = "/helpline.v1.StatsService/ExportComplaints"

// perUser refuses a user's export beyond maxExportsPerUser in flight. It
// goes after authentication.
func (l *limiter) perUser(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if info.FullMethod != exportMethod {
		return handler(srv, ss)
	}
	user := caller.From(ss.Context()).UserID
	l.mu.Lock()
	if l.exports[user] >= maxExportsPerUser {
		l.mu.Unlock()
		return status.Errorf(codes.ResourceExhausted, "at most %d exports at once per user: wait for one to finish", maxExportsPerUser)
	}
	l.exports[user]++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		if l.exports[user]--; l.exports[user] == 0 {
			delete(l.exports, user)
		}
		l.mu.Unlock()
	}()
	return handler(srv, ss)
}
