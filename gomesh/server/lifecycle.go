package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// watch keeps health and the Consul registration in step with the readiness checks.
func (s *Server) watch(ctx context.Context) {
	s.register(ctx)
	var current healthpb.HealthCheckResponse_ServingStatus = -1 // the first outcome is always logged
	ticker := time.NewTicker(s.opts.CheckInterval)
	defer ticker.Stop()
	for {
		failure := s.firstFailure(ctx)
		wanted := healthpb.HealthCheckResponse_SERVING
		if failure != nil {
			wanted = healthpb.HealthCheckResponse_NOT_SERVING
		}
		if ctx.Err() != nil {
			return
		}
		if wanted != current {
			current = wanted
			slog.InfoContext(ctx, "health", "status", wanted.String(), "reason", reason(failure))
			s.setAll(wanted)
		}
		s.ensureRegistered(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// firstFailure runs every check in parallel, each bounded by the check interval (≥ 1 s).
func (s *Server) firstFailure(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, max(s.opts.CheckInterval, time.Second))
	defer cancel()
	results := make([]chan error, len(s.opts.Checks))
	for i, check := range s.opts.Checks {
		results[i] = make(chan error, 1)
		go func() { results[i] <- check.Func(ctx) }()
	}
	for i, check := range s.opts.Checks {
		if err := <-results[i]; err != nil {
			return errors.New(check.Name + ": " + err.Error())
		}
	}
	var down error
	s.down.Range(func(name, _ any) bool {
		down = errors.New("critical worker " + name.(string) + " is down")
		return false
	})
	return down
}

func reason(err error) any {
	if err == nil {
		return nil
	}
	return err.Error()
}

func (s *Server) register(ctx context.Context) {
	if s.opts.Registry == nil {
		return
	}
	r := s.Registration()
	if err := s.opts.Registry.Register(ctx, r); err != nil { // Consul may come later: watch retries
		slog.WarnContext(ctx, "consul registration failed", "error", err.Error())
		return
	}
	slog.InfoContext(ctx, "registered", "service_id", r.ID())
}

func (s *Server) ensureRegistered(ctx context.Context) {
	if s.opts.Registry == nil {
		return
	}
	known, err := s.opts.Registry.Registered(ctx, s.Registration())
	switch {
	case err != nil:
		slog.WarnContext(ctx, "consul unreachable", "error", err.Error())
	case !known:
		s.register(ctx)
	}
}

// shutdown: NOT_SERVING, deregister, drain, then stop (calls and workers) within the grace.
func (s *Server) shutdown(stopWorkers context.CancelFunc, workersStopped <-chan struct{}) {
	ctx := context.Background()
	s.health.Shutdown() // NOT_SERVING for every service, and no later update changes it
	if s.opts.Registry != nil {
		if err := s.opts.Registry.Deregister(ctx, s.Registration()); err != nil {
			slog.WarnContext(ctx, "consul deregistration failed", "error", err.Error()) // reaped after 1 m
		} else {
			slog.InfoContext(ctx, "deregistered", "service_id", s.Registration().ID())
		}
	}
	time.Sleep(s.opts.Config.Drain) // routers drop the instance before it stops accepting calls
	stopWorkers()
	stopped := make(chan struct{})
	go func() { s.grpc.GracefulStop(); s.healthGRPC.GracefulStop(); <-workersStopped; close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(s.opts.Config.ShutdownGrace):
		slog.WarnContext(ctx, "in-flight calls or workers outlived the grace period; cutting them off",
			"grace_s", s.opts.Config.ShutdownGrace.Seconds())
		s.grpc.Stop()
		s.healthGRPC.Stop()
	}
	if err := s.metrics.Close(); err != nil { // last, so the final counts could still be scraped
		slog.WarnContext(ctx, "metrics endpoint did not close cleanly", "error", err.Error())
	}
	slog.InfoContext(ctx, "stopped")
}
