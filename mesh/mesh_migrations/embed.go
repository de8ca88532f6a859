// Package meshmigrations is mesh's own tables (outbox, inbox, request_log) for Go services:
// the very SQL files yoyo applies for Python ones (mesh/migrations.py), embedded, so both
// runtimes make the same tables from one source. gomesh/migrate applies them.
package meshmigrations

import "embed"

// Files holds mesh_NNNN_name.sql (up) and mesh_NNNN_name.rollback.sql (down).
//
//go:embed *.sql
var Files embed.FS
