package supervisor

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestACrashedWorkerIsReportedDownAndRestarted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var events []bool
	runs := 0
	worker := Worker{Name: "consumer", Run: func(ctx context.Context) error {
		mu.Lock()
		runs++
		first := runs == 1
		mu.Unlock()
		if first {
			panic("a bug")
		}
		<-ctx.Done()
		return nil
	}}
	done := make(chan struct{})
	go func() {
		Run(ctx, []Worker{worker}, func(_ Worker, up bool) { mu.Lock(); events = append(events, up); mu.Unlock() })
		close(done)
	}()
	deadline := time.Now().Add(3 * time.Second)
	for {
		mu.Lock()
		n := runs
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker was not restarted after its crash")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 3 || !events[0] || events[1] || !events[2] {
		t.Errorf("reports = %v, want up, down, up", events)
	}
}

func TestBackoffGrowsToItsCap(t *testing.T) {
	if Backoff(1) != 500*time.Millisecond || Backoff(2) != time.Second || Backoff(20) != 30*time.Second {
		t.Errorf("Backoff(1, 2, 20) = %v, %v, %v", Backoff(1), Backoff(2), Backoff(20))
	}
}
