// Package meshtest helps the integration tests of Go services and of gomesh itself: the
// running stack's addresses from the same VIDMESH_* variables the services read, Kafka
// topics of a test's own, envelopes as a producer writes them, and bounded polling.
package meshtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "vidmesh/gen/go/vidmesh/events/v1"
	"vidmesh/gomesh/events"
)

// Require is the value of a variable the test cannot run without; the test fails naming it
// (make test sets them from settings.env; see scripts/golang.py).
func Require(t testing.TB, name string) string {
	t.Helper()
	value := os.Getenv(name)
	if value == "" {
		t.Fatalf("%s is not set: run the integration tests through `make test` (or scripts/golang.py)", name)
	}
	return value
}

// Tag is a short random name part, so parallel or repeated runs never share topics.
func Tag() string {
	buf := make([]byte, 4)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

// NewID is a random UUID, as aggregate and event ids are.
func NewID() string { return uuid.NewString() }

// Topics creates topics of the test's own (3 partitions, like the event topics) and
// deletes them, with extra ones the test caused (e.g. a DLQ), when the test ends.
func Topics(t testing.TB, bootstrap string, names []string, alsoDelete ...string) *kgo.Client {
	t.Helper()
	client, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	admin := kadm.NewClient(client)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := admin.CreateTopics(ctx, 3, 1, nil, names...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_, _ = admin.DeleteTopics(ctx, append(append([]string{}, names...), alsoDelete...)...)
		client.Close()
	})
	return client
}

// Envelope wraps payload as a vidmesh producer does, keyed by aggregateID.
func Envelope(t testing.TB, payload proto.Message, aggregateID string, version int64) *eventsv1.EventEnvelope {
	t.Helper()
	data, err := anypb.New(payload)
	if err != nil {
		t.Fatal(err)
	}
	return &eventsv1.EventEnvelope{Id: NewID(), Source: "/vidmesh/meshtest", Type: events.TypeName(payload),
		Subject: "test/" + aggregateID, Time: timestamppb.Now(), SpecVersion: "1.0", Data: data,
		AggregateId: aggregateID, AggregateVersion: version, DataContentType: "application/protobuf"}
}

// Produce sends records and waits until Kafka has them.
func Produce(t testing.TB, client *kgo.Client, records ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := client.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// Record is an envelope as a Kafka record of topic, keyed by its aggregate.
func Record(t testing.TB, topic string, env *eventsv1.EventEnvelope) *kgo.Record {
	t.Helper()
	value, err := proto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: topic, Key: []byte(env.GetAggregateId()), Value: value}
}

// ReadAll reads topic from its start until want records arrived or the bound passes.
func ReadAll(t testing.TB, bootstrap, topic string, want int, bound time.Duration) []*kgo.Record {
	t.Helper()
	client, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	var found []*kgo.Record
	for len(found) < want && ctx.Err() == nil {
		found = append(found, client.PollFetches(ctx).Records()...)
	}
	return found
}

// Eventually polls cond every 50 ms until it holds, failing with what after bound.
func Eventually(t testing.TB, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", bound, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Header is the value of a record header ("" when absent).
func Header(record *kgo.Record, key string) string {
	for _, h := range record.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
