package consumer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Partition names one partition of a topic.
type Partition struct {
	Topic     string
	Partition int32
}

// Progress is how far a consumer is behind, mesh/progress.py's twin: what its partitions
// hold (the high watermark each fetch reports, so it costs no request of its own) against
// what it has finished. Lag counts records fetched but not finished too, so a consumer stuck
// retrying one record shows its lag growing although it fetches nothing new.
type Progress struct {
	mu        sync.Mutex
	started   time.Time
	high      map[Partition]int64 // one past the last record a partition holds
	next      map[Partition]int64 // the first record not finished yet
	lastEvent time.Time           // when the newest event finished so far happened
}

func newProgress() *Progress {
	return &Progress{started: time.Now(), high: map[Partition]int64{}, next: map[Partition]int64{}}
}

// fetched notes a partition's high watermark and, the first time, where the consumer is in it.
func (p *Progress) fetched(partition Partition, high, firstOffset int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.high[partition] = max(p.high[partition], high)
	if _, known := p.next[partition]; !known {
		p.next[partition] = firstOffset
	}
}

// done: a record was applied, skipped, a duplicate or dead-lettered; the consumer is past it.
func (p *Progress) done(partition Partition, offset int64, eventTime time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next[partition] = offset + 1
	p.high[partition] = max(p.high[partition], offset+1)
	if eventTime.After(p.lastEvent) {
		p.lastEvent = eventTime
	}
}

// forget drops partitions this consumer no longer holds (another instance reports them).
func (p *Progress) forget(partitions map[string][]int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for topic, numbers := range partitions {
		for _, number := range numbers {
			delete(p.high, Partition{topic, number})
			delete(p.next, Partition{topic, number})
		}
	}
}

// Lag is the records not finished yet, per partition whose position is known.
func (p *Progress) Lag() map[Partition]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	lag := make(map[Partition]int64, len(p.high))
	for partition, high := range p.high {
		if next, known := p.next[partition]; known {
			lag[partition] = max(0, high-next)
		}
	}
	return lag
}

// SecondsBehind is 0 when every record is finished; else how old the last finished event
// is (or how long the consumer has run, before it finished any).
func (p *Progress) SecondsBehind(now time.Time) float64 {
	behind := false
	for _, records := range p.Lag() {
		behind = behind || records > 0
	}
	if !behind {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	since := p.lastEvent
	if since.IsZero() {
		since = p.started
	}
	return max(0, now.Sub(since).Seconds())
}

// DeadLetters is the number of records in the group's dead-letter topic, asked of Kafka
// (two offset lists); an error while the consumer is not connected or Kafka does not answer.
func (c *Consumer) DeadLetters(ctx context.Context) (int64, error) {
	client := c.live.Load()
	if client == nil {
		return 0, fmt.Errorf("consumer %s is not connected", c.opts.Group)
	}
	admin := kadm.NewClient(client)
	starts, err := admin.ListStartOffsets(ctx, c.DLQ())
	if err != nil {
		return 0, err
	}
	ends, err := admin.ListEndOffsets(ctx, c.DLQ())
	if err != nil {
		return 0, err
	}
	if err := ends.Error(); err != nil {
		return 0, err
	}
	var records int64
	ends.Each(func(end kadm.ListedOffset) {
		if start, ok := starts.Lookup(end.Topic, end.Partition); ok && start.Err == nil {
			records += max(0, end.Offset-start.Offset)
		}
	})
	return records, nil
}

// noteFetched tells the progress what a poll brought.
func (c *Consumer) noteFetched(fetches kgo.Fetches) {
	fetches.EachPartition(func(fetched kgo.FetchTopicPartition) {
		if len(fetched.Records) > 0 {
			c.progress.fetched(Partition{fetched.Topic, fetched.Partition}, fetched.HighWatermark,
				fetched.Records[0].Offset)
		}
	})
}
