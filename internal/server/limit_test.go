package server

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestLimiterShedsLoadWhenFull(t *testing.T) {
	l := newLimiter(2)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = l.unary(context.Background(), nil, &grpc.UnaryServerInfo{}, func(context.Context, any) (any, error) {
				<-release
				return nil, nil
			})
		}()
	}
	for len(l.slots) < 2 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	called := false
	_, err := l.unary(ctx, nil, &grpc.UnaryServerInfo{}, func(context.Context, any) (any, error) { called = true; return nil, nil })
	if code := status.Code(err); code != codes.ResourceExhausted && code != codes.DeadlineExceeded || called {
		t.Fatalf("a call over the limit got %v (handler called: %v)", err, called)
	}
	close(release)
	wg.Wait()
	if _, err := l.unary(context.Background(), nil, &grpc.UnaryServerInfo{}, func(context.Context, any) (any, error) { return nil, nil }); err != nil {
		t.Fatalf("after the load: %v", err)
	}
}
