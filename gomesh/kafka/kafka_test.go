package kafka

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A consumer a reader waits on is answered by the first record; any other gathers records.
func TestConsumerOptionsFetchPromptlyOnlyWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		prompt bool
		wait   time.Duration
		least  int32
	}{{true, PromptFetchWait, 1}, {false, GatherFetchWait, GatherFetchBytes}} {
		// Nothing listens on that port; the client is closed before it matters.
		client, err := kgo.NewClient(ConsumerOptions("127.0.0.1:1", "g", tc.prompt, "t")...)
		if err != nil {
			t.Fatal(err)
		}
		wait, least := client.OptValue(kgo.FetchMaxWait), client.OptValue(kgo.FetchMinBytes)
		client.Close()
		if wait != tc.wait || least != tc.least {
			t.Errorf("prompt=%v: fetch waits %v for %v bytes, want %v for %d", tc.prompt, wait, least, tc.wait, tc.least)
		}
	}
	if GatherFetchWait <= PromptFetchWait {
		t.Errorf("a gathering fetch (%v) should wait longer than a prompt one (%v)", GatherFetchWait, PromptFetchWait)
	}
}
