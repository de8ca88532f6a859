//go:build integration

package consumer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	eventsv1 "vidmesh/gen/go/vidmesh/events/v1"
	videov1 "vidmesh/gen/go/vidmesh/video/v1"
	"vidmesh/gomesh/consumer"
	"vidmesh/gomesh/db"
	"vidmesh/gomesh/events"
	"vidmesh/gomesh/kafka"
	"vidmesh/gomesh/meshtest"
	"vidmesh/gomesh/migrate"
)

func TestAHandlerThatKeepsFailingIsDeadLetteredAfterItsAttemptsAndOthersGoOn(t *testing.T) {
	bootstrap := meshtest.Require(t, "VIDMESH_KAFKA_BOOTSTRAP")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool, err := db.Open(ctx, meshtest.Require(t, "VIDMESH_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := migrate.Apply(ctx, pool); err != nil { // the inbox
		t.Fatal(err)
	}
	tag := meshtest.Tag()
	topic, group := "it.gomesh."+tag+".events", "it-gomesh-"+tag
	producer := meshtest.Topics(t, bootstrap, []string{topic}, kafka.DLQTopic(group))
	failing, fine := meshtest.NewID(), meshtest.NewID()
	handled := make(chan string, 10)
	handler := func(_ context.Context, _ pgx.Tx, _ *eventsv1.EventEnvelope, payload proto.Message) error {
		id := payload.(*videov1.VideoViewed).GetVideoId()
		if id == failing {
			return errors.New("this event always breaks the handler")
		}
		handled <- id
		return nil
	}
	c, err := consumer.New(consumer.Options{Pool: pool, Bootstrap: bootstrap, Group: group, Topics: []string{topic},
		Handlers:    map[string]consumer.Handler{events.TypeName(&videov1.VideoViewed{}): handler},
		MaxAttempts: 3, RetryBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for _, video := range []string{failing, fine} { // one key: the fine one waits behind the failing one
		env := meshtest.Envelope(t, &videov1.VideoViewed{VideoId: video, OwnerId: meshtest.NewID(), Version: 1}, failing, 1)
		meshtest.Produce(t, producer, meshtest.Record(t, topic, env))
	}
	select {
	case id := <-handled:
		if id != fine {
			t.Errorf("handled %s, want the fine event", id)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the event after the failing one was never handled")
	}
	dead := meshtest.ReadAll(t, bootstrap, kafka.DLQTopic(group), 1, 20*time.Second)
	if len(dead) != 1 || meshtest.Header(dead[0], "dlq.attempts") != "3" ||
		meshtest.Header(dead[0], "dlq.error") != "this event always breaks the handler" {
		t.Fatalf("dead letters = %v", dead)
	}
	// The handler has run; the fine event counts as applied once its transaction committed.
	meshtest.Eventually(t, 5*time.Second, "one dead-lettered and one applied", func() bool {
		counts := c.Counts()
		return counts.DeadLettered == 1 && counts.Applied == 1
	})
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestWhatIsAppliedIsCommittedWithinASecondAndBeforeTheConsumerCloses(t *testing.T) {
	bootstrap := meshtest.Require(t, "VIDMESH_KAFKA_BOOTSTRAP")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool, err := db.Open(ctx, meshtest.Require(t, "VIDMESH_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := migrate.Apply(ctx, pool); err != nil { // the inbox
		t.Fatal(err)
	}
	tag := meshtest.Tag()
	topic, group := "it.gomesh."+tag+".commits", "it-gomesh-commits-"+tag
	producer := meshtest.Topics(t, bootstrap, []string{topic}, kafka.DLQTopic(group))
	produce := func(n int) {
		for range n {
			env := meshtest.Envelope(t, &videov1.VideoViewed{VideoId: meshtest.NewID(), OwnerId: meshtest.NewID(), Version: 1},
				meshtest.NewID(), 1)
			meshtest.Produce(t, producer, meshtest.Record(t, topic, env))
		}
	}
	applied := func(context.Context, pgx.Tx, *eventsv1.EventEnvelope, proto.Message) error { return nil }
	c, err := consumer.New(consumer.Options{Pool: pool, Bootstrap: bootstrap, Group: group, Topics: []string{topic},
		Handlers: map[string]consumer.Handler{events.TypeName(&videov1.VideoViewed{}): applied}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	produce(10)
	// While it runs, the marks are committed in the background, soon.
	meshtest.Eventually(t, 20*time.Second, "the first 10 committed", func() bool {
		return committed(t, producer, group, topic) == 10
	})
	produce(5)
	meshtest.Eventually(t, 20*time.Second, "15 applied", func() bool { return c.Counts().Applied == 15 })
	cancel() // well inside the commit interval
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if got := committed(t, producer, group, topic); got != 15 {
		t.Fatalf("committed past %d records when the consumer stopped, want 15", got)
	}
}

// committed is how many records of topic the group has committed past (-1: not known yet).
func committed(t *testing.T, client *kgo.Client, group, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offsets, err := kadm.NewClient(client).FetchOffsets(ctx, group)
	if err != nil {
		return -1 // e.g. the group coordinator is still loading: asked again within the bound
	}
	var past int64
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			past += o.At
		}
	})
	return past
}
