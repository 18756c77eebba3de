package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/telemetry"
	"github.com/helpline/helpline/internal/testenv"
)

// TestTraceRunsFromTheRPCToTheRoutingConsumer: one registration is one
// trace: the RPC's server span, the relay's publish span under it, the
// routing consumer's span under that, and the publish of the assigned event
// the routing wrote.
func TestTraceRunsFromTheRPCToTheRoutingConsumer(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	env := testenv.StartServer(t)
	resp, err := env.Intake.RegisterComplaint(env.Agent, &helplinev1.RegisterComplaintRequest{
		IdempotencyKey: "trace-1",
		Citizen:        &helplinev1.Citizen{Name: "Asha", Phone: "9816012345"},
		Location:       &helplinev1.Location{DistrictCode: "SHIMLA"},
		CategoryCode:   "PWD_ROAD_POTHOLES", Description: "pothole", Channel: helplinev1.Channel_CHANNEL_PHONE,
	})
	if err != nil {
		t.Fatal(err)
	}
	find := func(name string, trace trace.TraceID) *tracetest.SpanStub {
		for _, s := range exp.GetSpans() {
			if s.Name == name && (!trace.IsValid() || s.SpanContext.TraceID() == trace) {
				return &s
			}
		}
		return nil
	}
	var rpc *tracetest.SpanStub
	testenv.Eventually(t, 10*time.Second, "the assigned event published in the registration's trace", func() bool {
		rpc = find("helpline.v1.IntakeService/RegisterComplaint", trace.TraceID{})
		return rpc != nil && find("publish helpline.complaint.assigned", rpc.SpanContext.TraceID()) != nil
	})
	id := rpc.SpanContext.TraceID()
	publish := find("publish helpline.complaint.registered", id)
	routing := find("routing process helpline.complaint.registered", id)
	assigned := find("publish helpline.complaint.assigned", id)
	switch {
	case publish == nil || publish.Parent.SpanID() != rpc.SpanContext.SpanID():
		t.Fatalf("publish span %+v is not a child of the RPC's", publish)
	case routing == nil || routing.Parent.SpanID() != publish.SpanContext.SpanID():
		t.Fatalf("routing span %+v is not a child of the publish span", routing)
	case assigned.Parent.SpanID() != routing.SpanContext.SpanID():
		t.Fatalf("the assigned event's publish %+v is not a child of the routing span", assigned)
	}
	if got, _ := env.Intake.GetComplaint(env.Agent, &helplinev1.GetComplaintRequest{Docket: resp.GetComplaint().GetDocket()}); got.GetComplaint().GetPost() == "" {
		t.Fatal("not routed")
	}
}

func TestLogRecordsCarryTheTraceID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "x")
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("t").Start(context.Background(), "op")
	log.InfoContext(ctx, "hello")
	span.End()
	log.Info("no span")
	dec := json.NewDecoder(&buf)
	var first, second map[string]any
	if err := dec.Decode(&first); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&second); err != nil {
		t.Fatal(err)
	}
	if first["trace_id"] != span.SpanContext().TraceID().String() || first["span_id"] != span.SpanContext().SpanID().String() || first["component"] != "x" {
		t.Fatalf("record with a span: %v", first)
	}
	if _, ok := second["trace_id"]; ok {
		t.Fatalf("record without a span: %v", second)
	}
}
