// Package kafka holds the Kafka conventions every vidmesh consumer shares, as mesh/kafka.py
// does for Python: the dead-letter topic of a group, client settings, and explicit creation
// of the topics a process needs (the broker creates none by itself). The event topics'
// names are mesh/topology.py's, generated into vidmesh/gen/go/vidmesh/topology.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DLQPartitions is the partition count of a dead-letter topic.
const DLQPartitions = 1

// DLQTopic is the dead-letter topic of a consumer group: "<group>.dlq".
func DLQTopic(group string) string { return group + ".dlq" }

// CommitInterval is how often a consumer commits the offsets it marked (mesh/kafka.py's
// COMMIT_INTERVAL_MS): a commit per batch cost a request per group per event under load.
const CommitInterval = time.Second

// How a consumer fetches (mesh/kafka.py's PROMPT_FETCH_WAIT_MS and GATHER_FETCH_*): a prompt
// one, whose effects a reader waits for, is answered by the first record to land; any other
// lets the broker gather records for up to GatherFetchWait, a fetch per record for each group
// having cost Kafka and the consumer CPU under a steady load for a lag nobody waits on.
const (
	PromptFetchWait  = 50 * time.Millisecond
	GatherFetchWait  = 100 * time.Millisecond
	GatherFetchBytes = 64 << 10
)

// ConsumerOptions are a group consumer whose offsets are committed only once the effect is
// committed in Postgres: it marks each record after the transaction, and the client commits
// what is marked every CommitInterval (the consumer also commits on revoke and before it
// closes), with mesh/kafka.py's timings: a dead consumer's partitions move within 6 s (the
// broker's minimum session), and a fetch is prompt or gathers (the constants above).
func ConsumerOptions(bootstrap, group string, prompt bool, topics ...string) []kgo.Opt {
	wait, least := GatherFetchWait, int32(GatherFetchBytes)
	if prompt {
		wait, least = PromptFetchWait, 1
	}
	return []kgo.Opt{
		kgo.SeedBrokers(strings.Split(bootstrap, ",")...),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topics...),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(CommitInterval),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(6 * time.Second),
		kgo.HeartbeatInterval(2 * time.Second),
		kgo.FetchMaxWait(wait),
		kgo.FetchMinBytes(least),
		// A rebalance waits until the records in hand are applied and committed.
		kgo.BlockRebalanceOnPoll(),
		// Reconnect within about a second after an outage, not after minutes.
		kgo.RetryBackoffFn(func(tries int) time.Duration {
			return min(100*time.Millisecond*time.Duration(1<<min(tries, 4)), time.Second)
		}),
		// The topics may not exist yet on a fresh stack: look again soon.
		kgo.MetadataMinAge(time.Second),
		kgo.MetadataMaxAge(10 * time.Second),
	}
}

// EnsureTopics creates the topics (name -> partitions) that do not exist yet; an existing
// one is left as it is. Safe to call from every instance at every start.
func EnsureTopics(ctx context.Context, client *kgo.Client, topics map[string]int32) error {
	admin := kadm.NewClient(client)
	for name, partitions := range topics {
		results, err := admin.CreateTopics(ctx, partitions, 1, nil, name)
		if err != nil {
			return fmt.Errorf("create topic %s: %w", name, err)
		}
		for _, result := range results {
			if result.Err != nil && !errors.Is(result.Err, kerr.TopicAlreadyExists) {
				return fmt.Errorf("create topic %s: %w", name, result.Err)
			}
		}
	}
	return nil
}
