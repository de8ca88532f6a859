// Package app composes the recommendations service from gomesh and its own parts: the
// one place that wires them, so main and the integration tests run the same service.
package app

import (
	"context"
	"log/slog"
	"time"

	"buf.build/go/protovalidate"
	"github.com/jackc/pgx/v5/pgxpool"

	recommendationsv1 "vidmesh/gen/go/vidmesh/recommendations/v1"
	"vidmesh/gomesh/config"
	"vidmesh/gomesh/consumer"
	"vidmesh/gomesh/db"
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

// Feed is where the events come from: the group and its topics.
type Feed struct {
	Group  string
	Topics []string
}

// Events is the feed of the real service: group "recommendations" on the event topics.
var Events = Feed{Group: events.Group, Topics: events.Topics}

// Options are what may differ between the service and a test hosting it.
type Options struct {
	Feed        Feed
	Register    bool           // in Consul (the service does; a test need not)
	OnListening func(port int) // told the bound port (tests bind port 0)
	OnConsumer  func(*consumer.Consumer)
}

// Run migrates the database, consumes the feed and serves until ctx ends.
func Run(ctx context.Context, cfg config.Config, opts Options) error {
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := migrate.Apply(ctx, pool, migrate.Set{Files: migrations.Files, Table: migrations.Table}); err != nil {
		return err
	}
	feed, err := consumer.New(consumer.Options{Pool: pool, Bootstrap: cfg.KafkaBootstrap, Group: opts.Feed.Group,
		Topics: opts.Feed.Topics, Handlers: events.Handlers()})
	if err != nil {
		return err
	}
	if opts.OnConsumer != nil {
		opts.OnConsumer(feed)
	}
	consumed := make(chan error, 1)
	go func() { consumed <- feed.Run(ctx) }()
	defer waitFor(consumed)
	return serve(ctx, cfg, pool, opts)
}

func serve(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, opts Options) error {
	var consul server.Registry
	if opts.Register {
		found, err := registry.New(cfg.ConsulAddress())
		if err != nil {
			return err
		}
		consul = found
	}
	validator, err := protovalidate.New()
	if err != nil {
		return err
	}
	service := server.Service{Desc: &recommendationsv1.RecommendationService_ServiceDesc,
		Impl: rpc.New(postgres.NewQueries(pool))}
	return server.Run(ctx, server.Options{
		Config:   cfg,
		Services: []server.Service{service},
		// SERVING exactly when its own RPCs can be answered: Kafka down only delays events.
		Checks:      []server.Check{{Name: "postgres", Func: db.Ping(pool)}},
		Registry:    consul,
		Validator:   validator,
		OnListening: opts.OnListening,
	})
}

func waitFor(consumed <-chan error) {
	select {
	case <-consumed:
	case <-time.After(consumerStopTimeout):
		slog.Warn("the consumer did not stop in time")
	}
}
