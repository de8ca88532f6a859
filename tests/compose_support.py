"""What the Compose tests share: the resolved compose file and the native stack's processes."""

from __future__ import annotations

from typing import Any

from mesh.settings import Settings
from scripts import compose_env
from scripts.devstack.components import Component, infrastructure
from scripts.devstack.layout import Layout
from scripts.devstack.vidmesh import vidmesh_processes
from scripts.toolchain import Toolchain

Service = dict[str, Any]
ONE_SHOTS = {"db-init", "descriptors"}  # run to completion; the others keep running, healthy
NATIVE_NAMES = {"smtp-sink": "mailpit"}  # native process -> Compose service, where they differ


def compose_services() -> dict[str, Service]:
    """The services as the real Compose resolves them (interpolated from .env, anchors merged)."""
    return compose_env.resolved()["services"]  # type: ignore[no-any-return]


def native_components(settings: Settings) -> list[Component]:
    """Every process the native stack starts: infrastructure, db-init, xds and each instance."""
    layout, tools = Layout(settings), Toolchain(settings.cache_dir)
    configs = {name: layout.run / f"{name}.conf" for name in ("kafka", "kafka-log4j2", "consul", "envoy")}
    return [*infrastructure(settings, layout, tools, configs), *vidmesh_processes(settings, layout, tools)]


def compose_name(native_name: str) -> str:
    """`video-query-0` runs as Compose service `video-query`, `video-query-1` as `video-query-1`."""
    base, _, n = native_name.rpartition("-")
    return NATIVE_NAMES.get(native_name, base if n == "0" else native_name)
