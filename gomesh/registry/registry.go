// Package registry registers one service instance in the local Consul agent with a gRPC
// health check, as mesh/registry.py does: Consul runs the check every second against
// grpc.health.v1 for the instance's own gRPC service (NOT_SERVING reads as critical), so
// only ready instances are in the passing set the gateway and the BFFs route to. An instance
// advertised by name registers the IP its name resolves to (Envoy and proxyless gRPC take
// IP endpoints only); the name stays in the id and in the `hostname` metadata.
package registry

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	consul "github.com/hashicorp/consul/api"

	"vidmesh/gomesh/addresses"
)

const (
	checkInterval           = "1s" // Consul's minimum; how fast a dead instance drops out
	checkTimeout            = "3s" // a dead instance fails at once; a loaded one may take over a second
	deregisterCriticalAfter = "1m" // Consul's floor; cleans up after a crash
	callTimeout             = 2 * time.Second
)

// Registration is what Consul knows about one instance.
type Registration struct {
	Name          string // the Consul service name, e.g. "recommendations"
	Host          string // the advertised address
	Port          int
	Version       string
	ProtoPackage  string // e.g. "vidmesh.recommendations.v1"
	HealthService string // the grpc.health.v1 service the check asks about
	HealthPort    int    // where it serves health in plaintext: Consul's check has no certificate
	Identity      string // the service its certificate names, which clients expect (MESH.md §13)
	MetricsPort   int    // where it serves /metrics on its address (0 = it serves none)
}

// ID is unique per instance and stable across re-registrations: name-host-port.
func (r Registration) ID() string { return fmt.Sprintf("%s-%s-%d", r.Name, r.Host, r.Port) }

// Consul registers and deregisters instances with one agent.
type Consul struct {
	client   *consul.Client
	resolver *addresses.Resolver
}

// New is a registry talking to the agent at address (host:port), resolving advertised
// names with resolver.
func New(address string, resolver *addresses.Resolver) (*Consul, error) {
	cfg := consul.DefaultConfig()
	cfg.Address = address
	cfg.HttpClient = nil
	cfg.WaitTime = callTimeout
	client, err := consul.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client for %s: %w", address, err)
	}
	return &Consul{client, resolver}, nil
}

// Register adds (or replaces) the instance and its check; Consul starts it critical.
func (c *Consul) Register(ctx context.Context, r Registration) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	ip, err := c.resolver.Resolve(ctx, r.Host)
	if err != nil {
		return err
	}
	target := net.JoinHostPort(ip, strconv.Itoa(r.HealthPort)) + "/" + r.HealthService
	service := &consul.AgentServiceRegistration{
		ID: r.ID(), Name: r.Name, Address: ip, Port: r.Port,
		Tags: []string{"vidmesh", "v" + r.Version},
		Meta: map[string]string{"version": r.Version, "proto_package": r.ProtoPackage, "hostname": r.Host,
			"identity": r.Identity},
		Check: &consul.AgentServiceCheck{
			GRPC: target, Interval: checkInterval, Timeout: checkTimeout,
			DeregisterCriticalServiceAfter: deregisterCriticalAfter,
		},
	}
	if r.MetricsPort != 0 { // Prometheus scrapes the registered address at this port (MESH.md §14)
		service.Meta["metrics_port"] = strconv.Itoa(r.MetricsPort)
	}
	return c.client.Agent().ServiceRegisterOpts(service, consul.ServiceRegisterOpts{}.WithContext(ctx))
}

// Deregister removes the instance: it leaves the passing set at once.
func (c *Consul) Deregister(ctx context.Context, r Registration) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return c.client.Agent().ServiceDeregisterOpts(r.ID(), (&consul.QueryOptions{}).WithContext(ctx))
}

// Registered says whether the agent still knows the instance (a restarted dev agent forgets).
func (c *Consul) Registered(ctx context.Context, r Registration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	service, _, err := c.client.Agent().Service(r.ID(), (&consul.QueryOptions{}).WithContext(ctx))
	if err != nil {
		if statusErr, ok := err.(consul.StatusError); ok && statusErr.Code == 404 {
			return false, nil
		}
		return false, err
	}
	return service != nil, nil
}
