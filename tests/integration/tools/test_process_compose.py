"""The stack's process-compose document, as rendered from the settings, is accepted by the real
process-compose (`up --dry-run`)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mesh.settings import Settings, load
from scripts.devstack.components import infrastructure, process_compose_config
from scripts.devstack.layout import Layout
from scripts.devstack.vidmesh import vidmesh_processes
from scripts.toolchain import Toolchain


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


def test_process_compose_accepts_the_document(document: dict[str, Any], settings: Settings, tmp_path: Path) -> None:
    tools = Toolchain(settings.cache_dir)
    config = tmp_path / "process-compose.yaml"
    config.write_text(yaml.safe_dump(document))
    result = subprocess.run([str(tools.process_compose), "up", "--dry-run", "--disable-dotenv", "-f", str(config),
                             "--no-server", "--log-file", str(tmp_path / "pc.log")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr

