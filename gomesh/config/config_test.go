package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreMeshConfigsLoopbackDefaults(t *testing.T) {
	c, err := Load(FromMap(nil), "recommendations")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{ServiceName: "recommendations", Identity: "recommendations", Version: "1",
		GRPCHost: "127.0.0.1", GRPCPort: 0, HealthPort: 0, MTLS: true,
		AdvertiseHost: "127.0.0.1", ConsulHTTPAddr: "127.0.0.1:8500", KafkaBootstrap: "127.0.0.1:9092",
		XDSAddr: "127.0.0.1:18000", LogLevel: "info", ShutdownGrace: 10 * time.Second, Drain: time.Second,
		MaxRPC: 30 * time.Second, Register: true, Retention: 24 * time.Hour}
	if c != want {
		t.Errorf("Load() = %+v\nwant     %+v", c, want)
	}
}

func TestVariablesOverrideDefaults(t *testing.T) {
	c, err := Load(FromMap(map[string]string{"VIDMESH_GRPC_PORT": "7080", "VIDMESH_DRAIN_SECONDS": "0.5",
		"VIDMESH_CONSUL_HTTP_ADDR": "http://consul:8500", "VIDMESH_GRPC_HOST": "0.0.0.0",
		"VIDMESH_ADVERTISE_HOST": "recommendations", "VIDMESH_METRICS_PORT": "9464"}), "x")
	if err != nil {
		t.Fatal(err)
	}
	if c.GRPCPort != 7080 || c.Drain != 500*time.Millisecond || c.ConsulAddress() != "consul:8500" ||
		c.AdvertiseHost != "recommendations" || c.ListenAddr() != "0.0.0.0:7080" ||
		c.MetricsAddr() != "0.0.0.0:9464" {
		t.Errorf("Load() = %+v", c)
	}
}

func TestBadOrMissingSettingsNameTheVariable(t *testing.T) {
	tests := []struct {
		env      map[string]string
		required []string
		name     string
	}{
		{map[string]string{"VIDMESH_GRPC_PORT": "seventy"}, nil, "VIDMESH_GRPC_PORT"},
		{map[string]string{"VIDMESH_GRPC_PORT": "70000"}, nil, "VIDMESH_GRPC_PORT"},
		{map[string]string{"VIDMESH_METRICS_PORT": "-1"}, nil, "VIDMESH_METRICS_PORT"},
		{map[string]string{"VIDMESH_MAX_RPC_SECONDS": "-1"}, nil, "VIDMESH_MAX_RPC_SECONDS"},
		{map[string]string{"VIDMESH_CONSUL_REGISTER": "maybe"}, nil, "VIDMESH_CONSUL_REGISTER"},
		{map[string]string{"VIDMESH_DATABASE_URL": "  "}, []string{"VIDMESH_DATABASE_URL"}, "VIDMESH_DATABASE_URL"},
	}
	for _, test := range tests {
		_, err := Load(FromMap(test.env), "x", test.required...)
		if err == nil || !strings.Contains(err.Error(), test.name) {
			t.Errorf("Load(%v) error = %v, want one naming %s", test.env, err, test.name)
		}
	}
}
