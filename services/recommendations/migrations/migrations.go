// Package migrations embeds the service's SQL migrations (goose format) into the binary.
package migrations

import "embed"

// Files are the migrations, applied in order by gomesh/migrate after gomesh's own.
//
//go:embed *.sql
var Files embed.FS

// Table records which of Files have run.
const Table = "goose_db_version"
