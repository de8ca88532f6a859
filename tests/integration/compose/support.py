"""What the Compose tests share: the resolved compose file and the native stack's processes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from mesh.settings import ROOT, Settings
from scripts import compose_env
from scripts.devstack.components import Component, infrastructure
from scripts.devstack.layout import Layout
from scripts.devstack.vidmesh import vidmesh_processes
from scripts.toolchain import Toolchain
from tests.dockerfile import stages

Service = dict[str, Any]
# Run to completion; the others keep running, healthy.
ONE_SHOTS = {"db-init", "gateway-config", "intentions", "traffic-init", "telemetry-config"}
# A one-shot is run once ("no"), or again when it fails, a few times (the intentions, as natively).
ONE_SHOT_RESTART = {"intentions": "on-failure:3"}
NATIVE_NAMES = {"smtp-sink": "mailpit"}  # native process -> Compose service, where they differ
# The native stack's own readiness prober: Compose has healthchecks instead.
NATIVE_ONLY = {"prober"}


def compose_services(overrides: dict[str, str] | None = None) -> dict[str, Service]:
    """The services as the real Compose resolves them (interpolated from .env, anchors merged);
    `overrides` plays the shell's environment, which wins over .env."""
    return compose_env.resolved(overrides)["services"]  # type: ignore[no-any-return]


def native_components(settings: Settings) -> list[Component]:
    """Every process the native stack starts that Compose runs too: infrastructure, db-init,
    xds and each instance."""
    layout, tools = Layout(settings), Toolchain(settings.cache_dir)
    configs = {name: layout.run / f"{name}.conf" for name in ("kafka", "kafka-log4j2", "consul",
                                                          "envoy", "jaeger", "prometheus")}
    every = [*infrastructure(settings, layout, tools, configs), *vidmesh_processes(settings, layout, tools)]
    return [component for component in every if component.name not in NATIVE_ONLY]


def compose_name(native_name: str) -> str:
    """`video-query-0` runs as Compose service `video-query`, `video-query-1` as `video-query-1`."""
    base, _, n = native_name.rpartition("-")
    return NATIVE_NAMES.get(native_name, base if n == "0" else native_name)


def volume_mount(service: Service, target: str) -> dict[str, Any]:
    """The named-volume mount of `service` at `target`."""
    return next(v for v in service.get("volumes", []) if v["type"] == "volume" and v["target"] == target)


def runtime_image(root: Path) -> Path:
    """The vidmesh image's files under `root` (a stand-in for its /), laid out by the COPY lines
    of the Dockerfile's last stage: sources from this checkout, the codegen stage's /src/gen
    from this checkout's gen/ (`make protos` builds the same). The virtual environment is
    left out: the tests run the image's commands with their own interpreter. Returns /app."""
    *builders, final = stages()
    workdir = next(line.split()[1] for line in final if line.startswith("WORKDIR "))
    # The build stages work in a copy of this checkout (WORKDIR /src, where codegen writes gen/).
    build_dir = next(line.split()[1] for stage in builders for line in stage if line.startswith("WORKDIR "))
    for line in final:
        words = line.split()[1:] if line.startswith("COPY ") else []
        stage = next((w.removeprefix("--from=") for w in words if w.startswith("--from=")), None)
        paths = [w for w in words if not w.startswith("--")]
        if not paths or stage == "deps":
            continue
        *sources, dest = paths
        target = root / (dest if dest.startswith("/") else f"{workdir}/{dest}").lstrip("/")
        for source in sources:
            local = ROOT / (source.removeprefix(f"{build_dir}/") if stage else source)
            if local.is_dir():
                shutil.copytree(local, target, dirs_exist_ok=True)
            else:
                into = target / local.name if dest.endswith("/") or len(sources) > 1 else target
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(local, into)
    return root / workdir.lstrip("/")
