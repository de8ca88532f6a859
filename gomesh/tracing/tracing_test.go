package tracing

import (
	"context"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"vidmesh/gomesh/config"
)

const caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

func TestSettingsDefaultToTheLocalJaegerAndNameABadVariable(t *testing.T) {
	s, err := Load(config.FromMap(nil))
	if err != nil || !s.Enabled || s.Endpoint != "http://127.0.0.1:4317" ||
		s.Sampler.Description() != sdktrace.ParentBased(sdktrace.AlwaysSample()).Description() {
		t.Errorf("defaults = %+v, %v", s, err)
	}
	off, err := Load(config.FromMap(map[string]string{"VIDMESH_TRACING": "false",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4317"}))
	if err != nil || off.Enabled || off.Endpoint != "http://jaeger:4317" {
		t.Errorf("VIDMESH_TRACING=false = %+v, %v", off, err)
	}
	for name, value := range map[string]string{"VIDMESH_TRACING": "maybe", "OTEL_TRACES_SAMPLER": "sometimes",
		"OTEL_TRACES_SAMPLER_ARG": "2"} {
		if _, err := Load(config.FromMap(map[string]string{name: value})); err == nil ||
			!strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v, want one naming it", name, value, err)
		}
	}
}

func TestATraceStartsOnlyAtAServerOrAConsumer(t *testing.T) {
	recorder := record(t, sdktrace.AlwaysSample())
	_, housekeeping := Tracer().Start(context.Background(), "retention")
	housekeeping.End()
	ctx, server := Tracer().Start(context.Background(), "rpc", trace.WithSpanKind(trace.SpanKindServer))
	_, inside := Tracer().Start(ctx, "query")
	inside.End()
	server.End()
	_, consumer := Tracer().Start(context.Background(), "process", trace.WithSpanKind(trace.SpanKindConsumer))
	consumer.End()
	names := []string{}
	for _, span := range recorder.Ended() {
		names = append(names, span.Name())
	}
	if strings.Join(names, ",") != "query,rpc,process" {
		t.Errorf("recorded %v, want query, rpc and process (no retention)", names)
	}
}

func TestARemoteParentIsContinuedAndSentOnWithTheNewSpan(t *testing.T) {
	record(t, sdktrace.AlwaysSample())
	ctx, span := Tracer().Start(Remote(context.Background(), caller, ""), "rpc",
		trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	traceID, spanID := CurrentIDs(ctx)
	if traceID != "0af7651916cd43dd8448eb211c80319c" || spanID == "b7ad6b7169203331" || len(spanID) != 16 {
		t.Errorf("ids = %s %s", traceID, spanID)
	}
	if sent := Traceparent(ctx); sent != "00-"+traceID+"-"+spanID+"-01" {
		t.Errorf("traceparent sent on = %q", sent)
	}
	for _, bad := range []string{"", "garbage", "ff" + caller[2:], "00-" + strings.Repeat("0", 32) + caller[35:]} {
		if id := CurrentTraceID(Remote(context.Background(), bad, "")); id != "" {
			t.Errorf("Remote(%q) continued trace %s, want none", bad, id)
		}
	}
}

func TestWithTracingOffIdsAreStillMadeAndPassedOn(t *testing.T) {
	stop, err := Setup(context.Background(), "recommendations", "test", Settings{Enabled: false})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	ctx, span := Tracer().Start(Remote(context.Background(), caller, ""), "rpc", trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	if span.IsRecording() || CurrentTraceID(ctx) != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("recording %v, trace %s", span.IsRecording(), CurrentTraceID(ctx))
	}
	_, fresh := Tracer().Start(context.Background(), "rpc", trace.WithSpanKind(trace.SpanKindServer))
	defer fresh.End()
	if !fresh.SpanContext().IsValid() {
		t.Error("a new trace got no ids")
	}
}

// record makes a provider with inner's sampling and an in-memory recorder the process's one.
func record(t *testing.T, inner sdktrace.Sampler) *tracetest.SpanRecorder {
	recorder := tracetest.NewSpanRecorder()
	t.Cleanup(Use(sdktrace.NewTracerProvider(sdktrace.WithSampler(startsAtServers{inner}),
		sdktrace.WithSpanProcessor(recorder))))
	return recorder
}

func TestATracerTakenEarlyFollowsTheProviderInUseLater(t *testing.T) {
	early := Provider().Tracer("pgx")
	recorder := record(t, sdktrace.AlwaysSample())
	_, span := early.Start(context.Background(), "rpc", trace.WithSpanKind(trace.SpanKindServer))
	span.End()
	if ended := recorder.Ended(); len(ended) != 1 || ended[0].InstrumentationScope().Name != "pgx" {
		t.Errorf("recorded %v, want the early tracer's span", ended)
	}
}
