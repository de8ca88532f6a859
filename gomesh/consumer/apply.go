package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	eventsv1 "vidmesh/gen/go/vidmesh/events/v1"
	"vidmesh/gomesh/db"
	"vidmesh/gomesh/events"
)

// Dead-letter headers, next to the record's own (the names mesh/consumer.py writes).
const (
	headerError, headerErrorType, headerAttempts = "dlq.error", "dlq.error.type", "dlq.attempts"
	headerTopic, headerPartition, headerOffset   = "dlq.topic", "dlq.partition", "dlq.offset"
	headerGroup                                  = "dlq.group"
	maxErrorChars                                = 4000
)

// handle finishes one record and says when its event happened (zero when unreadable); it
// returns an error only when ctx ended first.
func (c *Consumer) handle(ctx context.Context, record *kgo.Record) (time.Time, error) {
	env, err := events.Parse(record.Value)
	if err != nil {
		ctx, span := c.processing(ctx, record, nil)
		defer span.End()
		return time.Time{}, c.deadLetter(ctx, record, err, 0)
	}
	happened := env.GetTime().AsTime()
	handler, ok := c.opts.Handlers[env.GetType()]
	if !ok {
		c.counts.skipped.Add(1)
		return happened, nil
	}
	ctx, span := c.processing(ctx, record, env) // the log lines below carry the event's trace
	defer span.End()
	payload, err := events.Payload(env)
	if err != nil {
		return happened, c.deadLetter(ctx, record, err, 0)
	}
	return happened, c.applyWithRetries(ctx, record, env, payload, handler)
}

func (c *Consumer) applyWithRetries(ctx context.Context, record *kgo.Record, env *eventsv1.EventEnvelope,
	payload proto.Message, handler Handler) error {
	attempts, outages := 0, 0
	log := slog.With("event_id", env.GetId(), "event_type", env.GetType())
	for {
		err := c.apply(ctx, record, env, payload, handler)
		switch {
		case err == nil:
			c.counts.applied.Add(1)
			outcome(ctx, "applied")
			return nil
		case errors.Is(err, errDuplicate):
			c.counts.duplicate.Add(1)
			outcome(ctx, "duplicate")
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case db.Unavailable(err):
			outages++
			log.WarnContext(ctx, "postgres unavailable; retrying the event", "error", err.Error())
			if err := c.pause(ctx, outages); err != nil {
				return err
			}
		default:
			attempts++
			trace.SpanFromContext(ctx).RecordError(err, trace.WithAttributes(attribute.Int("vidmesh.attempt", attempts)))
			log.WarnContext(ctx, "event handler failed", "attempt", attempts, "error", err.Error())
			if attempts >= c.opts.MaxAttempts {
				return c.deadLetter(ctx, record, err, attempts)
			}
			if err := c.pause(ctx, attempts); err != nil {
				return err
			}
		}
	}
}

// apply is one transaction: the inbox row and the handler's effect.
func (c *Consumer) apply(ctx context.Context, record *kgo.Record, env *eventsv1.EventEnvelope,
	payload proto.Message, handler Handler) error {
	return db.InTx(ctx, c.opts.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, insertInbox, c.opts.Group, env.GetId(), env.GetType(), record.Topic,
			record.Partition, record.Offset)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errDuplicate
		}
		return handler(ctx, tx, env, payload)
	})
}

// deadLetter publishes the record to the DLQ, retrying until Kafka takes it or ctx ends.
func (c *Consumer) deadLetter(ctx context.Context, record *kgo.Record, cause error, attempts int) error {
	message := cause.Error()
	if len(message) > maxErrorChars {
		message = message[:maxErrorChars]
	}
	headers := append(append([]kgo.RecordHeader{}, record.Headers...),
		header(headerError, message), header(headerErrorType, errorType(cause)),
		header(headerAttempts, strconv.Itoa(attempts)), header(headerTopic, record.Topic),
		header(headerPartition, strconv.Itoa(int(record.Partition))),
		header(headerOffset, strconv.FormatInt(record.Offset, 10)), header(headerGroup, c.opts.Group))
	dead := &kgo.Record{Topic: c.DLQ(), Key: record.Key, Value: record.Value, Headers: headers}
	for failures := 1; ; failures++ {
		err := c.client.ProduceSync(ctx, dead).FirstErr()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		slog.WarnContext(ctx, "dead-letter publish failed", "error", err.Error())
		if err := c.pause(ctx, failures); err != nil {
			return err
		}
	}
	c.counts.deadLettered.Add(1)
	outcome(ctx, "dead_lettered")
	trace.SpanFromContext(ctx).SetStatus(codes.Error, "dead-lettered to "+c.DLQ()+": "+truncate(message, 200))
	slog.ErrorContext(ctx, "event dead-lettered", "dlq", c.DLQ(), "topic", record.Topic,
		"partition", record.Partition, "offset", record.Offset, "attempts", attempts, "error", message)
	return nil
}

func header(key, value string) kgo.RecordHeader {
	return kgo.RecordHeader{Key: key, Value: []byte(value)}
}

// errorType names the kind of failure: "EventError" for a poison message (as Python
// names it), else the Go type of the error.
func errorType(err error) string {
	if _, ok := errors.AsType[*events.Error](err); ok {
		return "EventError"
	}
	return fmt.Sprintf("%T", err)
}
