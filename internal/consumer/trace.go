package consumer

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/helpline/helpline/internal/telemetry"
)

var tracer = telemetry.Tracer("consumer")

// startSpan starts the span of one message's processing, a child of the
// trace context in its headers (the command that wrote the event).
func (c *Consumer) startSpan(ctx context.Context, msg jetstream.Msg) (context.Context, trace.Span) {
	return tracer.Start(telemetry.ExtractNATS(ctx, msg.Headers()), c.cfg.Name+" process "+msg.Subject(),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.consumer.group.name", c.cfg.Name),
			attribute.String("messaging.destination.name", msg.Subject()),
			attribute.String("messaging.message.id", msg.Headers().Get(jetstream.MsgIDHeader)),
		))
}

// batchSpans starts a span per message; the returned context is the lone
// message's, or for several a batch span linked to each of theirs (what the
// batch writes, such as the events of its own changes, follows it). end
// finishes them all, recording err.
func (c *Consumer) batchSpans(ctx context.Context, msgs []jetstream.Msg) (context.Context, func(err error)) {
	spans := make([]trace.Span, 0, len(msgs)+1)
	links := make([]trace.Link, 0, len(msgs))
	var one context.Context
	for _, m := range msgs {
		sctx, sp := c.startSpan(ctx, m)
		spans = append(spans, sp)
		links = append(links, trace.Link{SpanContext: sp.SpanContext()})
		one = sctx
	}
	if len(msgs) > 1 {
		var sp trace.Span
		one, sp = tracer.Start(ctx, c.cfg.Name+" process batch", trace.WithLinks(links...),
			trace.WithAttributes(attribute.Int("messaging.batch.message_count", len(msgs))))
		spans = append(spans, sp)
	}
	return one, func(err error) {
		for _, sp := range spans {
			if err != nil {
				sp.SetStatus(codes.Error, err.Error())
			}
			sp.End()
		}
	}
}
