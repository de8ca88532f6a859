"""The alert rules under the real promtool, and the rendered Prometheus and Jaeger configs
under the real binaries (the Go builds of `make deps`), native and Compose renderings alike;
the native Prometheus itself, built with Consul's discovery alone."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from mesh.settings import Settings, load
from scripts import telemetry_config
from scripts.toolchain import Toolchain

RULES = telemetry_config.TEMPLATES / "rules"
READY_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load()


@pytest.fixture(scope="module")
def tools(settings: Settings) -> Toolchain:
    return Toolchain(settings.cache_dir)


def run(command: list[str], cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)


def test_every_rule_passes_its_promtool_test(tools: Toolchain) -> None:
    result = run([str(tools.promtool), "test", "rules", "vidmesh.rules.test.yml"], cwd=RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_every_alert_has_a_test_that_fires_it() -> None:
    rules = yaml.safe_load((RULES / "vidmesh.rules.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
    tests = yaml.safe_load((RULES / "vidmesh.rules.test.yml").read_text())["tests"]
    fired = {case["alertname"] for test in tests for case in test.get("alert_rule_test", []) if case["exp_alerts"]}
    assert alerts == fired == {"InstanceDown", "ConsumerLagging", "DeadLetters", "OutboxBacklogGrowing"}


def test_a_wrong_expectation_fails_the_promtool_test(tools: Toolchain, tmp_path: Path) -> None:
    # The test above can fail: the same file with the instance-down alert expected 10 s early.
    broken = (RULES / "vidmesh.rules.test.yml").read_text().replace("  - eval_time: 70s\n", "  - eval_time: 60s\n", 1)
    (tmp_path / "vidmesh.rules.test.yml").write_text(broken)
    (tmp_path / "vidmesh.rules.yml").write_text((RULES / "vidmesh.rules.yml").read_text())
    result = run([str(tools.promtool), "test", "rules", "vidmesh.rules.test.yml"], cwd=tmp_path)
    assert result.returncode != 0 and "InstanceDown" in result.stdout + result.stderr


def test_prometheus_accepts_both_renderings(settings: Settings, tools: Toolchain, tmp_path: Path) -> None:
    native = telemetry_config.native(settings, tmp_path / "native")["prometheus"]
    (tmp_path / "compose").mkdir()
    telemetry_config.write_compose(tmp_path / "compose", settings)
    rules = yaml.safe_load((RULES / "vidmesh.rules.yml").read_text())
    count = sum(len(group["rules"]) for group in rules["groups"])
    for config in (native, tmp_path / "compose" / "prometheus.yml"):
        result = run([str(tools.promtool), "check", "config", str(config)])
        assert result.returncode == 0, f"{config}:\n{result.stdout}{result.stderr}"
        assert f"SUCCESS: {count} rules found" in result.stdout + result.stderr  # the rule file it names


def test_jaeger_accepts_both_renderings(settings: Settings, tools: Toolchain, tmp_path: Path) -> None:
    native = telemetry_config.native(settings, tmp_path / "native")["jaeger"]
    (tmp_path / "compose").mkdir()
    telemetry_config.write_compose(tmp_path / "compose", settings)
    for config in (native, tmp_path / "compose" / "jaeger.yaml"):
        result = run([str(tools.jaeger), "validate", "--config", str(config)])
        assert result.returncode == 0, f"{config}:\n{result.stdout}{result.stderr}"


def test_every_jaeger_listener_binds_the_settings_host_and_port(settings: Settings, tmp_path: Path) -> None:
    config = yaml.safe_load(telemetry_config.native(settings, tmp_path)["jaeger"].read_text())
    endpoints = [config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"],
                 config["receivers"]["otlp"]["protocols"]["http"]["endpoint"],
                 config["extensions"]["jaeger_query"]["http"]["endpoint"],
                 config["extensions"]["jaeger_query"]["grpc"]["endpoint"],
                 config["extensions"]["healthcheckv2"]["http"]["endpoint"]]
    metrics = config["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]
    endpoints.append(f"{metrics['host']}:{metrics['port']}")
    assert endpoints == [f"{settings.host}:{port}" for port in (
        settings.jaeger_otlp_grpc_port, settings.jaeger_otlp_http_port, settings.jaeger_query_port,
        settings.jaeger_query_grpc_port, settings.jaeger_health_port, settings.jaeger_metrics_port)]
    # Nothing else listens: no Jaeger or Zipkin receivers, no remote sampling, no zpages.
    assert set(config["receivers"]) == {"otlp"}
    assert set(config["service"]["extensions"]) == {"jaeger_storage", "jaeger_query", "healthcheckv2"}


def test_jaegers_trace_bound_is_the_setting_in_both_renderings(tmp_path: Path) -> None:
    # The soak lowers it so that Jaeger's memory reaches its bound within the warm-up.
    settings = load(environ={"VIDMESH_JAEGER_MAX_TRACES": "123"})
    (tmp_path / "compose").mkdir()
    telemetry_config.write_compose(tmp_path / "compose", settings)
    native = telemetry_config.native(settings, tmp_path / "native")["jaeger"]
    for config in (native, tmp_path / "compose" / "jaeger.yaml"):
        storage = yaml.safe_load(config.read_text())["extensions"]["jaeger_storage"]
        assert storage["backends"]["memstore"]["memory"] == {"max_traces": 123}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_native_prometheus_loads_the_stacks_config(settings: Settings, tools: Toolchain, tmp_path: Path) -> None:
    # promtool checked it above; this is the binary the stack runs, built with Consul's discovery only.
    config = telemetry_config.native(settings, tmp_path)["prometheus"]
    address = f"127.0.0.1:{free_port()}"
    process = subprocess.Popen([str(tools.prometheus), f"--config.file={config}", f"--web.listen-address={address}",
                                f"--storage.tsdb.path={tmp_path / 'data'}", "--log.level=warn"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _ready(address):
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, f"Prometheus not ready at {address} after {READY_TIMEOUT_S:.0f} s"
            time.sleep(0.2)  # polling interval of a bounded readiness wait
        jobs = httpx.get(f"http://{address}/api/v1/status/config", timeout=5).json()["data"]["yaml"]
        assert "consul_sd_configs" in jobs
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ready(address: str) -> bool:
    try:
        return httpx.get(f"http://{address}/-/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_native_prometheus_has_no_other_discovery(tools: Toolchain, tmp_path: Path) -> None:
    # The build tags left every other discovery out: a Kubernetes job is not even a known field.
    config = tmp_path / "kubernetes.yml"
    config.write_text("scrape_configs:\n- job_name: pods\n  kubernetes_sd_configs:\n  - role: pod\n")
    result = run([str(tools.prometheus), f"--config.file={config}", f"--web.listen-address=127.0.0.1:{free_port()}",
                  f"--storage.tsdb.path={tmp_path / 'data'}"], timeout=30)  # a build with it would keep running
    assert result.returncode != 0
    assert "field kubernetes_sd_configs not found" in result.stdout + result.stderr
