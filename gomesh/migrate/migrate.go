// Package migrate applies SQL migrations with goose: gomesh's own tables first (the inbox
// of the idempotent consumer), then the service's. Each set keeps its own version table,
// so a service's 00001 never collides with gomesh's. A Postgres advisory lock (goose's
// session locker) lets two instances start together safely. Migrations run as the
// service's role, so the tables land in its own schema (its search_path).
package migrate

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sql/*.sql
var meshMigrations embed.FS

// MeshTable is the version table of gomesh's own migrations.
const MeshTable = "gomesh_db_version"

// Set is one folder of goose SQL migrations and the table that records them.
type Set struct {
	Files fs.FS  // *.sql at its root, named 00001_name.sql
	Table string // e.g. "goose_db_version"
}

// Mesh is gomesh's own set: the inbox table.
func Mesh() Set {
	sub, err := fs.Sub(meshMigrations, "sql")
	if err != nil {
		panic(err) // the folder is embedded above: it exists
	}
	return Set{Files: sub, Table: MeshTable}
}

// Apply runs the Mesh set and then each of sets; it returns how many migrations ran now.
func Apply(ctx context.Context, pool *pgxpool.Pool, sets ...Set) (int, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer func() { _ = db.Close() }()
	applied := 0
	for _, set := range append([]Set{Mesh()}, sets...) {
		n, err := apply(ctx, db, set)
		if err != nil {
			return applied, fmt.Errorf("migrations recorded in %s: %w", set.Table, err)
		}
		applied += n
	}
	slog.InfoContext(ctx, "migrations applied", "applied", applied, "sets", len(sets)+1)
	return applied, nil
}

func apply(ctx context.Context, db *sql.DB, set Set) (int, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return 0, err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, set.Files,
		goose.WithTableName(set.Table), goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return 0, err
	}
	results, err := provider.Up(ctx)
	return len(results), err
}
