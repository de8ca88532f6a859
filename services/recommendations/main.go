// Command recommendations is vidmesh's recommendations service, in Go: it keeps co-like
// counts and per-user signals from the video.v1 and users.v1 events in its own database
// and serves vidmesh.recommendations.v1.RecommendationService. gomesh does the plumbing;
// this file only composes.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"buf.build/go/protovalidate"
	"github.com/jackc/pgx/v5/pgxpool"

	recommendationsv1 "vidmesh/gen/go/vidmesh/recommendations/v1"
	"vidmesh/gomesh/config"
	"vidmesh/gomesh/consumer"
	"vidmesh/gomesh/db"
	"vidmesh/gomesh/logging"
	"vidmesh/gomesh/migrate"
	"vidmesh/gomesh/registry"
	"vidmesh/gomesh/server"
	"vidmesh/services/recommendations/adapters/events"
	"vidmesh/services/recommendations/adapters/postgres"
	"vidmesh/services/recommendations/migrations"
	rpc "vidmesh/services/recommendations/server"
)

// consumerStopTimeout bounds how long the consumer may take to leave its group at exit.
const consumerStopTimeout = 10 * time.Second

func main() {
	cfg, err := config.Load(os.LookupEnv, "recommendations", "VIDMESH_DATABASE_URL")
	if err != nil {
		fmt.Fprintln(os.Stderr, "recommendations:", err)
		os.Exit(2)
	}
	logging.Setup(cfg.ServiceName, cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		slog.Error("recommendations failed", "error", err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config.Config) error {
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := migrate.Apply(ctx, pool, migrate.Set{Files: migrations.Files, Table: migrations.Table}); err != nil {
		return err
	}
	feed, err := consumer.New(consumer.Options{Pool: pool, Bootstrap: cfg.KafkaBootstrap, Group: events.Group,
		Topics: events.Topics, Handlers: events.Handlers()})
	if err != nil {
		return err
	}
	consumed := make(chan error, 1)
	go func() { consumed <- feed.Run(ctx) }()
	defer waitFor(consumed)
	return serve(ctx, cfg, pool)
}

func serve(ctx context.Context, cfg config.Config, pool *pgxpool.Pool) error {
	consul, err := registry.New(cfg.ConsulAddress())
	if err != nil {
		return err
	}
	validator, err := protovalidate.New()
	if err != nil {
		return err
	}
	return server.Run(ctx, server.Options{
		Config:   cfg,
		Services: []server.Service{{Desc: &recommendationsv1.RecommendationService_ServiceDesc, Impl: rpc.New(postgres.NewQueries(pool))}},
		// SERVING exactly when its own RPCs can be answered: Kafka down only delays events.
		Checks:    []server.Check{{Name: "postgres", Func: db.Ping(pool)}},
		Registry:  consul,
		Validator: validator,
	})
}

func waitFor(consumed <-chan error) {
	select {
	case <-consumed:
	case <-time.After(consumerStopTimeout):
		slog.Warn("the consumer did not stop in time")
	}
}
