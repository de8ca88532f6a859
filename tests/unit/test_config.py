"""mesh.config: loopback defaults, environment overrides, required settings named."""

from __future__ import annotations

import socket

import pytest

from mesh.config import ConfigError, load, require


def test_defaults_are_loopback_and_any_free_port() -> None:
    config = load({}, service_name="users")
    assert config.service_name == "users"
    assert (config.grpc_host, config.grpc_port, config.advertise_host) == ("127.0.0.1", 0, "127.0.0.1")
    assert config.consul_http_addr == "127.0.0.1:8500"
    assert config.consul_host_port == ("127.0.0.1", 8500)
    assert config.kafka_bootstrap == "127.0.0.1:9092"
    assert config.xds_addr == "127.0.0.1:18000"
    assert config.database_url is None
    assert config.log_level == "info"
    assert config.shutdown_grace_s == 10.0


def test_environment_overrides_defaults() -> None:
    config = load(
        {
            "VIDMESH_SERVICE_NAME": "video-query",
            "VIDMESH_GRPC_HOST": "10.0.0.5",
            "VIDMESH_GRPC_PORT": "50051",
            "VIDMESH_CONSUL_HTTP_ADDR": "http://consul:8501",
            "VIDMESH_KAFKA_BOOTSTRAP": "kafka:9092",
            "VIDMESH_DATABASE_URL": "postgresql://video@db/video",
            "VIDMESH_LOG_LEVEL": "DEBUG",
            "VIDMESH_SHUTDOWN_GRACE_SECONDS": "2.5",
        },
        service_name="ignored-default",
    )
    assert config.service_name == "video-query"
    assert (config.grpc_host, config.grpc_port, config.advertise_host) == ("10.0.0.5", 50051, "10.0.0.5")
    assert config.consul_host_port == ("consul", 8501)
    assert config.kafka_bootstrap == "kafka:9092"
    assert config.require_database_url() == "postgresql://video@db/video"
    assert config.log_level == "debug"
    assert config.shutdown_grace_s == 2.5


def test_wildcard_bind_advertises_the_hostname() -> None:
    config = load({"VIDMESH_GRPC_HOST": "0.0.0.0"}, service_name="users")
    assert config.advertise_host == socket.gethostname()


def test_missing_required_setting_names_it() -> None:
    with pytest.raises(ConfigError, match="VIDMESH_DATABASE_URL"):
        load({}, service_name="users", required=["VIDMESH_DATABASE_URL"])
    with pytest.raises(ConfigError, match="VIDMESH_DATABASE_URL"):
        load({}, service_name="users").require_database_url()
    with pytest.raises(ConfigError, match="VIDMESH_SERVICE_NAME"):
        load({})
    assert require("VIDMESH_X", {"VIDMESH_X": " set "}) == "set"


@pytest.mark.parametrize(
    ("name", "value"),
    [("VIDMESH_GRPC_PORT", "http"), ("VIDMESH_GRPC_PORT", "70000"), ("VIDMESH_SHUTDOWN_GRACE_SECONDS", "soon")],
)
def test_malformed_setting_names_it(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load({name: value}, service_name="users")
