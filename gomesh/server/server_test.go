package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"github.com/jackc/pgx/v5/pgconn"
	otelcodes "go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	recommendationsv1 "vidmesh/gen/go/vidmesh/recommendations/v1"
	"vidmesh/gomesh/config"
	"vidmesh/gomesh/logging"
	"vidmesh/gomesh/registry"
	"vidmesh/gomesh/server"
	"vidmesh/gomesh/supervisor"
	"vidmesh/gomesh/tracing"
)

const (
	validID     = "0af76519-16cd-43dd-8448-eb211c80319c"
	traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
)

// behaviour is a RecommendationService whose ListForUser does what the test asks.
type behaviour struct {
	recommendationsv1.UnimplementedRecommendationServiceServer
	forUser func(ctx context.Context) error
}

func (b *behaviour) ListForUser(ctx context.Context, _ *recommendationsv1.ListForUserRequest) (
	*recommendationsv1.ListForUserResponse, error) {
	return &recommendationsv1.ListForUserResponse{}, b.forUser(ctx)
}

// fakeRegistry is a Consul agent in memory.
type fakeRegistry struct {
	mu           sync.Mutex
	known        map[string]registry.Registration
	registers    int
	deregistered []string
}

func (f *fakeRegistry) Register(_ context.Context, r registry.Registration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.known[r.ID()] = r
	f.registers++
	return nil
}

func (f *fakeRegistry) Deregister(_ context.Context, r registry.Registration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.known, r.ID())
	f.deregistered = append(f.deregistered, r.ID())
	return nil
}

func (f *fakeRegistry) Registered(_ context.Context, r registry.Registration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.known[r.ID()]
	return ok, nil
}

func (f *fakeRegistry) forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.known = map[string]registry.Registration{}
}

type instance struct {
	conn     *grpc.ClientConn
	client   recommendationsv1.RecommendationServiceClient
	health   healthpb.HealthClient
	registry *fakeRegistry
	logs     *syncBuffer
	stop     context.CancelFunc
	stopped  chan struct{} // closed when Run has returned
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waiting is a background worker that runs until it is stopped.
var waiting = supervisor.Worker{Name: "probe", Run: func(ctx context.Context) error { <-ctx.Done(); return nil }}

func start(t testing.TB, impl *behaviour, checks []server.Check, maxRPC time.Duration) *instance {
	t.Helper()
	// The lifecycle in plaintext: mutual TLS needs Consul's CA, which tests/integration/identity
	// checks against the running stack.
	cfg, err := config.Load(config.FromMap(map[string]string{"VIDMESH_DRAIN_SECONDS": "0.2",
		"VIDMESH_SHUTDOWN_GRACE_SECONDS": "5", "VIDMESH_MTLS": "false"}), "gomesh-test")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxRPC = maxRPC
	logs := &syncBuffer{}
	swapLogs(t, logs) // the server and its interceptors log through the default logger
	validator, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	ports := make(chan int, 1)
	fake := &fakeRegistry{known: map[string]registry.Registration{}}
	ctx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		err := server.Run(ctx, server.Options{
			Config:   cfg,
			Services: []server.Service{{Desc: &recommendationsv1.RecommendationService_ServiceDesc, Impl: impl}},
			Checks:   checks, Registry: fake, Validator: validator, CheckInterval: 50 * time.Millisecond,
			Workers:     []supervisor.Worker{waiting},
			OnListening: func(port int) { ports <- port },
		})
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	port := <-ports
	conn, err := grpc.NewClient(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	inst := &instance{conn, recommendationsv1.NewRecommendationServiceClient(conn), healthpb.NewHealthClient(conn),
		fake, logs, stop, stopped}
	t.Cleanup(func() { stop(); _ = conn.Close(); <-stopped })
	return inst
}

func swapLogs(t testing.TB, logs *syncBuffer) {
	t.Helper()
	logger := logging.New(logs, "gomesh-test", "info")
	old := slogDefault()
	setDefault(logger)
	t.Cleanup(func() { setDefault(old) })
}

// eventually polls cond every 20 ms until it holds or the bound passes.
func eventually(t testing.TB, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", bound, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (i *instance) status(t testing.TB, service string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := i.health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return -1
	}
	return resp.GetStatus()
}

func ok(context.Context) error { return nil }

func TestHealthFollowsTheReadinessChecksAndConsulIsToldAgainWhenItForgets(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	check := server.Check{Name: "postgres", Func: func(context.Context) error {
		if down.Load() {
			return status.Error(codes.Unavailable, "connection refused")
		}
		return nil
	}}
	inst := start(t, &behaviour{forUser: ok}, []server.Check{check}, time.Second)
	name := "vidmesh.recommendations.v1.RecommendationService"
	eventually(t, 2*time.Second, "NOT_SERVING while the check fails", func() bool {
		return inst.status(t, name) == healthpb.HealthCheckResponse_NOT_SERVING
	})
	down.Store(false)
	eventually(t, 2*time.Second, "SERVING once it passes", func() bool {
		return inst.status(t, name) == healthpb.HealthCheckResponse_SERVING &&
			inst.status(t, "") == healthpb.HealthCheckResponse_SERVING &&
			inst.status(t, "vidmesh.worker.probe") == healthpb.HealthCheckResponse_SERVING
	})
	inst.registry.mu.Lock()
	var reg registry.Registration
	for _, r := range inst.registry.known {
		reg = r
	}
	inst.registry.mu.Unlock()
	if reg.HealthService != name || reg.ProtoPackage != "vidmesh.recommendations.v1" || reg.Name != "gomesh-test" {
		t.Errorf("registration = %+v", reg)
	}
	inst.registry.forget()
	eventually(t, 2*time.Second, "registered again", func() bool {
		known, _ := inst.registry.Registered(context.Background(), reg)
		return known
	})
}

func TestShutdownGoesNotServingDeregistersAndLetsTheInFlightCallFinish(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{})
	inst := start(t, &behaviour{forUser: func(context.Context) error {
		close(entered)
		<-release
		return nil
	}}, nil, 10*time.Second)
	eventually(t, 2*time.Second, "SERVING", func() bool { return inst.status(t, "") == healthpb.HealthCheckResponse_SERVING })
	called := make(chan error, 1)
	go func() {
		_, err := inst.client.ListForUser(context.Background(), &recommendationsv1.ListForUserRequest{UserId: validID})
		called <- err
	}()
	<-entered
	began := time.Now()
	inst.stop()
	eventually(t, time.Second, "NOT_SERVING at once", func() bool {
		return inst.status(t, "") == healthpb.HealthCheckResponse_NOT_SERVING
	})
	inst.registry.mu.Lock()
	deregistered := len(inst.registry.deregistered)
	inst.registry.mu.Unlock()
	if deregistered != 1 {
		t.Errorf("deregistered %d times before draining, want 1", deregistered)
	}
	close(release)
	if err := <-called; err != nil {
		t.Errorf("the in-flight call failed: %v", err)
	}
	select {
	case <-inst.stopped:
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after the drain")
	}
	if took := time.Since(began); took < 200*time.Millisecond {
		t.Errorf("stopped after %v, before the 0.2 s drain", took)
	}
}

func TestABrokenRuleIsInvalidArgumentNamingTheField(t *testing.T) {
	inst := start(t, &behaviour{forUser: ok}, nil, time.Second)
	_, err := inst.client.ListForUser(context.Background(), &recommendationsv1.ListForUserRequest{UserId: "nope", PageSize: 500})
	st := status.Convert(err)
	fields := []string{}
	for _, detail := range st.Details() {
		if badRequest, ok := detail.(*errdetails.BadRequest); ok {
			for _, v := range badRequest.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	if st.Code() != codes.InvalidArgument || strings.Join(fields, ",") != "user_id,page_size" {
		t.Errorf("status = %v, fields %v; want INVALID_ARGUMENT naming user_id and page_size", st, fields)
	}
}

// fieldsOf is the fields a status's google.rpc.BadRequest names.
func fieldsOf(st *status.Status) []string {
	fields := []string{}
	for _, detail := range st.Details() {
		if badRequest, ok := detail.(*errdetails.BadRequest); ok {
			for _, v := range badRequest.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

func TestANulInAStringIsInvalidArgumentNamingTheField(t *testing.T) {
	inst := start(t, &behaviour{forUser: ok}, nil, time.Second)
	_, err := inst.client.ListForUser(context.Background(),
		&recommendationsv1.ListForUserRequest{UserId: validID[:8] + "\x00" + validID[9:]})
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument || strings.Join(fieldsOf(st), ",") != "user_id" ||
		!strings.Contains(st.Message(), "NUL") {
		t.Errorf("status = %v, fields %v; want INVALID_ARGUMENT naming user_id for its NUL", st, fieldsOf(st))
	}
}

// rawCodec sends bytes as they are: the proto codec refuses to marshal a string that is not UTF-8.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)      { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error { *(v.(*[]byte)) = data; return nil }
func (rawCodec) Name() string                       { return "proto" }

func TestAStringThatIsNotUTF8IsInvalidArgumentNamingTheFieldNotInternal(t *testing.T) {
	inst := start(t, &behaviour{forUser: ok}, nil, time.Second)
	request := append([]byte{1<<3 | 2, 3}, 0xed, 0xa0, 0x80) // user_id: a lone surrogate's bytes
	var answer []byte
	err := inst.conn.Invoke(context.Background(), "/vidmesh.recommendations.v1.RecommendationService/ListForUser",
		request, &answer, grpc.ForceCodec(rawCodec{}))
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument || strings.Join(fieldsOf(st), ",") != "user_id" {
		t.Errorf("status = %v, fields %v; want INVALID_ARGUMENT naming user_id", st, fieldsOf(st))
	}
}

func TestAStreamMessageThatIsNotUTF8EndsTheStreamInvalidArgumentHealthIncluded(t *testing.T) {
	inst := start(t, &behaviour{forUser: ok}, nil, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := inst.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/grpc.health.v1.Health/Watch",
		grpc.ForceCodec(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.SendMsg(append([]byte{1<<3 | 2, 3}, 0xed, 0xa0, 0x80)); err != nil { // service: not UTF-8
		t.Fatal(err)
	}
	_ = stream.CloseSend()
	var answer []byte
	st := status.Convert(stream.RecvMsg(&answer))
	if st.Code() != codes.InvalidArgument || strings.Join(fieldsOf(st), ",") != "service" {
		t.Errorf("status = %v, fields %v; want INVALID_ARGUMENT naming service", st, fieldsOf(st))
	}
}

func TestABugIsInternalWithTheCallersTraceIDAndTheLogLineCarriesIt(t *testing.T) {
	inst := start(t, &behaviour{forUser: func(context.Context) error { panic("bug") }}, nil, time.Second)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "traceparent", traceparent)
	_, err := inst.client.ListForUser(ctx, &recommendationsv1.ListForUserRequest{UserId: validID})
	st := status.Convert(err)
	if st.Code() != codes.Internal || st.Message() != "internal error (trace_id 4bf92f3577b34da6a3ce929d0e0e4736)" {
		t.Errorf("status = %v", st)
	}
	eventually(t, time.Second, "the access log line", func() bool {
		return strings.Contains(inst.logs.String(), `"event":"rpc"`)
	})
	for _, line := range strings.Split(strings.TrimSpace(inst.logs.String()), "\n") {
		if strings.Contains(line, `"event":"rpc"`) &&
			(!strings.Contains(line, `"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"`) || !strings.Contains(line, `"code":"INTERNAL"`)) {
			t.Errorf("access log line = %s", line)
		}
	}
}

func TestTheDatabaseOutOfReachIsUnavailableNotInternal(t *testing.T) {
	away := []error{
		&pgconn.PgError{Code: "57014", Message: "canceling statement due to statement timeout"},
		fmt.Errorf("reading the card: %w", &pgconn.PgError{Code: "08006", Message: "connection failure"}),
		&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"},
	}
	for _, cause := range away {
		inst := start(t, &behaviour{forUser: func(context.Context) error { return cause }}, nil, time.Second)
		_, err := inst.client.ListForUser(context.Background(), &recommendationsv1.ListForUserRequest{UserId: validID})
		if st := status.Convert(err); st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "database") {
			t.Errorf("%v: status = %v", cause, st)
		}
	}
	// A query that is wrong is a bug, whatever library it comes from.
	inst := start(t, &behaviour{forUser: func(context.Context) error {
		return &pgconn.PgError{Code: "42703", Message: "column does not exist"}
	}}, nil, time.Second)
	_, err := inst.client.ListForUser(context.Background(), &recommendationsv1.ListForUserRequest{UserId: validID})
	if st := status.Convert(err); st.Code() != codes.Internal {
		t.Errorf("undefined column: status = %v", st)
	}
}

func TestDeadlinesAreHonouredAndCapped(t *testing.T) {
	waits := &behaviour{forUser: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	inst := start(t, waits, nil, 300*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := inst.client.ListForUser(ctx, &recommendationsv1.ListForUserRequest{UserId: validID})
	if took := time.Since(began); status.Code(err) != codes.DeadlineExceeded || took > 250*time.Millisecond {
		t.Errorf("with a 100 ms deadline: %v after %v", err, took)
	}
	// No client deadline: the server's cap ends the call.
	_, err = inst.client.ListForUser(context.Background(), &recommendationsv1.ListForUserRequest{UserId: validID})
	if st := status.Convert(err); st.Code() != codes.DeadlineExceeded || !strings.Contains(st.Message(), "no answer within") {
		t.Errorf("without a deadline: %v", st)
	}
	// The client cancels the stream when its deadline passes, which the server may see first.
	eventually(t, time.Second, "both calls logged as cut short", func() bool {
		logs := inst.logs.String()
		return strings.Count(logs, `"code":"DEADLINE_EXCEEDED"`)+strings.Count(logs, `"code":"CANCELLED"`) >= 2
	})
}

func TestTheRegisteredMetricsPortServesTheCallsCountedByCodeAndTheWorkers(t *testing.T) {
	inst := start(t, &behaviour{forUser: ok}, nil, time.Second)
	eventually(t, 2*time.Second, "SERVING", func() bool { return inst.status(t, "") == healthpb.HealthCheckResponse_SERVING })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := inst.client.ListForUser(ctx, &recommendationsv1.ListForUserRequest{UserId: validID}); err != nil {
		t.Fatal(err)
	}
	_, _ = inst.client.ListForUser(ctx, &recommendationsv1.ListForUserRequest{UserId: "nope"})
	port := inst.registered(t).MetricsPort
	if port == 0 {
		t.Fatal("no metrics_port in the registration")
	}
	body := scrape(t, port)
	labels := `grpc_method="ListForUser",grpc_service="vidmesh.recommendations.v1.RecommendationService",grpc_type="unary"`
	for _, line := range []string{
		`grpc_server_handled_total{grpc_code="OK",` + labels + `} 1`,
		`grpc_server_handled_total{grpc_code="InvalidArgument",` + labels + `} 1`,
		`grpc_server_handling_seconds_count{` + labels + `} 2`,
		`grpc_server_handling_seconds_bucket{` + labels + `,le="0.001"}`, // Python's buckets
		`vidmesh_worker_up{worker="probe"} 1`,
		`vidmesh_worker_crashes_total{worker="probe"} 0`,
	} {
		if !strings.Contains(body, line) {
			t.Errorf("/metrics has no line %s", line)
		}
	}
	if strings.Contains(body, `grpc_service="grpc.health.v1.Health"`) {
		t.Error("health checks are counted; Consul's probes would drown the RPC rate")
	}
}

// registered is the one registration the fake Consul holds.
func (i *instance) registered(t *testing.T) registry.Registration {
	t.Helper()
	i.registry.mu.Lock()
	defer i.registry.mu.Unlock()
	for _, r := range i.registry.known {
		return r
	}
	t.Fatal("not registered")
	return registry.Registration{}
}

func scrape(t *testing.T, port int) string {
	t.Helper()
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(body)
}

func TestEachCallIsAServerSpanInTheCallersTraceFailedOnlyWhenTheServerFailed(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	t.Cleanup(tracing.Use(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))))
	var fail atomic.Bool
	inst := start(t, &behaviour{forUser: func(context.Context) error {
		if fail.Load() {
			return errors.New("a bug")
		}
		return nil
	}}, nil, time.Second)
	eventually(t, 2*time.Second, "SERVING", func() bool { return inst.status(t, "") == healthpb.HealthCheckResponse_SERVING })
	ctx := metadata.AppendToOutgoingContext(context.Background(), "traceparent", traceparent)
	_, _ = inst.client.ListForUser(ctx, &recommendationsv1.ListForUserRequest{UserId: validID})
	_, _ = inst.client.ListForUser(ctx, &recommendationsv1.ListForUserRequest{UserId: "nope"})
	fail.Store(true)
	_, _ = inst.client.ListForUser(ctx, &recommendationsv1.ListForUserRequest{UserId: validID})
	spans := recorder.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want one per ListForUser call and none for health", len(spans))
	}
	for i, want := range []codes.Code{codes.OK, codes.InvalidArgument, codes.Internal} {
		span := spans[i]
		failed := span.Status().Code == otelcodes.Error
		if span.Name() != "vidmesh.recommendations.v1.RecommendationService/ListForUser" ||
			span.SpanKind() != trace.SpanKindServer || span.Parent().SpanID().String() != "00f067aa0ba902b7" ||
			span.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" ||
			failed != (want == codes.Internal) {
			t.Errorf("span of the %v call: %s kind %v parent %s status %v", want, span.Name(), span.SpanKind(),
				span.Parent().SpanID(), span.Status())
		}
	}
	if events := spans[2].Events(); len(events) != 1 || events[0].Name != "exception" {
		t.Errorf("the bug's span has events %v, want the error recorded", events)
	}
	wantLine := `"span_id":"` + spans[0].SpanContext().SpanID().String() + `"`
	eventually(t, time.Second, "the first call's log line names its span", func() bool {
		return strings.Contains(inst.logs.String(), wantLine)
	})
}
