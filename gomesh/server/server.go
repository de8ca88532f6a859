// Package server runs the gRPC server of a vidmesh Go service, with the life of an
// instance that MESH.md asks of every language (and mesh/server.py gives Python):
//
//  1. bind VIDMESH_GRPC_HOST:VIDMESH_GRPC_PORT (0 = any free port; the real one is read
//     back), serve grpc.health.v1 (NOT_SERVING) and server reflection, register in Consul;
//  2. while every readiness check passes, health says SERVING and Consul's check passes;
//     a failing check flips it back to NOT_SERVING (checked every CheckInterval);
//  3. when ctx ends (SIGTERM/SIGINT in main): NOT_SERVING everywhere, deregister, wait
//     Drain so routers catch up, then stop accepting calls and let in-flight ones finish
//     within ShutdownGrace while the workers stop; whatever is still running then is cut off.
//
// Its API port takes mutual TLS only and authorizes every call against the intentions
// (gomesh/identity, MESH.md §13); health is also served in plaintext on VIDMESH_HEALTH_PORT,
// for Consul's check and the stack's prober, which have no certificate.
//
// Background workers (gomesh/supervisor) run beside the server, each reported on its own
// health entry, vidmesh.worker.<name>; a critical one that is down makes it NOT_SERVING.
//
// Prometheus metrics (gomesh/metrics: RPCs, workers, and whatever the service asks it to
// watch) are served in plaintext at /metrics on VIDMESH_METRICS_PORT, and that port is
// registered in Consul as `metrics_port` (MESH.md §14), where Prometheus finds it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"vidmesh/gomesh/config"
	"vidmesh/gomesh/identity"
	"vidmesh/gomesh/interceptors"
	"vidmesh/gomesh/metrics"
	"vidmesh/gomesh/registry"
	"vidmesh/gomesh/supervisor"
)

// Check is a readiness check: nil when the dependency answers within ctx's deadline.
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// Service is one gRPC service to host: its generated descriptor and implementation.
type Service struct {
	Desc *grpc.ServiceDesc
	Impl any
}

// Registry is what the server needs of Consul (gomesh/registry.Consul, or nil for none).
type Registry interface {
	Register(ctx context.Context, r registry.Registration) error
	Deregister(ctx context.Context, r registry.Registration) error
	Registered(ctx context.Context, r registry.Registration) (bool, error)
}

// Options configure Run.
type Options struct {
	Config        config.Config
	Services      []Service
	Checks        []Check
	Registry      Registry // nil: do not register (tests)
	Validator     interceptors.Validator
	Workers       []supervisor.Worker
	CheckInterval time.Duration  // default 2 s, as in mesh/server.py
	OnListening   func(port int) // called once the port is bound (tests)
	// Metrics is the registry served at /metrics (nil: a new one, holding RPCs and workers).
	Metrics *metrics.Metrics
	// Identity is the API port's TLS and authorization; nil serves plaintext, allowed only
	// with Config.MTLS false (Run fetches it from Consul when it is nil and MTLS is on).
	Identity *Identity
}

// Identity is what the API port needs of gomesh/identity.
type Identity struct {
	Source     *identity.Source
	Authorizer *identity.Authorizer
}

// Server is one running instance.
type Server struct {
	opts         Options
	grpc         *grpc.Server
	healthGRPC   *grpc.Server // plaintext, health alone
	health       *health.Server
	port         int
	healthPort   int
	healthListen net.Listener
	metrics      *metrics.Endpoint
	down         sync.Map // critical workers that are down now: name -> true
}

// Run serves until ctx ends, then shuts down as the package comment says.
func Run(ctx context.Context, opts Options) error {
	if opts.Identity == nil && opts.Config.MTLS {
		id, err := FetchIdentity(ctx, opts.Config)
		if err != nil {
			return err
		}
		opts.Identity = id
	}
	s, listener, err := start(opts)
	if err != nil {
		return err
	}
	served := make(chan error, 2)
	go func() { served <- s.grpc.Serve(listener) }()
	go func() { served <- s.healthGRPC.Serve(s.healthListen) }()
	slog.InfoContext(ctx, "serving", "host", opts.Config.GRPCHost, "port", s.port, "health_port", s.healthPort,
		"metrics_port", s.metrics.Port,
		"mtls", opts.Identity != nil, "services", s.names())
	workers, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	stopped := make(chan struct{})
	go func() { defer close(stopped); supervisor.Run(workers, opts.Workers, s.report) }()
	monitor, stopMonitor := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.watch(monitor) }()
	select {
	case <-ctx.Done():
	case err := <-served:
		stopMonitor()
		_ = s.metrics.Close()
		return fmt.Errorf("grpc server stopped by itself: %w", err)
	}
	stopMonitor()
	<-done
	s.shutdown(stopWorkers, stopped)
	return nil
}

func start(opts Options) (*Server, net.Listener, error) {
	if len(opts.Services) == 0 {
		return nil, nil, errors.New("a server needs at least one service")
	}
	if opts.CheckInterval == 0 {
		opts.CheckInterval = 2 * time.Second
	}
	if opts.Identity == nil && opts.Config.MTLS {
		return nil, nil, errors.New("mutual TLS is on (VIDMESH_MTLS) but the server has no identity")
	}
	listener, err := net.Listen("tcp", opts.Config.ListenAddr())
	if err != nil {
		return nil, nil, fmt.Errorf("cannot bind %s: %w", opts.Config.ListenAddr(), err)
	}
	healthListen, err := net.Listen("tcp", opts.Config.HealthAddr())
	if err != nil {
		_ = listener.Close()
		return nil, nil, fmt.Errorf("cannot bind the health port %s: %w", opts.Config.HealthAddr(), err)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	endpoint, err := opts.Metrics.Serve(opts.Config.MetricsAddr())
	if err != nil {
		_, _ = listener.Close(), healthListen.Close()
		return nil, nil, err
	}
	serverOpts := interceptors.Chain(opts.Config.MaxRPC, opts.Validator, opts.Metrics)
	if opts.Identity != nil { // authorization inside the access log, so a refusal has its line too
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(opts.Identity.Source.ServerTLS())),
			grpc.ChainUnaryInterceptor(opts.Identity.Authorizer.Unary),
			grpc.ChainStreamInterceptor(opts.Identity.Authorizer.Stream))
	}
	s := &Server{opts: opts, grpc: grpc.NewServer(serverOpts...), healthGRPC: grpc.NewServer(),
		health: health.NewServer(), port: listener.Addr().(*net.TCPAddr).Port,
		healthPort: healthListen.Addr().(*net.TCPAddr).Port, healthListen: healthListen, metrics: endpoint}
	for _, service := range opts.Services {
		s.grpc.RegisterService(service.Desc, service.Impl)
	}
	healthpb.RegisterHealthServer(s.grpc, s.health)
	healthpb.RegisterHealthServer(s.healthGRPC, s.health)
	reflection.Register(s.grpc)
	s.setAll(healthpb.HealthCheckResponse_NOT_SERVING)
	for _, worker := range opts.Workers {
		s.health.SetServingStatus(supervisor.HealthName(worker.Name), healthpb.HealthCheckResponse_NOT_SERVING)
	}
	if opts.OnListening != nil {
		opts.OnListening(s.port)
	}
	return s, listener, nil
}

func (s *Server) names() []string {
	names := make([]string, len(s.opts.Services))
	for i, service := range s.opts.Services {
		names[i] = service.Desc.ServiceName
	}
	return names
}

func (s *Server) setAll(status healthpb.HealthCheckResponse_ServingStatus) {
	for _, name := range append([]string{""}, s.names()...) {
		s.health.SetServingStatus(name, status)
	}
}

// report keeps a worker's health entry (and the critical ones' effect) in step with it.
func (s *Server) report(worker supervisor.Worker, up bool) {
	status := healthpb.HealthCheckResponse_SERVING
	if !up {
		status = healthpb.HealthCheckResponse_NOT_SERVING
	}
	s.health.SetServingStatus(supervisor.HealthName(worker.Name), status)
	s.opts.Metrics.ReportWorker(worker.Name, up)
	if worker.Critical {
		if up {
			s.down.Delete(worker.Name)
		} else {
			s.down.Store(worker.Name, true)
		}
	}
}

// Registration is how this instance appears in Consul.
func (s *Server) Registration() registry.Registration {
	c, first := s.opts.Config, s.opts.Services[0].Desc.ServiceName
	return registry.Registration{
		Name: c.ServiceName, Host: c.AdvertiseHost, Port: s.port, Version: c.Version,
		ProtoPackage: first[:max(strings.LastIndex(first, "."), 0)], HealthService: first,
		HealthPort: s.healthPort, Identity: c.Identity, MetricsPort: s.metrics.Port,
	}
}

// FetchIdentity is the identity c.Identity from the agent at c.ConsulHTTPAddr: its leaf and
// roots fetched (retrying until ctx ends) and then followed for as long as ctx lasts.
func FetchIdentity(ctx context.Context, c config.Config) (*Identity, error) {
	source, err := identity.NewSource(c.ConsulAddress(), c.Identity)
	if err != nil {
		return nil, err
	}
	authorizer, err := identity.NewAuthorizer(c.ConsulAddress(), source)
	if err != nil {
		return nil, err
	}
	if err := source.Start(ctx); err != nil {
		return nil, err
	}
	return &Identity{Source: source, Authorizer: authorizer}, nil
}
