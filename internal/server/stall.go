package server

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultStreamStall is how long a server stream's send, or a REST
// streaming answer's write, may wait for a client that does not read
// before the stream is cut (Config.StreamStall).
const DefaultStreamStall = 30 * time.Second

// stallGuard is a stream interceptor that cuts a server stream whose
// client stops reading. gRPC's SendMsg blocks on flow control with no
// deadline of its own, and only the end of the handler (its final status)
// closes the transport stream and unblocks it; so the handler runs in a
// goroutine of its own, each SendMsg arms a timer, and when a send has
// waited for stall the handler's context is cancelled and the interceptor
// returns DEADLINE_EXCEEDED. gRPC then closes the stream, which ends the
// blocked send, the handler returns, and its memory and the transport's
// buffers are freed.
func stallGuard(stall time.Duration) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if info.IsClientStream && !info.IsServerStream {
			return handler(srv, ss) // nothing to send but the answer
		}
		ctx, cancel := context.WithCancel(ss.Context())
		defer cancel()
		w := &watchedStream{ServerStream: ss, ctx: ctx, stall: stall, stalled: make(chan struct{})}
		w.timer = time.AfterFunc(stall, func() {
			if w.sending.Load() && w.fired.CompareAndSwap(false, true) {
				cancel()
				close(w.stalled)
			}
		})
		w.timer.Stop()
		done := make(chan error, 1)
		go func() { done <- handler(srv, w) }()
		select {
		case err := <-done:
			w.timer.Stop()
			return err
		case <-w.stalled:
			return status.Errorf(codes.DeadlineExceeded, "the client read nothing for %v: stream cut", stall)
		}
	}
}

// watchedStream is a ServerStream whose sends are timed by stallGuard.
type watchedStream struct {
	grpc.ServerStream
	ctx     context.Context
	stall   time.Duration
	timer   *time.Timer
	sending atomic.Bool
	fired   atomic.Bool
	stalled chan struct{}
}

func (w *watchedStream) Context() context.Context { return w.ctx }

// SendMsg sends m, arming the stall timer while it waits.
func (w *watchedStream) SendMsg(m any) error {
	if w.fired.Load() {
		return status.Error(codes.DeadlineExceeded, "stream cut")
	}
	w.sending.Store(true)
	w.timer.Reset(w.stall)
	err := w.ServerStream.SendMsg(m)
	w.sending.Store(false)
	w.timer.Stop()
	return err
}

// writeDeadline gives each write of a streaming answer of h (one that
// flushes, as the REST gateway does after every message of a server
// stream) a deadline of stall: a client that stops reading gets its
// connection closed, the handler returns, and the gRPC stream behind it
// is cancelled. Answers that never flush are left alone.
func writeDeadline(stall time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), stall: stall}
		defer func() {
			if d.streaming {
				// Keep-alive: the next request on the connection starts afresh.
				_ = d.rc.SetWriteDeadline(time.Time{})
			}
		}()
		h.ServeHTTP(d, r)
	})
}

// deadlineWriter is a ResponseWriter that sets a write deadline before
// every write once its answer streams.
type deadlineWriter struct {
	http.ResponseWriter
	rc        *http.ResponseController
	stall     time.Duration
	streaming bool
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if d.streaming {
		_ = d.rc.SetWriteDeadline(time.Now().Add(d.stall))
	}
	return d.ResponseWriter.Write(p)
}

// Flush sends what was written, within the deadline.
func (d *deadlineWriter) Flush() {
	d.streaming = true
	_ = d.rc.SetWriteDeadline(time.Now().Add(d.stall))
	_ = d.rc.Flush()
}

// Unwrap is for http.ResponseController.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
