//go:build integration

// The recommendations service hosted in-process on port 0, against the stack's real
// Postgres (its own database and role) and Kafka, with topics (VIDMESH_TOPIC_PREFIX) and a
// service name, hence consumer group, of the test's own, unregistered, so the shared
// stack's recommendations instance never sees these events.
package app_test

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	otelcodes "go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "vidmesh/gen/go/vidmesh/events/v1"
	recommendationsv1 "vidmesh/gen/go/vidmesh/recommendations/v1"
	usersv1 "vidmesh/gen/go/vidmesh/users/v1"
	"vidmesh/gen/go/vidmesh/topology"
	videov1 "vidmesh/gen/go/vidmesh/video/v1"
	"vidmesh/gomesh/config"
	"vidmesh/gomesh/consumer"
	"vidmesh/gomesh/db"
	"vidmesh/gomesh/kafka"
	"vidmesh/gomesh/meshtest"
	"vidmesh/gomesh/metrics"
	"vidmesh/gomesh/tracing"
	"vidmesh/services/recommendations/app"
)

const bound = 20 * time.Second

// world is one hosted instance plus a producer on its topics.
type world struct {
	t         *testing.T
	cfg       config.Config
	topics    []string
	producer  *kgo.Client
	versions  map[string]int64
	owner     string
	consumer  atomic.Pointer[consumer.Consumer]
	metrics   atomic.Pointer[metrics.Metrics]
	client    recommendationsv1.RecommendationServiceClient
	stop      context.CancelFunc
	stopped   chan struct{}
	published []*eventsv1.EventEnvelope
}

func newWorld(t *testing.T) *world {
	tag := meshtest.Tag()
	cfg, err := config.Load(config.FromMap(map[string]string{
		"VIDMESH_SERVICE_NAME":    "it-recommendations-" + tag,
		"VIDMESH_TOPIC_PREFIX":    "it." + tag + ".",
		"VIDMESH_CONSUL_REGISTER": "false",
		"VIDMESH_MTLS":            "false", // the stack's instance serves mutual TLS (tests/integration/identity)
		"VIDMESH_DATABASE_URL":    meshtest.Require(t, "VIDMESH_DATABASE_URL"),
		"VIDMESH_KAFKA_BOOTSTRAP": meshtest.Require(t, "VIDMESH_KAFKA_BOOTSTRAP"),
		"VIDMESH_DRAIN_SECONDS":   "0",
	}), "recommendations")
	if err != nil {
		t.Fatal(err)
	}
	topics := []string{cfg.Topic(topology.VideoEvents), cfg.Topic(topology.UsersEvents)}
	producer := meshtest.Topics(t, cfg.KafkaBootstrap, topics, kafka.DLQTopic(cfg.ServiceName))
	w := &world{t: t, cfg: cfg, topics: topics, producer: producer, versions: map[string]int64{}, owner: meshtest.NewID()}
	w.start()
	t.Cleanup(w.halt)
	return w
}

func (w *world) start() {
	ports := make(chan int, 1)
	ctx, stop := context.WithCancel(context.Background())
	w.stop, w.stopped = stop, make(chan struct{})
	go func() {
		defer close(w.stopped)
		err := app.Run(ctx, w.cfg, app.Hooks{OnListening: func(p int) { ports <- p },
			OnConsumer: func(c *consumer.Consumer) { w.consumer.Store(c) },
			OnMetrics:  func(m *metrics.Metrics) { w.metrics.Store(m) }})
		if err != nil {
			w.t.Errorf("app.Run: %v", err)
			close(ports)
		}
	}()
	port := <-ports
	conn, err := grpc.NewClient(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = conn.Close() })
	w.client = recommendationsv1.NewRecommendationServiceClient(conn)
}

func (w *world) halt() {
	w.stop()
	<-w.stopped
}

func (w *world) send(payload proto.Message, aggregate string, version int64) *eventsv1.EventEnvelope {
	env := meshtest.Envelope(w.t, payload, aggregate, version)
	topic := w.topics[0]
	if _, ok := payload.(*usersv1.UserFollowed); ok {
		topic = w.topics[1]
	}
	meshtest.Produce(w.t, w.producer, meshtest.Record(w.t, topic, env))
	w.published = append(w.published, env)
	return env
}

func (w *world) next(video string) int64 { w.versions[video]++; return w.versions[video] }

func (w *world) publish(videos ...string) {
	for _, video := range videos {
		w.send(&videov1.VideoCreated{VideoId: video, OwnerId: w.owner, Version: w.next(video),
			CreateTime: timestamppb.Now()}, video, w.versions[video])
		w.send(&videov1.VideoPublished{VideoId: video, OwnerId: w.owner, Version: w.next(video),
			PublishTime: timestamppb.Now()}, video, w.versions[video])
	}
}

func (w *world) like(user string, videos ...string) *eventsv1.EventEnvelope {
	var last *eventsv1.EventEnvelope
	for _, video := range videos {
		version := w.next(video)
		last = w.send(&videov1.VideoLiked{VideoId: video, OwnerId: w.owner, Version: version, UserId: user,
			LikeCount: 1}, video, version)
	}
	return last
}

type entry struct {
	id    string
	score int64
}

func (w *world) related(video string) []entry {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := w.client.ListRelatedVideos(ctx, &recommendationsv1.ListRelatedVideosRequest{VideoId: video})
	if err != nil {
		w.t.Fatalf("ListRelatedVideos: %v", err)
	}
	out := []entry{}
	for _, v := range resp.GetVideos() {
		out = append(out, entry{v.GetVideoId(), v.GetScore()})
	}
	return out
}

func (w *world) waitRelated(video string, want []entry) {
	w.t.Helper()
	var got []entry
	meshtest.Eventually(w.t, bound, fmt.Sprintf("related(%s) = %v, got %v", video, want, &got), func() bool {
		got = w.related(video)
		return reflect.DeepEqual(got, want)
	})
}

// assertOneGroupMember fails when anything but the one consumer joined the service's group
// (a second member would hold partitions nobody reads).
func (w *world) assertOneGroupMember() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	described, err := kadm.NewClient(w.producer).DescribeGroups(ctx, w.cfg.ServiceName)
	if err != nil {
		w.t.Fatal(err)
	}
	if members := len(described[w.cfg.ServiceName].Members); members != 1 {
		w.t.Errorf("group %s has %d members, want the consumer alone", w.cfg.ServiceName, members)
	}
}

func (w *world) counts() consumer.Counts { return w.consumer.Load().Counts() }

// waitAllSeen waits until the consumer has handled every record sent so far.
func (w *world) waitAllSeen() {
	w.t.Helper()
	meshtest.Eventually(w.t, bound, fmt.Sprintf("all %d records handled", len(w.published)), func() bool {
		c := w.counts()
		return c.Applied+c.Duplicate+c.Skipped+c.DeadLettered == int64(len(w.published))
	})
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = meshtest.NewID()
	}
	return out
}

func TestCoLikedVideosComeMostCoLikedFirstAndSurviveARestart(t *testing.T) {
	w := newWorld(t)
	v := ids(4)
	users := ids(3)
	w.publish(v...)
	w.like(users[0], v[0], v[1], v[2])
	w.like(users[1], v[0], v[2])
	w.like(users[2], v[3])
	want := []entry{{v[2], 2}, {v[1], 1}}
	w.waitRelated(v[0], want)
	w.assertOneGroupMember()
	// v[0]'s answer can be right before v[3]'s events are read: a halt then would leave them
	// for the restarted consumer, which would rightly apply them and spoil the count below.
	w.waitAllSeen()

	w.halt()
	w.start() // the same group: offsets were committed after the inbox
	if got := w.related(v[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("after a restart related = %v, want %v", got, want)
	}
	w.like(users[2], v[0])
	// v[1] and v[3] tie on co-likes and likes: the newer one comes first.
	w.waitRelated(v[0], []entry{{v[2], 2}, {v[3], 1}, {v[1], 1}})
	if counts := w.counts(); counts.Applied != 1 || counts.Duplicate != 0 {
		t.Errorf("after the restart the consumer saw %+v; want only the new like applied", counts)
	}
}

func TestAReplayedEventChangesNoCount(t *testing.T) {
	w := newWorld(t)
	v, user := ids(2), meshtest.NewID()
	w.publish(v...)
	w.like(user, v[0])
	liked := w.like(user, v[1])
	w.waitRelated(v[0], []entry{{v[1], 1}})
	applied := w.counts().Applied
	// The same envelope again (a redelivery), and the same change under a new event id.
	meshtest.Produce(t, w.producer, meshtest.Record(t, w.topics[0], liked))
	again := proto.Clone(liked).(*eventsv1.EventEnvelope)
	again.Id = meshtest.NewID()
	meshtest.Produce(t, w.producer, meshtest.Record(t, w.topics[0], again))
	meshtest.Eventually(t, bound, "both replays consumed", func() bool {
		c := w.counts()
		return c.Duplicate == 1 && c.Applied == applied+1
	})
	if got := w.related(v[0]); !reflect.DeepEqual(got, []entry{{v[1], 1}}) {
		t.Errorf("after the replays related = %v, want the count still 1", got)
	}
}

func TestAPoisonMessageIsDeadLetteredAndTheServiceKeepsGoing(t *testing.T) {
	w := newWorld(t)
	v, user := ids(2), meshtest.NewID()
	w.publish(v...)
	poison := &kgo.Record{Topic: w.topics[0], Key: []byte(v[0]), Value: []byte("not an envelope")}
	meshtest.Produce(t, w.producer, poison)
	w.like(user, v[0], v[1])
	w.waitRelated(v[0], []entry{{v[1], 1}})

	dead := meshtest.ReadAll(t, w.cfg.KafkaBootstrap, kafka.DLQTopic(w.cfg.ServiceName), 1, bound)
	if len(dead) != 1 {
		t.Fatalf("%s holds %d records, want the poison message", kafka.DLQTopic(w.cfg.ServiceName), len(dead))
	}
	record := dead[0]
	headers := map[string]string{"dlq.error.type": "EventError", "dlq.attempts": "0",
		"dlq.topic": w.topics[0], "dlq.group": w.cfg.ServiceName}
	for key, want := range headers {
		if got := meshtest.Header(record, key); got != want {
			t.Errorf("header %s = %q, want %q", key, got, want)
		}
	}
	if string(record.Value) != "not an envelope" || meshtest.Header(record, "dlq.offset") == "" {
		t.Errorf("dead letter = %q with headers %v", record.Value, record.Headers)
	}
	group := w.cfg.ServiceName
	meshtest.Eventually(t, bound, "the consumer series at a scrape", func() bool {
		return w.metric("vidmesh_dead_letter_records", "group", group, "topic", kafka.DLQTopic(group)) == 1 &&
			w.metric("vidmesh_consumer_events_total", "group", group, "outcome", "dead_lettered") == 1 &&
			w.metric("vidmesh_consumer_events_total", "group", group, "outcome", "applied") == 6 &&
			w.metric("vidmesh_consumer_lag_records", "group", group, "topic", w.topics[0]) == 0 &&
			w.metric("vidmesh_consumer_lag_seconds", "group", group) == 0
	})
	if size := w.metric("vidmesh_db_pool_max", "pool", group); size != 10 {
		t.Errorf("vidmesh_db_pool_max = %v, want the pool's 10", size)
	}
}

// metric is the sum of the series with these labels at a scrape of the service's registry
// (-1: there is none).
func (w *world) metric(name string, labels ...string) float64 {
	families, err := w.metrics.Load().Registry.Gather()
	if err != nil {
		w.t.Fatal(err)
	}
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
		sum, found := 0.0, false
		for _, series := range family.GetMetric() {
			if hasLabels(series.GetLabel(), labels) {
				sum, found = sum+series.GetGauge().GetValue()+series.GetCounter().GetValue(), true
			}
		}
		if found {
			return sum
		}
	}
	return -1
}

func hasLabels(have []*dto.LabelPair, want []string) bool {
	found := map[string]string{}
	for _, pair := range have {
		found[pair.GetName()] = pair.GetValue()
	}
	for i := 0; i+1 < len(want); i += 2 {
		if found[want[i]] != want[i+1] {
			return false
		}
	}
	return true
}

func TestForUserListsCoLikedThenFollowedChannelsNeverWhatTheUserLikes(t *testing.T) {
	w := newWorld(t)
	v, me, other := ids(3), meshtest.NewID(), meshtest.NewID()
	w.publish(v...)
	w.like(me, v[0])
	w.like(other, v[0], v[1])
	w.send(&usersv1.UserFollowed{FollowerId: me, ChannelId: w.owner, FollowerCount: 1}, w.owner, 0)
	want := []string{v[1], v[2]} // v[1] co-liked; v[2] from the followed channel; v[0] liked
	meshtest.Eventually(t, bound, fmt.Sprintf("forUser = %v", want), func() bool {
		resp, err := w.client.ListForUser(context.Background(), &recommendationsv1.ListForUserRequest{UserId: me})
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, video := range resp.GetVideos() {
			got = append(got, video.GetVideoId())
		}
		return reflect.DeepEqual(got, want) &&
			resp.GetVideos()[0].GetReason() == recommendationsv1.Reason_REASON_CO_LIKED &&
			resp.GetVideos()[1].GetReason() == recommendationsv1.Reason_REASON_FOLLOWED_CHANNEL
	})
}

func TestEachRecordIsProcessedInAConsumerSpanUnderTheWriteThatCausedIt(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	t.Cleanup(tracing.Use(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))))
	w := newWorld(t)
	v, user := ids(2), meshtest.NewID()
	w.publish(v...)
	const write = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" // the outbox write's span
	liked := meshtest.Envelope(t, &videov1.VideoLiked{VideoId: v[0], OwnerId: w.owner, Version: w.next(v[0]),
		UserId: user, LikeCount: 1}, v[0], w.versions[v[0]])
	liked.Traceparent = write
	meshtest.Produce(t, w.producer, meshtest.Record(t, w.topics[0], liked),
		&kgo.Record{Topic: w.topics[0], Key: []byte(v[1]), Value: []byte("not an envelope")})
	var processed, poison sdktrace.ReadOnlySpan
	meshtest.Eventually(t, bound, "the like's and the poison message's spans", func() bool {
		for _, span := range recorder.Ended() {
			switch span.Name() {
			case "process VideoLiked":
				processed = span
			case "process " + w.topics[0]:
				poison = span
			}
		}
		return processed != nil && poison != nil
	})
	if processed.SpanKind() != trace.SpanKindConsumer || processed.Parent().SpanID().String() != "00f067aa0ba902b7" ||
		processed.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		processed.Status().Code == otelcodes.Error || !hasAttribute(processed, "vidmesh.outcome", "applied") {
		t.Errorf("the like's span: kind %v, parent %s in trace %s, status %v, attributes %v", processed.SpanKind(),
			processed.Parent().SpanID(), processed.SpanContext().TraceID(), processed.Status(), processed.Attributes())
	}
	if poison.Parent().IsValid() || poison.Status().Code != otelcodes.Error ||
		!hasAttribute(poison, "vidmesh.outcome", "dead_lettered") {
		t.Errorf("the poison message's span: parent %v, status %v", poison.Parent().SpanID(), poison.Status())
	}
	statements := map[string]bool{}
	for _, span := range recorder.Ended() {
		if span.Parent().SpanID() == processed.SpanContext().SpanID() && span.SpanKind() == trace.SpanKindClient {
			statements[span.Name()] = true
		}
	}
	if !statements["BEGIN"] || !statements["INSERT"] || !statements["COMMIT"] { // the inbox row's transaction
		t.Errorf("statements under the like's span: %v, want its transaction's", statements)
	}
}

func TestStatementsOutsideACallOrAnEventRecordNothing(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	t.Cleanup(tracing.Use(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))))
	pool, err := db.Open(context.Background(), meshtest.Require(t, "VIDMESH_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.Ping(pool)(ctx); err != nil { // the readiness check's statement
		t.Fatal(err)
	}
	if spans := recorder.Ended(); len(spans) != 0 {
		t.Errorf("a ping outside any span recorded %d spans (%s first)", len(spans), spans[0].Name())
	}
}

func hasAttribute(span sdktrace.ReadOnlySpan, key, value string) bool {
	for _, kv := range span.Attributes() {
		if string(kv.Key) == key && kv.Value.AsString() == value {
			return true
		}
	}
	return false
}
