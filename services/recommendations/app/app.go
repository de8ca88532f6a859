// Package app composes the recommendations service from gomesh and its own parts: the
// one place that wires them, so main and the integration tests run the same service.
package app

import (
	"context"

	"buf.build/go/protovalidate"
	"github.com/jackc/pgx/v5/pgxpool"

	recommendationsv1 "vidmesh/gen/go/vidmesh/recommendations/v1"
	"vidmesh/gomesh/addresses"
	"vidmesh/gomesh/config"
	"vidmesh/gomesh/consumer"
	"vidmesh/gomesh/db"
	"vidmesh/gomesh/metrics"
	"vidmesh/gomesh/migrate"
	"vidmesh/gomesh/registry"
	"vidmesh/gomesh/retention"
	"vidmesh/gomesh/server"
	"vidmesh/gomesh/supervisor"
	"vidmesh/services/recommendations/adapters/events"
	"vidmesh/services/recommendations/adapters/postgres"
	"vidmesh/services/recommendations/migrations"
	rpc "vidmesh/services/recommendations/server"
)

// Hooks let a test see inside the running service.
type Hooks struct {
	OnListening func(port int) // told the bound port (tests bind port 0)
	OnConsumer  func(*consumer.Consumer)
	OnMetrics   func(*metrics.Metrics) // the registry /metrics serves
}

// Run migrates the database, then serves and consumes until ctx ends. The consumer group
// is the service's name (MESH.md), its topics carry VIDMESH_TOPIC_PREFIX.
func Run(ctx context.Context, cfg config.Config, hooks Hooks) error {
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := migrate.Apply(ctx, pool, migrate.Set{Files: migrations.Files, Table: migrations.Table}); err != nil {
		return err
	}
	topics := make([]string, len(events.Topics))
	for i, topic := range events.Topics {
		topics[i] = cfg.Topic(topic)
	}
	feed, err := consumer.New(consumer.Options{Pool: pool, Bootstrap: cfg.KafkaBootstrap, Group: cfg.ServiceName,
		Topics: topics, Handlers: events.Handlers()})
	if err != nil {
		return err
	}
	if hooks.OnConsumer != nil {
		hooks.OnConsumer(feed)
	}
	watched := metrics.New()
	watched.WatchPool(cfg.ServiceName, pool)
	watched.WatchConsumer(feed)
	if hooks.OnMetrics != nil {
		hooks.OnMetrics(watched)
	}
	return serve(ctx, cfg, pool, watched, hooks, []supervisor.Worker{
		// Neither is critical: without them events only wait (consumer lag), reads still answer.
		{Name: "consumer", Run: feed.Run},
		{Name: "retention", Run: retention.Worker(pool, cfg.Retention)},
	})
}

func serve(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, watched *metrics.Metrics, hooks Hooks,
	workers []supervisor.Worker) error {
	var consul server.Registry
	if cfg.Register {
		found, err := registry.New(cfg.ConsulAddress(), &addresses.Resolver{HostsFile: cfg.HostsFile})
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
		Workers:     workers,
		Metrics:     watched,
		OnListening: hooks.OnListening,
	})
}
