// Package tracing is OpenTelemetry for a vidmesh Go process, mesh/tracing.py's twin: one
// tracer provider per process (Setup, from main), spans exported over OTLP/gRPC to
// OTEL_EXPORTER_OTLP_ENDPOINT under service.name = the topology name, and the W3C trace
// context of the call or event being handled.
//
// What makes a span in gomesh (MESH.md §11 says why): a SERVER span per RPC
// (gomesh/interceptors), a CONSUMER span per record, a child of the envelope's traceparent
// (gomesh/consumer), and a CLIENT span per Postgres statement inside either (gomesh/db). A trace starts only at a server or a consumer: a span that
// would begin one elsewhere (housekeeping) is dropped whatever the sampler says.
//
// Settings: OTEL_EXPORTER_OTLP_ENDPOINT (http://127.0.0.1:4317), OTEL_TRACES_SAMPLER and
// OTEL_TRACES_SAMPLER_ARG (parentbased_always_on), and VIDMESH_TRACING=false, which records
// and exports nothing while ids are still made and passed on (log lines keep a trace id, a
// caller's trace goes on downstream). Before Setup (a test, a tool) the same holds.
package tracing

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"

	"vidmesh/gomesh/config"
)

const (
	tracerName    = "vidmesh"
	exportTimeout = 2 * time.Second // per export: a batch Jaeger does not take in time is dropped
	shutdownBound = 1500 * time.Millisecond
)

// samplers are OTEL_TRACES_SAMPLER's values, as mesh/tracing.py accepts them.
var samplers = map[string]func(ratio float64) sdktrace.Sampler{
	"always_on":                func(float64) sdktrace.Sampler { return sdktrace.AlwaysSample() },
	"always_off":               func(float64) sdktrace.Sampler { return sdktrace.NeverSample() },
	"traceidratio":             sdktrace.TraceIDRatioBased,
	"parentbased_always_on":    func(float64) sdktrace.Sampler { return sdktrace.ParentBased(sdktrace.AlwaysSample()) },
	"parentbased_always_off":   func(float64) sdktrace.Sampler { return sdktrace.ParentBased(sdktrace.NeverSample()) },
	"parentbased_traceidratio": func(r float64) sdktrace.Sampler { return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)) },
}

// Settings are where spans go and which are kept.
type Settings struct {
	Enabled  bool
	Endpoint string
	Sampler  sdktrace.Sampler
}

// Load reads VIDMESH_TRACING and the OTEL_* variables; an error names the bad one.
func Load(env config.Env) (Settings, error) {
	get := func(name, fallback string) string {
		if value, ok := env(name); ok && strings.TrimSpace(value) != "" {
			return strings.ToLower(strings.TrimSpace(value))
		}
		return fallback
	}
	s := Settings{Endpoint: get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", get("OTEL_EXPORTER_OTLP_ENDPOINT",
		"http://127.0.0.1:4317"))}
	switch switch_ := get("VIDMESH_TRACING", "true"); switch_ {
	case "true", "1", "yes":
		s.Enabled = true
	case "false", "0", "no":
	default:
		return Settings{}, fmt.Errorf("VIDMESH_TRACING=%q is not true or false", switch_)
	}
	name := get("OTEL_TRACES_SAMPLER", "parentbased_always_on")
	sampler, known := samplers[name]
	if !known {
		return Settings{}, fmt.Errorf("OTEL_TRACES_SAMPLER=%q is not one of always_on, always_off, traceidratio, "+
			"parentbased_always_on, parentbased_always_off, parentbased_traceidratio", name)
	}
	raw := get("OTEL_TRACES_SAMPLER_ARG", "1.0")
	ratio, err := strconv.ParseFloat(raw, 64)
	if err != nil || ratio < 0 || ratio > 1 {
		return Settings{}, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG=%q is not a number between 0 and 1", raw)
	}
	s.Sampler = sampler(ratio)
	return s, nil
}

// provider is the process's tracer provider: Setup's, or one that records nothing.
var provider atomic.Pointer[sdktrace.TracerProvider]

func init() {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	provider.Store(sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample())))
}

// Setup makes the process's provider, for service (the topology name) and instance (its
// advertised host), from s; the returned stop exports what is left within 1.5 s (a stop never
// waits on Jaeger, MESH.md §5).
func Setup(ctx context.Context, service, instance string, s Settings) (stop func(), err error) {
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service),
		semconv.ServiceInstanceID(instance))
	if !s.Enabled { // ids are still made and passed on; nothing is recorded
		return Use(sdktrace.NewTracerProvider(sdktrace.WithResource(res),
			sdktrace.WithSampler(sdktrace.NeverSample()))), nil
	}
	// WithEndpointURL: an http:// endpoint means plaintext, as in Python's exporter.
	exporter, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(s.Endpoint),
		otlptracegrpc.WithTimeout(exportTimeout))
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT=%q: %w", s.Endpoint, err)
	}
	return Use(sdktrace.NewTracerProvider(sdktrace.WithResource(res),
		sdktrace.WithSampler(startsAtServers{s.Sampler}), sdktrace.WithBatcher(exporter))), nil
}

// Use makes p the process's provider (Setup's, or a test's with an in-memory exporter) and
// returns what stops it.
func Use(p *sdktrace.TracerProvider) (stop func()) {
	previous := provider.Swap(p)
	otel.SetTracerProvider(p)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownBound)
		defer cancel()
		_ = p.ForceFlush(ctx)
		_ = p.Shutdown(ctx)
		provider.CompareAndSwap(p, previous)
	}
}

// Tracer is the tracer of gomesh's spans.
func Tracer() trace.Tracer { return provider.Load().Tracer(tracerName) }

// startsAtServers drops a span that would begin a trace unless it serves an RPC or an event;
// the rest is inner's decision.
type startsAtServers struct{ inner sdktrace.Sampler }

func (s startsAtServers) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	parent := trace.SpanContextFromContext(p.ParentContext)
	if !parent.IsValid() && p.Kind != trace.SpanKindServer && p.Kind != trace.SpanKindConsumer {
		return sdktrace.SamplingResult{Decision: sdktrace.Drop, Tracestate: parent.TraceState()}
	}
	return s.inner.ShouldSample(p)
}

func (s startsAtServers) Description() string {
	return "TracesStartAtServers{" + s.inner.Description() + "}"
}

// Provider is a tracer provider whose tracers always use the process's current provider, for
// libraries that take their tracer once, at construction (the pgx tracer in gomesh/db).
func Provider() trace.TracerProvider { return currentProvider{} }

type currentProvider struct{ embedded.TracerProvider }

func (currentProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return currentTracer{name: name, opts: opts}
}

type currentTracer struct {
	embedded.Tracer
	name string
	opts []trace.TracerOption
}

func (t currentTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (
	context.Context, trace.Span) {
	return provider.Load().Tracer(t.name, t.opts...).Start(ctx, name, opts...)
}
