// Package telemetry is the process's OpenTelemetry tracing: the W3C trace
// context that travels from a gRPC call through the outbox row and the
// NATS message headers to each consumer, the tracer provider (OTLP export
// when configured), and a slog handler that stamps log records with the
// trace and span ids of their context.
package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Propagator is the W3C trace context, used on every hop.
var Propagator = propagation.TraceContext{}

// Tracer is the tracer of a component, from the global provider (set by Setup,
// or by a test).
func Tracer(component string) trace.Tracer {
	return otel.Tracer("github.com/helpline/helpline/" + component)
}

// TraceParent returns ctx's span context as a W3C traceparent, or "" when
// ctx carries none.
func TraceParent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	Propagator.Inject(ctx, c)
	return c.Get("traceparent")
}

// WithTraceParent returns ctx carrying the remote span context of a stored
// traceparent (unchanged when tp is empty or malformed).
func WithTraceParent(ctx context.Context, tp string) context.Context {
	if tp == "" {
		return ctx
	}
	return Propagator.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
}

// InjectNATS writes ctx's trace context into a NATS message's headers.
func InjectNATS(ctx context.Context, h nats.Header) {
	Propagator.Inject(ctx, propagation.HeaderCarrier(http.Header(h)))
}

// ExtractNATS returns ctx carrying the trace context of a NATS message's headers.
func ExtractNATS(ctx context.Context, h nats.Header) context.Context {
	if h == nil {
		return ctx
	}
	return Propagator.Extract(ctx, propagation.HeaderCarrier(http.Header(h)))
}

// Setup installs the global tracer provider: spans batched to an OTLP/gRPC
// collector at endpoint (host:port, plaintext), sampled at ratio (parent
// based: a sampled caller's trace is always kept). With no endpoint no
// span is recorded, but every call still gets a trace id, which travels
// on with its events and stamps its log records. The returned function
// flushes and stops it.
func Setup(ctx context.Context, endpoint string, ratio float64, service string) (func(context.Context) error, error) {
	otel.SetTextMapPropagator(Propagator)
	if endpoint == "" {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
		otel.SetTracerProvider(tp)
		return tp.Shutdown, nil
	}
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	res := resource.NewSchemaless(semconv.ServiceName(service))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	)
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// LogHandler wraps h so every record logged with a context that carries a
// span gets trace_id and span_id attributes.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(attrs)}
}

func (l logHandler) WithGroup(name string) slog.Handler { return logHandler{l.Handler.WithGroup(name)} }
