"""The stack's command line on a second, private stack (other ports, other folders):
a taken port stops the start cleanly, a killed run is cleaned up, a closed terminal
(SIGHUP) stops everything."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from mesh.settings import ROOT
from scripts.devstack import private
from tests.stack.conftest import processes_using

# Longer than pytest's default timeout: each test starts a whole private stack, some twice.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def private_env(scratch: Path) -> Iterator[dict[str, str]]:
    env = private.private_env(scratch)
    yield env
    subprocess.run([sys.executable, "-m", "scripts.devstack", "down"], env=env, cwd=ROOT, timeout=120)
    assert processes_using(scratch) == []


def _devstack(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scripts.devstack", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_taken_port_fails_clearly_and_leaves_nothing(private_env: dict[str, str], scratch: Path) -> None:
    kafka_port = int(private_env["VIDMESH_KAFKA_PORT"])
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a recent run may leave TIME_WAIT
        squatter.bind(("127.0.0.1", kafka_port))
        squatter.listen()
        result = _devstack(private_env, "start")
    assert result.returncode == 1
    assert f"kafka cannot bind 127.0.0.1:{kafka_port}: already in use" in result.stderr
    assert processes_using(scratch) == []


def test_start_after_a_killed_run_cleans_up_and_comes_back(private_env: dict[str, str], scratch: Path) -> None:
    first = _devstack(private_env, "start")
    assert first.returncode == 0, first.stdout + first.stderr
    # kill -9 the process manager: its children live on, holding the ports.
    state = (scratch / "data" / "run" / "stack.json").read_text()
    manager = psutil.Process(int(json.loads(state)[0]["pid"]))
    manager.kill()
    manager.wait(10)
    # And leave Kafka's data folder as a crash during `format` would.
    (scratch / "data" / "kafka" / ".vidmesh-ready").unlink()

    second = _devstack(private_env, "start")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "stopped leftovers of a killed run" in second.stdout
    assert "all healthy" in second.stdout
    status = _devstack(private_env, "status")
    assert status.returncode == 0, status.stdout
    rows = [line.split() for line in status.stdout.splitlines()[1:] if line and not line.startswith(("total", "logs"))]
    assert {row[0] for row in rows} >= {"postgres", "kafka", "consul", "smtp-sink", "envoy", "xds"}
    assert all(row[3] in ("yes", "done") for row in rows), status.stdout


def test_a_closed_terminal_stops_everything(private_env: dict[str, str], scratch: Path) -> None:
    up = subprocess.Popen([sys.executable, "-m", "scripts.devstack", "up"], env=private_env, cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert up.stdout is not None
    seen = []
    for line in up.stdout:  # bounded by the start timeout inside `up`
        seen.append(line)
        if "press Ctrl-C" in line:
            break
    assert any("all healthy" in line for line in seen), "".join(seen)
    assert processes_using(scratch)
    os.killpg(up.pid, signal.SIGHUP)  # what the terminal's session sends when its window closes
    rest, _ = up.communicate(timeout=120)
    assert up.returncode == 0, rest
    assert "stopped" in rest
    assert processes_using(scratch) == []
