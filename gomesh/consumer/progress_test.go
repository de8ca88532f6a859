package consumer

import (
	"testing"
	"time"
)

func TestLagCountsFetchedRecordsNotFinishedAndForgetsReleasedPartitions(t *testing.T) {
	p := newProgress()
	video, users := Partition{"video.v1.events", 0}, Partition{"users.v1.events", 2}
	p.fetched(video, 10, 4) // records 4..9 in hand, none finished
	p.fetched(users, 3, 2)
	if lag := p.Lag(); lag[video] != 6 || lag[users] != 1 {
		t.Errorf("lag before any finished = %v, want video 6, users 1", lag)
	}
	happened := time.Now().Add(-30 * time.Second)
	p.done(video, 4, happened)
	p.done(users, 2, happened)
	if lag := p.Lag(); lag[video] != 5 || lag[users] != 0 {
		t.Errorf("lag = %v, want video 5, users 0", lag)
	}
	if behind := p.SecondsBehind(time.Now()); behind < 29 || behind > 31 {
		t.Errorf("seconds behind = %v, want the age of the last event finished, about 30", behind)
	}
	p.forget(map[string][]int32{"video.v1.events": {0}})
	if lag := p.Lag(); len(lag) != 1 || lag[users] != 0 {
		t.Errorf("lag after video's partition moved away = %v", lag)
	}
	if behind := p.SecondsBehind(time.Now()); behind != 0 {
		t.Errorf("seconds behind when caught up = %v, want 0", behind)
	}
}

func TestAConsumerThatFinishedNothingIsBehindSinceItStarted(t *testing.T) {
	p := newProgress()
	p.started = time.Now().Add(-5 * time.Second)
	p.fetched(Partition{"video.v1.events", 1}, 1, 0)
	if behind := p.SecondsBehind(time.Now()); behind < 4.5 || behind > 6 {
		t.Errorf("seconds behind = %v, want about the 5 s it has run", behind)
	}
}
