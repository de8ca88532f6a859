// Package metrics is the Prometheus registry of one Go service process, served in plaintext
// at /metrics on VIDMESH_METRICS_PORT (MESH.md §14), mesh/metrics.py's twin: the same
// series under the same names and labels, so one dashboard and one set of alert rules read
// every language.
//
// RPCs are counted by the grpc-ecosystem Prometheus middleware (grpc_server_handled_total,
// grpc_server_handling_seconds, with Python's buckets); everything else (pools, consumers,
// workers) is read from the parts' own state when Prometheus scrapes, so nothing here runs
// on the hot path.
package metrics

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"

	"vidmesh/gomesh/consumer"
)

// RPCBuckets go from 1 ms to 10 s, as mesh/metrics.py's: a read is a few ms, a read that
// waits for a version up to 2 s.
var RPCBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Metrics is one process's registry and the parts it reads at scrape time.
type Metrics struct {
	Registry *prometheus.Registry
	rpc      *grpcprom.ServerMetrics

	mu        sync.Mutex
	pools     map[string]*pgxpool.Pool
	consumers []*consumer.Consumer
	workers   map[string]*worker
	dead      map[string]int64 // the last dead-letter count Kafka gave, per group
}

type worker struct {
	up      bool
	crashes int64
}

// New is a registry holding the process, Go runtime and RPC series.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		rpc: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets(RPCBuckets))),
		pools: map[string]*pgxpool.Pool{}, workers: map[string]*worker{}, dead: map[string]int64{},
	}
	m.Registry.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(), m.rpc, poolCollector{m}, consumerCollector{m}, workerCollector{m})
	return m
}

// UnaryServerInterceptor counts each unary call under its final status code.
func (m *Metrics) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return m.rpc.UnaryServerInterceptor()
}

// StreamServerInterceptor counts each streaming call under its final status code.
func (m *Metrics) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return m.rpc.StreamServerInterceptor()
}

// WatchPool reports a Postgres pool's size, free connections and ceiling.
func (m *Metrics) WatchPool(name string, pool *pgxpool.Pool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pools[name] = pool
}

// WatchConsumer reports a consumer's lag, outcomes and dead-letter topic.
func (m *Metrics) WatchConsumer(c *consumer.Consumer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.consumers = append(m.consumers, c)
}

// ReportWorker is told each time a supervised worker starts (up) or crashes (down).
func (m *Metrics) ReportWorker(name string, up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, known := m.workers[name]
	if !known {
		w = &worker{}
		m.workers[name] = w
	}
	if w.up && !up {
		w.crashes++
	}
	w.up = up
}

// Endpoint is /metrics being served.
type Endpoint struct {
	Port   int
	server *http.Server
	served chan error
}

// Serve serves /metrics at addr (port 0 = any free port) until Close.
func (m *Metrics) Serve(addr string) (*Endpoint, error) {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot bind the metrics port %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	e := &Endpoint{Port: listener.Addr().(*net.TCPAddr).Port, served: make(chan error, 1),
		server: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() { e.served <- e.server.Serve(listener) }()
	return e, nil
}

// Close stops serving; a scrape in progress is cut off.
func (e *Endpoint) Close() error {
	err := e.server.Close()
	if served := <-e.served; !errors.Is(served, http.ErrServerClosed) {
		return errors.Join(err, served)
	}
	return err
}
