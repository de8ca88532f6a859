// Package supervisor runs a process's background workers (consumers, pruning loops) as
// mesh/supervisor.py does: a worker that crashes (returns an error or panics) is logged,
// reported (its own health entry, vidmesh.worker.<name>, says NOT_SERVING until it runs
// again) and started again after a backoff. Only a critical worker, one the service's own
// RPCs cannot do without, takes the whole instance out of the routing while it is down.
package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// HealthyRun is how long a worker must have run before a crash starts its backoff afresh.
const HealthyRun = 60 * time.Second

// Worker is a background loop: Run until ctx ends; returning earlier is a crash.
type Worker struct {
	Name     string
	Run      func(ctx context.Context) error
	Critical bool // the service cannot answer its own RPCs while this one is down
}

// HealthName is the grpc.health.v1 service name that reports one worker.
func HealthName(worker string) string { return "vidmesh.worker." + worker }

// Report is told whenever a worker goes up (true) or down (false).
type Report func(worker Worker, up bool)

// Backoff is the pause before restart n (1-based): 0.5 s doubling to 30 s.
func Backoff(n int) time.Duration {
	return min(500*time.Millisecond<<min(n-1, 10), 30*time.Second)
}

// Run runs every worker until ctx ends and returns once all of them have returned.
func Run(ctx context.Context, workers []Worker, report Report) {
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() { defer wg.Done(); supervise(ctx, w, report) }()
	}
	wg.Wait()
}

func supervise(ctx context.Context, w Worker, report Report) {
	for crashes := 0; ctx.Err() == nil; {
		report(w, true)
		began := time.Now()
		err := runOnce(ctx, w)
		if ctx.Err() != nil {
			return
		}
		report(w, false)
		if time.Since(began) > HealthyRun {
			crashes = 0
		}
		crashes++
		slog.ErrorContext(ctx, "worker crashed; restarting it", "worker", w.Name, "error", fmt.Sprint(err),
			"restart_in_s", Backoff(crashes).Seconds())
		select {
		case <-ctx.Done():
		case <-time.After(Backoff(crashes)):
		}
	}
}

func runOnce(ctx context.Context, w Worker) (err error) {
	defer func() {
		if recovered := recover(); recovered != nil {
			err = fmt.Errorf("panic: %v\n%s", recovered, debug.Stack())
		}
	}()
	if err := w.Run(ctx); err != nil {
		return err
	}
	return fmt.Errorf("worker %s returned although nobody asked it to stop", w.Name)
}
