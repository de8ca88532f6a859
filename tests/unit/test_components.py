"""The process-compose document: order, readiness, shutdown, and that process-compose accepts it."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from mesh.settings import Settings, load
from scripts.devstack.components import infrastructure, process_compose_config
from scripts.devstack.layout import Layout
from scripts.devstack.vidmesh import vidmesh_processes
from scripts.toolchain import Toolchain

# The database bootstrap, the policy that keeps a canary dark until `make canary`, and the
# intentions derived from the topology: done when they exit 0.
ONE_SHOTS = ("db-init", "traffic-init", "intentions")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load(environ={"VIDMESH_DATA_DIR": str(tmp_path / "data"), "VIDMESH_LOG_DIR": str(tmp_path / "logs")})


@pytest.fixture
def document(settings: Settings) -> dict[str, Any]:
    layout, tools = Layout(settings), Toolchain(settings.cache_dir)
    configs = {name: layout.run / f"{name}.conf" for name in ("kafka", "kafka-log4j2", "consul",
                                                          "envoy", "jaeger", "prometheus")}
    components = [*infrastructure(settings, layout, tools, configs), *vidmesh_processes(settings, layout, tools)]
    return process_compose_config(components, layout)


def test_every_long_running_process_waits_on_a_readiness_probe(document: dict[str, Any]) -> None:
    assert {"postgres", "kafka", "consul", "smtp-sink", "envoy", "xds", "certs", "jaeger", "prometheus"} <= set(
        document["processes"])
    for name, process in document["processes"].items():
        if name in ONE_SHOTS:
            assert "readiness_probe" not in process
            continue
        probe = process["readiness_probe"]
        assert "exec" in probe or "http_get" in probe, name


def test_gateway_starts_after_control_plane_and_its_certificate_and_stops_in_reverse(document: dict[str, Any]) -> None:
    processes = document["processes"]
    assert processes["envoy"]["depends_on"] == {"xds": {"condition": "process_healthy"},
                                                "certs": {"condition": "process_healthy"}}
    assert processes["xds"]["depends_on"] == {"consul": {"condition": "process_healthy"},
                                              "intentions": {"condition": "process_completed_successfully"}}
    assert document["ordered_shutdown"] is True


def test_every_service_starts_once_the_intentions_are_applied(document: dict[str, Any]) -> None:
    assert document["processes"]["intentions"]["depends_on"] == {"consul": {"condition": "process_healthy"}}
    for name in ("users-0", "video-query-1", "web-bff-0"):
        assert document["processes"][name]["depends_on"]["intentions"] == {
            "condition": "process_completed_successfully"}, name


def test_a_failed_intentions_step_is_run_again_a_bounded_number_of_times(document: dict[str, Any]) -> None:
    availability = document["processes"]["intentions"]["availability"]
    assert availability["restart"] == "on_failure" and 0 < availability["max_restarts"] < 3


def test_services_wait_for_the_database_bootstrap_to_finish(document: dict[str, Any]) -> None:
    for name, process in document["processes"].items():
        if "db-init" in process["depends_on"]:
            assert process["depends_on"]["db-init"] == {"condition": "process_completed_successfully"}, name


def test_a_canary_starts_once_the_traffic_policy_keeps_it_dark(document: dict[str, Any], settings: Settings) -> None:
    # settings.env starts video-query v2 next to v1: it must not take calls before `make canary`.
    processes = document["processes"]
    assert processes["traffic-init"]["depends_on"] == {"consul": {"condition": "process_healthy"}}
    canary = f"video-query-{settings.instances['video_query']}"  # after the stable instances
    assert processes[canary]["depends_on"]["traffic-init"] == {"condition": "process_completed_successfully"}
    assert "VIDMESH_SERVICE_VERSION=2" in processes[canary]["environment"]
    assert "traffic-init" not in processes["video-query-0"]["depends_on"]


def test_postgres_gets_fast_shutdown(document: dict[str, Any]) -> None:
    assert document["processes"]["postgres"]["shutdown"]["signal"] == signal.SIGINT


def test_every_long_running_process_comes_back_and_a_one_shot_does_not(document: dict[str, Any]) -> None:
    for name, process in document["processes"].items():
        availability = process["availability"]
        if name in ONE_SHOTS:
            assert availability["restart"] in ("no", "on_failure")  # the intentions retry while Consul elects
            continue
        # "always": a process that exits 0 on a stray SIGTERM must come back too.
        assert availability["restart"] == "always", name
        assert availability["backoff_seconds"] >= 1 and availability["max_restarts"] == 0, name


def test_each_instance_binds_its_own_address_and_advertises_its_name(document: dict[str, Any]) -> None:
    users = dict(line.split("=", 1) for line in document["processes"]["video-query-1"]["environment"])
    assert users["VIDMESH_GRPC_HOST"] == "127.0.3.2"
    assert users["VIDMESH_ADVERTISE_HOST"] == "video-query-1"
    assert users["VIDMESH_HOSTS_FILE"].endswith("/run/hosts")


def test_each_instance_serves_health_on_its_own_address_for_the_prober(settings: Settings) -> None:
    layout, tools = Layout(settings), Toolchain(settings.cache_dir)
    checks = {c.name: c.check for c in vidmesh_processes(settings, layout, tools)}
    assert checks["video-query-1"] == ("grpc", f"127.0.3.2:{settings.instance_health_port}")
    assert checks["xds"] == ("grpc", f"{settings.host}:{settings.instance_health_port}")


def test_every_instance_sends_spans_to_this_stacks_jaeger(tmp_path: Path) -> None:
    shifted = load(environ={"VIDMESH_DATA_DIR": str(tmp_path), "VIDMESH_JAEGER_OTLP_GRPC_PORT": "14317"})
    for component in vidmesh_processes(shifted, Layout(shifted), Toolchain(shifted.cache_dir)):
        if component.name != "db-init":
            assert component.env["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://{shifted.host}:14317", component.name
