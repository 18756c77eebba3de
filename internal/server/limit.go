package server

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// limiter bounds the RPCs in flight, so that a slow PostgreSQL or NATS
// makes callers wait at most briefly and then shed load, instead of piling
// up goroutines and memory.
type limiter struct {
	slots chan struct{}
}

func newLimiter(n int) *limiter {
	if n <= 0 {
		n = 512
	}
	return &limiter{slots: make(chan struct{}, n)}
}

// maxQueueWait is the longest a call waits for a slot: a call the server
// cannot take is refused at once, so that a client under a burst learns
// it within milliseconds and can retry, rather than after its deadline.
const maxQueueWait = 10 * time.Millisecond

func (l *limiter) acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
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
	case l.slots <- struct{}{}:
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

func (l *limiter) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := l.acquire(ss.Context()); err != nil {
		return err
	}
	defer l.release()
	return handler(srv, ss)
}
