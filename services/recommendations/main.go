// Command recommendations is vidmesh's recommendations service, in Go: it keeps co-like
// counts and per-user signals from the video.v1 and users.v1 events in its own database
// and serves vidmesh.recommendations.v1.RecommendationService. gomesh does the plumbing,
// package app composes it; main only reads the settings and waits for SIGTERM.
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
	"vidmesh/services/recommendations/app"
)

func main() {
	cfg, err := config.Load(os.LookupEnv, "recommendations", "VIDMESH_DATABASE_URL")
	if err != nil {
		fmt.Fprintln(os.Stderr, "recommendations:", err)
		os.Exit(2)
	}
	logging.Setup(cfg.ServiceName, cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := app.Run(ctx, cfg, app.Hooks{}); err != nil {
		slog.Error("recommendations failed", "error", err.Error())
		os.Exit(1)
	}
}
