// Package console serves the web console: the agent, officer, supervisor and
// administrator screens, in Hindi and English, as static files embedded in
// the binary that call the REST gateway with the user's token. Beside the
// files it serves the QR code of a docket and a stream of "something
// changed" ticks that keep the dashboard current. Nothing is loaded from
// outside the machine.
package console

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	qrcode "github.com/skip2/go-qrcode"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/clientaddr"
	"github.com/helpline/helpline/internal/httpsec"
	"github.com/helpline/helpline/internal/natsbus"
)

//go:embed static
var static embed.FS

// Handler serves /console/.
type Handler struct {
	identity helplinev1.IdentityServiceClient
	nc       *nats.Conn
	log      *slog.Logger

	lookup StatusLookup

	mu      sync.Mutex
	clients map[chan struct{}]bool
	// done ends the change streams when the server shuts down.
	done      chan struct{}
	closeOnce sync.Once
	// lookups limits status lookups per client address.
	lookups *limiter
	// codes limits QR codes per client address.
	codes *limiter
	// trusted are the proxies whose X-Forwarded-For names the client.
	trusted []netip.Prefix
	// publicURL is the console's address in QR codes ("": the request's).
	publicURL string
}

// Close ends every change stream, so that a graceful shutdown need not
// wait for dashboards to close (register it with http.Server.RegisterOnShutdown).
func (h *Handler) Close() { h.closeOnce.Do(func() { close(h.done) }) }

// New returns the console; identity checks the tokens of the change
// stream, nc (may be nil) carries the complaint events it ticks on, lookup
// (may be nil) answers the public status page, trusted are the proxies whose
// X-Forwarded-For names the client, publicURL (may be empty: derived from
// each request) is the console's address in the QR codes.
func New(identity *grpc.ClientConn, nc *nats.Conn, lookup StatusLookup, log *slog.Logger, trusted []netip.Prefix, publicURL string) *Handler {
	h := &Handler{nc: nc, lookup: lookup, log: log, clients: map[chan struct{}]bool{}, done: make(chan struct{}),
		lookups: newLimiter(lookupsPerMinute), codes: newLimiter(qrPerMinute), trusted: trusted, publicURL: strings.TrimRight(publicURL, "/")}
	if identity != nil {
		h.identity = helplinev1.NewIdentityServiceClient(identity)
	}
	return h
}

// Register adds the console's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	files, _ := fs.Sub(static, "static")
	fileServer := http.StripPrefix("/console/", http.FileServer(http.FS(files)))
	mux.Handle("GET /console/", securityHeaders(fileServer))
	mux.Handle("GET /console/qr.png", httpsec.NoStore(http.HandlerFunc(h.qr)))
	mux.Handle("GET /console/changes", httpsec.NoStore(http.HandlerFunc(h.changes)))
	mux.Handle("GET /console/status.json", httpsec.NoStore(http.HandlerFunc(h.status)))
	mux.Handle("GET /{$}", http.RedirectHandler("/console/", http.StatusFound))
}

// securityHeaders keeps the console to this origin: no script, style, font
// or image from anywhere else.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// baseURL is the console's address for citizens: the -public-url setting,
// else the request's scheme and Host.
func (h *Handler) baseURL(r *http.Request) string {
	if h.publicURL != "" {
		return h.publicURL
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// qr answers a PNG QR code of the public status page of a docket, with its
// complaint's secret: GET /console/qr.png?docket=&token=.
func (h *Handler) qr(w http.ResponseWriter, r *http.Request) {
	if !h.codes.allow(clientaddr.FromRequest(r, h.trusted)) {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "too many QR codes: try again in a minute", http.StatusTooManyRequests)
		return
	}
	docket := r.URL.Query().Get("docket")
	if docket == "" || len(docket) > 20 {
		http.Error(w, "docket is required", http.StatusBadRequest)
		return
	}
	for _, c := range docket {
		if !(c >= '0' && c <= '9' || c == '-' || c == ' ') {
			http.Error(w, "docket: digits and dashes only", http.StatusBadRequest)
			return
		}
	}
	token := r.URL.Query().Get("token")
	if len(token) != 32 || strings.Trim(token, "0123456789abcdef") != "" {
		http.Error(w, "token: the complaint's status_token is required", http.StatusBadRequest)
		return
	}
	target := h.baseURL(r) + "/console/#/status/" + strings.ReplaceAll(docket, " ", "") + "/" + token
	png, err := qrcode.Encode(target, qrcode.Medium, 256)
	if err != nil {
		http.Error(w, "qr code failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	_, _ = w.Write(png)
}

// Run relays complaint events to the change stream's clients until ctx ends.
func (h *Handler) Run(ctx context.Context) {
	if h.nc == nil {
		return
	}
	sub, err := h.nc.Subscribe(natsbus.SubjectPrefix+">", func(*nats.Msg) {
		h.mu.Lock()
		for c := range h.clients {
			select {
			case c <- struct{}{}:
			default: // a tick is already waiting
			}
		}
		h.mu.Unlock()
	})
	if err != nil {
		h.log.Warn("console: subscribing to complaint events", "err", err)
		return
	}
	<-ctx.Done()
	_ = sub.Unsubscribe()
}

// changes is a Server-Sent Events stream: a "change" event at most once a
// second while complaints change. It carries no data, only the tick; the
// token comes as a query parameter, since EventSource sends no headers.
func (h *Handler) changes(w http.ResponseWriter, r *http.Request) {
	if h.identity == nil {
		http.Error(w, "the change stream needs the identity service in this process", http.StatusNotFound)
		return
	}
	ctx := metadata.AppendToOutgoingContext(clientaddr.FromRequestOutgoing(r, h.trusted), "authorization", "Bearer "+r.URL.Query().Get("token"))
	if _, err := h.identity.WhoAmI(ctx, &helplinev1.WhoAmIRequest{}); err != nil {
		http.Error(w, "log in again", http.StatusUnauthorized)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	// The server's read timeout is for requests; a stream lives on.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	tick := make(chan struct{}, 1)
	h.mu.Lock()
	h.clients[tick] = true
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.clients, tick)
		h.mu.Unlock()
	}()
	fmt.Fprint(w, "retry: 3000\n\n")
	flusher.Flush()
	keepalive := time.NewTicker(25 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case <-tick:
			fmt.Fprint(w, "event: change\ndata: {}\n\n")
			flusher.Flush()
			select { // at most one a second
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		case <-keepalive.C:
			// A revoked or expired token ends the stream.
			if _, err := h.identity.WhoAmI(ctx, &helplinev1.WhoAmIRequest{}); err != nil {
				return
			}
			fmt.Fprint(w, ": keepalive\n\n")
			flusher.Flush()
		}
	}
}
