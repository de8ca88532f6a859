// Command recommendations is vidmesh's recommendations service, in Go: it keeps co-like
// counts and per-user signals from the video.v1 and users.v1 events in its own database
// and serves vidmesh.recommendations.v1.RecommendationService. gomesh does the plumbing,
// package app composes it; main only reads the settings, sets up tracing and waits for SIGTERM.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"vidmesh/gomesh/config"
	"vidmesh/gomesh/logging"
	"vidmesh/gomesh/tracing"
	"vidmesh/services/recommendations/app"
)

func main() {
	cfg, err := config.Load(os.LookupEnv, "recommendations", "VIDMESH_DATABASE_URL")
	if err != nil {
		fmt.Fprintln(os.Stderr, "recommendations:", err)
		os.Exit(2)
	}
	traces, err := tracing.Load(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "recommendations:", err)
		os.Exit(2)
	}
	logging.Setup(cfg.ServiceName, cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, cfg, traces); err != nil {
		slog.Error("recommendations failed", "error", err.Error())
		os.Exit(1)
	}
}

// run serves with the process's tracer provider, whose last spans are exported on the way out.
func run(ctx context.Context, cfg config.Config, traces tracing.Settings) error {
	stopTracing, err := tracing.Setup(ctx, cfg.ServiceName, cfg.AdvertiseHost, traces)
	if err != nil {
		return err
	}
	defer stopTracing()
	return app.Run(ctx, cfg, app.Hooks{})
}
