// Package config reads a service process's settings once, from the same VIDMESH_*
// environment variables (same names, same loopback defaults) as the Python mesh/config.py,
// so the native stack and Compose configure a Go service exactly like a Python one.
package config

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is what one service process needs to know about its surroundings.
type Config struct {
	ServiceName    string
	Identity       string // the topology name its certificate names (MESH.md §13), whatever ServiceName is
	Version        string
	GRPCHost       string
	GRPCPort       int
	HealthPort     int  // plaintext grpc.health.v1 on GRPCHost (0 = any free port)
	MetricsPort    int  // plaintext /metrics on GRPCHost (0 = any free port; Consul says which)
	MTLS           bool // mutual TLS and intentions on the API port (false only to price them)
	AdvertiseHost  string
	ConsulHTTPAddr string
	KafkaBootstrap string
	DatabaseURL    string
	XDSAddr        string
	LogLevel       string
	ShutdownGrace  time.Duration
	Drain          time.Duration
	MaxRPC         time.Duration
	TopicPrefix    string        // put before every topic name: tests run beside the stack's topics
	Register       bool          // register in Consul (a tool or a test may serve unregistered)
	Retention      time.Duration // how long inbox rows are kept
	HostsFile      string        // the stack's own hosts map, read before DNS (natively)
}

// Env looks a variable up; os.LookupEnv in production, a map in tests.
type Env func(name string) (string, bool)

// FromMap is an Env over a map (tests, tools).
func FromMap(values map[string]string) Env {
	return func(name string) (string, bool) { value, ok := values[name]; return value, ok }
}

// Load reads the configuration. defaultName is used when VIDMESH_SERVICE_NAME is unset;
// every name in required must be set (e.g. VIDMESH_DATABASE_URL). Errors name the variable.
func Load(env Env, defaultName string, required ...string) (Config, error) {
	get := func(name, fallback string) string {
		if value, ok := env(name); ok && strings.TrimSpace(value) != "" {
			return strings.TrimSpace(value)
		}
		return fallback
	}
	for _, name := range required {
		if get(name, "") == "" {
			return Config{}, fmt.Errorf("missing required setting %s", name)
		}
	}
	p := parser{}
	host := get("VIDMESH_GRPC_HOST", "127.0.0.1")
	c := Config{
		ServiceName:    get("VIDMESH_SERVICE_NAME", defaultName),
		Identity:       defaultName,
		Version:        get("VIDMESH_SERVICE_VERSION", "1"),
		GRPCHost:       host,
		GRPCPort:       p.port("VIDMESH_GRPC_PORT", get("VIDMESH_GRPC_PORT", "0")),
		HealthPort:     p.port("VIDMESH_HEALTH_PORT", get("VIDMESH_HEALTH_PORT", "0")),
		MetricsPort:    p.port("VIDMESH_METRICS_PORT", get("VIDMESH_METRICS_PORT", "0")),
		MTLS:           p.flag("VIDMESH_MTLS", get("VIDMESH_MTLS", "true")),
		AdvertiseHost:  get("VIDMESH_ADVERTISE_HOST", advertised(host)),
		ConsulHTTPAddr: get("VIDMESH_CONSUL_HTTP_ADDR", "127.0.0.1:8500"),
		KafkaBootstrap: get("VIDMESH_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
		DatabaseURL:    get("VIDMESH_DATABASE_URL", ""),
		XDSAddr:        get("VIDMESH_XDS_ADDR", "127.0.0.1:18000"),
		LogLevel:       strings.ToLower(get("VIDMESH_LOG_LEVEL", "info")),
		ShutdownGrace:  p.seconds("VIDMESH_SHUTDOWN_GRACE_SECONDS", get("VIDMESH_SHUTDOWN_GRACE_SECONDS", "10")),
		Drain:          p.seconds("VIDMESH_DRAIN_SECONDS", get("VIDMESH_DRAIN_SECONDS", "1")),
		MaxRPC:         p.seconds("VIDMESH_MAX_RPC_SECONDS", get("VIDMESH_MAX_RPC_SECONDS", "30")),
		TopicPrefix:    get("VIDMESH_TOPIC_PREFIX", ""),
		Register:       p.flag("VIDMESH_CONSUL_REGISTER", get("VIDMESH_CONSUL_REGISTER", "true")),
		Retention:      p.seconds("VIDMESH_RETENTION_SECONDS", get("VIDMESH_RETENTION_SECONDS", "86400")),
		HostsFile:      get("VIDMESH_HOSTS_FILE", ""),
	}
	if c.ServiceName == "" {
		return Config{}, fmt.Errorf("missing required setting VIDMESH_SERVICE_NAME")
	}
	return c, p.err
}

// ListenAddr is where the gRPC server binds (port 0 picks any free port).
func (c Config) ListenAddr() string {
	return net.JoinHostPort(c.GRPCHost, strconv.Itoa(c.GRPCPort))
}

// HealthAddr is where the plaintext health server binds.
func (c Config) HealthAddr() string {
	return net.JoinHostPort(c.GRPCHost, strconv.Itoa(c.HealthPort))
}

// MetricsAddr is where /metrics binds.
func (c Config) MetricsAddr() string {
	return net.JoinHostPort(c.GRPCHost, strconv.Itoa(c.MetricsPort))
}

// ConsulAddress is Consul's HTTP address without a scheme, as consul/api wants it.
func (c Config) ConsulAddress() string {
	return strings.TrimPrefix(c.ConsulHTTPAddr, "http://")
}

// advertised is the address others dial: a wildcard bind (containers) is not one, so the
// host's own name is advertised instead, as mesh/config.py does.
func advertised(bindHost string) string {
	switch bindHost {
	case "0.0.0.0", "::", "[::]", "":
		if name, err := os.Hostname(); err == nil {
			return name
		}
	}
	return bindHost
}

// parser keeps the first malformed value so Load reports it with its variable's name.
type parser struct{ err error }

func (p *parser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, args...)
	}
}

func (p *parser) port(name, raw string) int {
	port, err := strconv.Atoi(raw)
	if err != nil || port < 0 || port > 65535 {
		p.fail("%s=%q is not a port number (0 picks any free port)", name, raw)
	}
	return port
}

func (p *parser) flag(name, raw string) bool {
	switch strings.ToLower(raw) {
	case "true", "1", "yes":
		return true
	case "false", "0", "no":
		return false
	}
	p.fail("%s=%q is not true or false", name, raw)
	return false
}

// Topic is a topic's name for this process: VIDMESH_TOPIC_PREFIX first.
func (c Config) Topic(name string) string { return c.TopicPrefix + name }

func (p *parser) seconds(name, raw string) time.Duration {
	value, err := strconv.ParseFloat(raw, 64)
	switch {
	case err != nil:
		p.fail("%s=%q is not a number of seconds", name, raw)
	case value < 0:
		p.fail("%s=%q must not be negative", name, raw)
	}
	return time.Duration(value * float64(time.Second))
}
