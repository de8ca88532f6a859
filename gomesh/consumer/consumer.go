// Package consumer is the idempotent Kafka consumer: each event's effect is applied once,
// however often it arrives. It keeps mesh/consumer.py's guarantees and its dead-letter
// headers, so one runbook serves consumers in either language:
//
//   - for each record, one transaction inserts (group, event id) into the inbox and runs
//     the handler; a conflict on the inbox key means "already applied" and is skipped;
//   - offsets are marked only after that transaction and committed from the marks (every
//     second, on revoke, before closing), so a crash in between means a redelivery, which
//     the inbox absorbs;
//   - a handler that keeps failing (bounded attempts with exponential backoff) or a record
//     that cannot be parsed goes to "<group>.dlq" with the error and where it came from in
//     its headers, and the consumer moves on;
//   - Postgres being unreachable is not the record's fault: retried without limit, never
//     dead-lettered;
//   - event types without a handler are skipped (a topic carries more than one needs).
package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	eventsv1 "vidmesh/gen/go/vidmesh/events/v1"
	"vidmesh/gomesh/kafka"
)

// Handler applies one event inside the consumer's transaction; it must not commit.
type Handler func(ctx context.Context, tx pgx.Tx, env *eventsv1.EventEnvelope, payload proto.Message) error

// Options configure a consumer; the zero retry settings take mesh/consumer.py's values.
type Options struct {
	Pool         *pgxpool.Pool
	Bootstrap    string
	Group        string
	Topics       []string
	Handlers     map[string]Handler // full message name (events.TypeName) -> handler
	MaxAttempts  int                // 5
	RetryBackoff time.Duration      // 200 ms, doubled per attempt
	MaxBackoff   time.Duration      // 10 s
	BatchSize    int                // 100
	Prompt       bool               // a reader waits for its effects: fetch each record at once
}

// Counts are what happened to the records seen so far.
type Counts struct{ Applied, Duplicate, Skipped, DeadLettered int64 }

// Consumer consumes its topics for one group.
type Consumer struct {
	opts     Options
	client   *kgo.Client
	live     atomic.Pointer[kgo.Client] // the client while Run runs, for /metrics' questions
	counts   struct{ applied, duplicate, skipped, deadLettered atomic.Int64 }
	progress *Progress
}

const insertInbox = `INSERT INTO inbox (consumer_group, event_id, event_type, topic, kafka_partition, kafka_offset)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`

var errDuplicate = errors.New("event already applied by this group")

// New makes a consumer; Run connects and does the work (again after a crash).
func New(opts Options) (*Consumer, error) {
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 5
	}
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = 200 * time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 100
	}
	// No client yet: a group client joins its group as soon as it exists (and would hold
	// partitions it never reads), so Run makes one each time it starts.
	if opts.Group == "" || len(opts.Topics) == 0 {
		return nil, fmt.Errorf("a consumer needs a group and topics (group %q, topics %v)", opts.Group, opts.Topics)
	}
	return &Consumer{opts: opts, progress: newProgress()}, nil
}

// Group is the consumer group (the service's name).
func (c *Consumer) Group() string { return c.opts.Group }

// Progress is how far behind the consumer is (gomesh/metrics reads it at every scrape).
func (c *Consumer) Progress() *Progress { return c.progress }

// DLQ is this group's dead-letter topic.
func (c *Consumer) DLQ() string { return kafka.DLQTopic(c.opts.Group) }

// Counts is a snapshot of what happened so far.
func (c *Consumer) Counts() Counts {
	return Counts{c.counts.applied.Load(), c.counts.duplicate.Load(), c.counts.skipped.Load(),
		c.counts.deadLettered.Load()}
}

// Run consumes until ctx ends, then leaves the group; it creates the dead-letter topic
// first, waiting for Kafka if it is down. A record cut off by the end is redelivered later.
func (c *Consumer) Run(ctx context.Context) error {
	opts := append(kafka.ConsumerOptions(c.opts.Bootstrap, c.opts.Group, c.opts.Prompt, c.opts.Topics...),
		kgo.OnPartitionsRevoked(c.revoked), kgo.OnPartitionsLost(c.released))
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client for group %s: %w", c.opts.Group, err)
	}
	c.client = client
	c.live.Store(client)
	defer c.live.Store(nil)
	defer client.Close() // leaves the group now, not after the session timeout
	if err := c.ensureDLQ(ctx); err != nil {
		return nil // stopped while waiting for Kafka
	}
	slog.InfoContext(ctx, "consumer started", "group", c.opts.Group, "topics", c.opts.Topics)
	for ctx.Err() == nil {
		fetches := c.client.PollRecords(ctx, c.opts.BatchSize)
		fetches.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.Canceled) {
				slog.WarnContext(ctx, "kafka fetch error", "topic", topic, "partition", partition, "error", err.Error())
			}
		})
		c.noteFetched(fetches)
		done := c.handleAll(ctx, fetches.Records())
		c.commit(done)
		c.client.AllowRebalance()
	}
	c.commitMarked(client) // what the last batches applied, before Close leaves the group
	return nil
}

func (c *Consumer) ensureDLQ(ctx context.Context) error {
	for failures := 1; ; failures++ {
		err := kafka.EnsureTopics(ctx, c.client, map[string]int32{c.DLQ(): kafka.DLQPartitions})
		if err == nil {
			return nil
		}
		slog.WarnContext(ctx, "cannot create the dead-letter topic yet", "dlq", c.DLQ(), "error", err.Error())
		if err := c.pause(ctx, failures); err != nil {
			return err
		}
	}
}

// handleAll applies records in order and returns those finished (applied, skipped,
// duplicate or dead-lettered); it stops at the first one cut off by ctx.
func (c *Consumer) handleAll(ctx context.Context, records []*kgo.Record) []*kgo.Record {
	done := make([]*kgo.Record, 0, len(records))
	for _, record := range records {
		eventTime, err := c.handle(ctx, record)
		if err != nil {
			break
		}
		c.progress.done(Partition{record.Topic, record.Partition}, record.Offset, eventTime)
		done = append(done, record)
	}
	return done
}

func (c *Consumer) commit(done []*kgo.Record) {
	// Marked, not committed: the client commits the marks in the background (kafka.CommitInterval).
	c.client.MarkCommitRecords(done...)
}

// commitMarked commits what is marked now: before partitions move away or the client closes.
// Not the run's ctx: what was applied before a stop should still be committed.
func (c *Consumer) commitMarked(client *kgo.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.CommitMarkedOffsets(ctx); err != nil { // e.g. partitions moved: the inbox absorbs it
		slog.Warn("offset commit failed", "group", c.opts.Group, "error", err.Error())
	}
}

// revoked commits what was applied on the partitions that move to another instance, then
// forgets their lag (the client commits nothing by itself once this callback is ours).
func (c *Consumer) revoked(ctx context.Context, client *kgo.Client, partitions map[string][]int32) {
	c.commitMarked(client)
	c.released(ctx, client, partitions)
}

// released forgets the lag of partitions that moved to another instance. Lost partitions
// (the group fenced this member) are not committed: another member may already hold them.
func (c *Consumer) released(_ context.Context, _ *kgo.Client, partitions map[string][]int32) {
	c.progress.forget(partitions)
}

// pause is exponential backoff with jitter; it returns ctx's error if ctx ends first.
func (c *Consumer) pause(ctx context.Context, failures int) error {
	delay := min(c.opts.MaxBackoff, c.opts.RetryBackoff*time.Duration(1<<min(failures-1, 16)))
	delay = time.Duration(float64(delay) * (0.75 + rand.Float64()/4))
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
