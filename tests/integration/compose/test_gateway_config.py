"""Compose's Envoy config is rendered at every start, inside the vidmesh image, from the one
template (gateway/envoy.yaml) and the settings in the environment, into a volume that Envoy
only reads. Checked with the real Compose (`docker-compose config`) and the real Envoy
(`envoy --mode validate`), running the gateway-config command in the image's file layout."""

from __future__ import annotations

import ipaddress
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mesh.settings import SETTINGS_FILE, Settings, load, read_env_file
from mesh.topology import CONTROL_PLANE
from mesh.xds import gateway_routes
from scripts import gateway
from scripts.toolchain import Toolchain
from tests.dockerfile import stages
from tests.integration.compose.support import Service, compose_services, runtime_image, volume_mount

RENDERER = "gateway-config"
DNS_CLUSTER_TYPES = {"STRICT_DNS", "LOGICAL_DNS"}


def envoy_config_path(services: dict[str, Service]) -> Path:
    command = services["envoy"]["command"]
    return Path(command[command.index("-c") + 1])


def gateway_folder(services: dict[str, Service]) -> str:
    """Where gateway-config writes: its command's last argument."""
    command = services[RENDERER]["command"]
    assert command[:-1] == ["python", "-m", "scripts.gateway", "compose"], command
    return str(command[-1])


def perturbed(value: str) -> str:
    return str(int(value) + 1) if value.isdigit() else f"{value}-changed"


def rendering(service: str, settings: Settings) -> str:
    """What the Compose service makes of the gateway's settings: gateway-config Envoy's
    config, the control plane the route table it serves over RDS."""
    if service == RENDERER:
        return gateway.compose_rendering(settings, Path("/gateway"))
    return str(gateway_routes.load(gateway_routes.ROUTES_FILE, gateway_routes.values(settings)))


def settings_that_shape_the_compose_gateway() -> list[tuple[str, str]]:
    """Every settings.env key whose change changes what Compose's gateway gets, with the
    service that renders it (found by changing each)."""
    found = []
    for service in (RENDERER, CONTROL_PLANE):
        default = rendering(service, load(environ={}))
        found += [(key, service) for key, value in read_env_file(SETTINGS_FILE).items()
                  if rendering(service, load(environ={key: perturbed(value)})) != default]
    return found


def run_renderer(renderer: Service, root: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """gateway-config's command with its environment, run in the image's layout under `root`
    (and no other settings: not this shell's); what it did, and root's stand-in for the volume."""
    app, folder = runtime_image(root), str(renderer["command"][-1])
    volume = root / folder.lstrip("/")
    volume.mkdir(parents=True)
    # A renderer that reads no settings (telemetry-config) has no environment in Compose.
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": f"{app}:{app}/gen/python", **renderer.get("environment", {})}
    command = [sys.executable if arg == "python" else arg for arg in renderer["command"]]
    command[-1] = str(volume)
    return subprocess.run(command, cwd=app, env=env, capture_output=True, text=True, timeout=60), volume


def envoy_validate(config: Path) -> subprocess.CompletedProcess[str]:
    envoy = Toolchain(load().cache_dir).envoy
    return subprocess.run([str(envoy), "--mode", "validate", "-c", str(config), "--log-level", "critical"],
                          capture_output=True, text=True, timeout=60)


def test_envoy_reads_the_volume_that_gateway_config_writes(services: dict[str, Service]) -> None:
    folder = gateway_folder(services)
    assert envoy_config_path(services) == Path(folder) / gateway.COMPOSE_CONFIG_NAME
    envoy, renderer = volume_mount(services["envoy"], folder), volume_mount(services[RENDERER], folder)
    assert envoy["source"] == renderer["source"]
    # Envoy's side copies nothing of its image into the volume, nor its root owner (moby#25854)...
    assert envoy.get("read_only") and envoy.get("volume", {}).get("nocopy"), envoy
    # ...while the renderer's side takes the owner of the image's folder, so it may write there.
    assert not renderer.get("read_only") and not renderer.get("volume", {}).get("nocopy"), renderer
    created = [line for line in stages()[-1] if line.startswith("RUN ") and "install -d -o vidmesh" in line]
    assert created and folder in created[0].split(), "the image must have the folder, owned by its user"
    # Envoy starts after each rendering, and again when a changed one replaced the container.
    assert services["envoy"]["depends_on"][RENDERER] == {"condition": "service_completed_successfully",
                                                           "restart": True, "required": True}
    assert services[RENDERER]["restart"] == "no" and services[RENDERER]["image"] == services["xds"]["image"]


def test_the_rendering_in_the_image_passes_envoy_validate(services: dict[str, Service], tmp_path: Path) -> None:
    done, volume = run_renderer(services[RENDERER], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    config = volume / gateway.COMPOSE_CONFIG_NAME
    transcoder = next(f for f in yaml.safe_load(config.read_text())["static_resources"]["listeners"][0]
                      ["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
                      if f["name"] == "envoy.filters.http.grpc_json_transcoder")
    descriptor = Path(transcoder["typed_config"]["proto_descriptor"])
    assert descriptor == volume / gateway.DESCRIPTOR.name
    assert descriptor.read_bytes() == gateway.DESCRIPTOR.read_bytes()
    for written in (config, descriptor):  # the Envoy image runs Envoy as its own envoy user
        assert written.stat().st_mode & stat.S_IROTH, written
    result = envoy_validate(config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_setting_stops_the_rendering_with_its_name(services: dict[str, Service], tmp_path: Path) -> None:
    renderer = services[RENDERER]
    broken = {**renderer, "environment": {**renderer["environment"], "VIDMESH_GATEWAY_RATE_PER_SECOND": "ten"}}
    done, volume = run_renderer(broken, tmp_path)
    # Envoy's dependency fails, and `docker compose up` shows this line of gateway-config's log.
    assert done.returncode == 1 and "VIDMESH_GATEWAY_RATE_PER_SECOND='ten'" in done.stderr, done.stderr
    assert not any(volume.iterdir()), "nothing half-written for Envoy to read"


@pytest.mark.parametrize(("key", "service"), settings_that_shape_the_compose_gateway())
def test_a_shell_override_reaches_the_compose_gateway(key: str, service: str, settings: Settings) -> None:
    value = perturbed(read_env_file(SETTINGS_FILE)[key])
    env = compose_services({key: value})[service]["environment"]
    assert env[key] == value, f"docker-compose.yml does not pass {key} to {service}"
    assert rendering(service, load(environ=env)) == rendering(
        service, load(environ={key: value})) != rendering(service, settings)


def test_the_settings_search_finds_the_gateway_settings() -> None:
    # Were it to find none, the parametrized test above would run no case and pass.
    found = settings_that_shape_the_compose_gateway()
    assert {("VIDMESH_GATEWAY_RATE_PER_SECOND", RENDERER), ("VIDMESH_GATEWAY_MAX_BODY_BYTES", RENDERER),
            ("VIDMESH_GATEWAY_LOGIN_BURST", CONTROL_PLANE), ("VIDMESH_WEB_ORIGIN", CONTROL_PLANE)} <= set(found), found
    assert not [key for key, _ in found if key.endswith("_PORT")], "container ports are fixed in Compose"


def endpoint_addresses(cluster: dict[str, Any]) -> list[str]:
    """The socket addresses a cluster dials (an internal listener, like static_files, has none)."""
    addresses = [lb["endpoint"]["address"]
                 for group in cluster.get("load_assignment", {}).get("endpoints", []) for lb in group["lb_endpoints"]]
    return [address["socket_address"]["address"] for address in addresses if "socket_address" in address]


def is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def test_the_compose_gateway_dials_host_names_only_through_dns(services: dict[str, Service]) -> None:
    config = yaml.safe_load(gateway.compose_rendering(load(environ={}), Path("/gateway")))
    names = []
    for cluster in config["static_resources"]["clusters"]:
        for address in endpoint_addresses(cluster):
            if not is_ip(address):
                # An endpoint of a STATIC or EDS cluster must be an IP literal; a name needs DNS.
                assert cluster["type"] in DNS_CLUSTER_TYPES, (cluster["name"], address)
                names.append(address)
    assert names and all(name in services for name in names), names  # e.g. `xds`, a Compose service
