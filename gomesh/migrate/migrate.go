// Package migrate applies SQL migrations with goose: mesh's own tables first (outbox, inbox,
// request_log: mesh/mesh_migrations, the files yoyo applies for Python services), then the
// service's. Each set keeps its own version table, so a service's 00001 never collides
// with mesh's. A Postgres advisory lock (goose's session locker) lets two instances start
// together safely. Migrations run as the service's role, so the tables land in its own
// schema (its search_path).
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	meshmigrations "vidmesh/mesh/mesh_migrations"
)

// MeshTable is the version table of mesh's own migrations in a Go service's schema.
// (gomesh_db_version, an earlier table, recorded gomesh's own copy of the inbox.)
const MeshTable = "mesh_db_version"

// Set is one folder of goose SQL migrations and the table that records them; or, for mesh's
// own set, goose Go migrations made from yoyo's files.
type Set struct {
	Files      fs.FS  // *.sql at its root, named 00001_name.sql
	Table      string // e.g. "goose_db_version"
	migrations []*goose.Migration
}

var yoyoName = regexp.MustCompile(`^mesh_(\d{4})_\w+\.sql$`)

// Mesh is mesh's own set: each mesh_NNNN_name.sql is goose version NNNN, run in a
// transaction, and its .rollback.sql the way down.
func Mesh() (Set, error) {
	names, err := fs.Glob(meshmigrations.Files, "mesh_*.sql")
	if err != nil {
		return Set{}, err
	}
	set := Set{Table: MeshTable}
	for _, name := range names {
		match := yoyoName.FindStringSubmatch(name)
		if match == nil {
			continue // a .rollback.sql, read with its migration
		}
		version, _ := strconv.ParseInt(match[1], 10, 64) // four digits: always a number
		up, err := statements(name)
		if err != nil {
			return Set{}, err
		}
		down, err := statements(name[:len(name)-len(path.Ext(name))] + ".rollback.sql")
		if err != nil {
			return Set{}, err
		}
		set.migrations = append(set.migrations, goose.NewGoMigration(version, up, down))
	}
	if len(set.migrations) == 0 {
		return Set{}, fmt.Errorf("no mesh_NNNN_*.sql embedded from mesh/mesh_migrations")
	}
	return set, nil
}

// statements runs one file's SQL as it is: with no arguments, pgx sends it in the simple
// protocol, which runs several statements, as yoyo does.
func statements(name string) (*goose.GoFunc, error) {
	text, err := fs.ReadFile(meshmigrations.Files, name)
	if err != nil {
		return nil, err
	}
	return &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, string(text))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}}, nil
}

// Apply runs the Mesh set and then each of sets; it returns how many migrations ran now.
func Apply(ctx context.Context, pool *pgxpool.Pool, sets ...Set) (int, error) {
	mesh, err := Mesh()
	if err != nil {
		return 0, err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer func() { _ = db.Close() }()
	applied := 0
	for _, set := range append([]Set{mesh}, sets...) {
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
		goose.WithTableName(set.Table), goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true),
		goose.WithGoMigrations(set.migrations...))
	if err != nil {
		return 0, err
	}
	results, err := provider.Up(ctx)
	return len(results), err
}
