package server

import (
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// TestWriteDeadlineCutsUnreadStream: a streaming answer to a client that
// reads nothing ends within the stall (plus slack) with a write error.
func TestWriteDeadlineCutsUnreadStream(t *testing.T) {
	const stall = 200 * time.Millisecond
	ended := make(chan error, 1)
	srv := httptest.NewServer(writeDeadline(stall, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		chunk := make([]byte, 32<<10)
		for range 4096 { // 128 MiB: far more than the socket buffers hold
			if _, err := w.Write(chunk); err != nil {
				ended <- err
				return
			}
			if err := http.NewResponseController(w).Flush(); err != nil {
				ended <- err
				return
			}
		}
		ended <- nil
	})))
	defer srv.Close()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /v1/stats/export HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		if err == nil {
			t.Fatal("the unread answer was written in full")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the unread answer is still being written after 20 s")
	}
}
