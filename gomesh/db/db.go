// Package db opens the service's Postgres pool and runs units of work: one transaction
// that commits only when the work returns nil and rolls back otherwise.
package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"vidmesh/gomesh/tracing"
)

// Open connects a pool to url (a postgres:// URL or key=value DSN) and checks it answers
// within ctx. A short connect timeout keeps a check or a retry from hanging on a dead host.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("VIDMESH_DATABASE_URL is not a Postgres URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 5*time.Second {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	cfg.MaxConns = 10
	// A span per statement, named by its verb as Python's psycopg instrumentation does, and only
	// inside a call's or an event's span: a readiness ping or retention records nothing.
	cfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(tracing.Provider()),
		otelpgx.WithDisableAcquireTracer())
	return pgxpool.NewWithConfig(ctx, cfg)
}

// Ping is a readiness check: the database answers a query.
func Ping(pool *pgxpool.Pool) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := pool.Exec(ctx, "SELECT 1")
		return err
	}
}

// InTx runs work in one transaction: committed when work returns nil, else rolled back.
func InTx(ctx context.Context, pool *pgxpool.Pool, work func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pool, work)
}

// Unavailable says whether err means "Postgres could not be reached or went away" (retry
// later, nobody's fault) rather than "the statement failed" (the input's fault or a bug).
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		// 08 connection exception, 53 insufficient resources, 57P admin shutdown and friends.
		code := pgErr.Code
		return len(code) == 5 && (code[:2] == "08" || code[:2] == "53" || code[:3] == "57P")
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.Timeout(err)
}
