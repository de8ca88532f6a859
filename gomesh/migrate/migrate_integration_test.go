//go:build integration

package migrate_test

import (
	"context"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"vidmesh/gomesh/db"
	"vidmesh/gomesh/meshtest"
	"vidmesh/gomesh/migrate"
	meshmigrations "vidmesh/mesh/mesh_migrations"
)

func TestMeshsOwnTablesComeFromMeshsSQLFilesAndApplyOnce(t *testing.T) {
	ctx := context.Background()
	pool, err := db.Open(ctx, meshtest.Require(t, "VIDMESH_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	set, err := migrate.Mesh()
	if err != nil {
		t.Fatal(err)
	}
	if set.Table != migrate.MeshTable {
		t.Fatalf("mesh's set records itself in %q, want %q", set.Table, migrate.MeshTable)
	}
	if _, err := migrate.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	again, err := migrate.Apply(ctx, pool) // every instance runs it at every start
	if err != nil || again != 0 {
		t.Fatalf("a second Apply ran %d migrations (err %v), want none", again, err)
	}
	var tables []string
	rows, err := pool.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "+
		"AND table_name IN ('outbox', 'inbox', 'request_log') ORDER BY table_name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if len(tables) != 3 {
		t.Fatalf("mesh's tables in the service's schema: %v, want inbox, outbox and request_log", tables)
	}
	var version, last int64
	if err := pool.QueryRow(ctx, "SELECT max(version_id) FROM "+migrate.MeshTable).Scan(&version); err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(meshmigrations.Files, "mesh_*.sql")
	for _, name := range names { // mesh_NNNN_name.sql: the last NNNN is the last version
		if n, err := strconv.ParseInt(strings.Split(name, "_")[1], 10, 64); err == nil && n > last {
			last = n
		}
	}
	if last < 3 || version != last {
		t.Fatalf("mesh's migrations recorded up to version %d, want %d, the last file's", version, last)
	}
}
