// Package retention keeps gomesh's tables bounded, as mesh/retention.py does: inbox rows
// older than VIDMESH_RETENTION_SECONDS are deleted, oldest first, in small batches, every
// minute. A redelivery of an event later than the retention would be applied again, so no
// consumer group is ever moved back further (MESH.md). Every instance may run it.
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"vidmesh/gomesh/db"
)

const (
	batch    = 5000
	interval = time.Minute
	prune    = `DELETE FROM inbox WHERE ctid IN (SELECT ctid FROM inbox
		WHERE processed_at < now() - make_interval(secs => $1) ORDER BY processed_at LIMIT $2)`
)

// Prune deletes the inbox rows past the retention; it returns how many.
func Prune(ctx context.Context, pool *pgxpool.Pool, retention time.Duration) (int64, error) {
	var total int64
	for {
		tag, err := pool.Exec(ctx, prune, retention.Seconds(), batch)
		if err != nil {
			return total, err
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < batch {
			return total, nil
		}
	}
}

// Worker prunes every minute until ctx ends; a database that is away is tried next time.
func Worker(pool *pgxpool.Pool, retention time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			if _, err := Prune(ctx, pool, retention); err != nil && ctx.Err() == nil {
				if !db.Unavailable(err) {
					return err // a bug: the supervisor logs and restarts it
				}
				slog.WarnContext(ctx, "retention: pruning postponed", "error", err.Error())
			}
			select {
			case <-ctx.Done():
				return nil
			case <-ticker.C:
			}
		}
	}
}
