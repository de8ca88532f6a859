"""A newcomer's first hour, on a private stack: a fresh clone (no gen/, no .venv) started with
the README's first command, its output piped into a reader that is gone after one line
(`make up | head -1`); then every part killed with kill -9 in turn, the system answering a
REST write-then-read again each time with no command typed; then Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid

import httpx
import psutil
import pytest

from scripts.devstack.status import health
from tests.e2e.support.rest import Gateway
from tests.e2e.support.waiting import eventually
from tests.stack.conftest import Newcomer, gateway_url, processes_using, states

# Longer than pytest's default timeout: the first test builds a fresh clone's .venv and gen/, then starts it.
pytestmark = pytest.mark.timeout(1200)

HEAL_S = 120.0  # Kafka's restart and a consumer group's rebalance are the slow ones
# Every kind of part: the infrastructure, the control plane, the gateway, and a service.
KILLED = ("postgres", "kafka", "consul", "envoy", "xds", "video-command-0")


def test_a_fresh_clone_comes_up_healthy_with_make_up(newcomer: Newcomer) -> None:
    newcomer.wait_healthy()
    status = subprocess.run(["make", "status"], cwd=newcomer.clone, env=newcomer.env, capture_output=True,
                            text=True, timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "RESTARTS" in status.stdout


def _write_then_read(gateway: Gateway) -> bool:
    try:
        owner = gateway.sign_up("Heal")
        video_id, version = gateway.create_video(owner, f"after a kill {uuid.uuid4().hex[:6]}")
        return bool(gateway.video_page(video_id, version, owner)["video"]["card"]["videoId"] == video_id)
    except httpx.HTTPError as error:  # the gateway itself may still be coming back
        raise AssertionError(repr(error)) from error


@pytest.mark.parametrize("part", KILLED)
def test_kill_9_of_a_part_heals_without_a_command(newcomer: Newcomer, part: str) -> None:
    before = states(newcomer.env)[part]
    assert before.healthy, before
    psutil.Process(before.pid).kill()
    seen: set[str] = set()

    def back() -> bool:
        state = states(newcomer.env).get(part)
        seen.add(health(state))
        return state is not None and state.restarts > before.restarts and state.healthy

    eventually(back, f"{part} restarted by the stack and healthy", timeout=HEAL_S, interval=0.1)
    assert seen & {"down", "no"}, f"the status never showed {part} down while it was dead: {seen}"
    gateway = Gateway(gateway_url(newcomer.env))
    try:
        began = time.monotonic()
        eventually(lambda: _write_then_read(gateway), f"a REST write-then-read after kill -9 of {part}",
                   timeout=HEAL_S, interval=1.0)
        print(f"{part}: write-then-read answered {time.monotonic() - began:.1f}s after it was healthy again")
    finally:
        gateway.close()


def test_ctrl_c_with_the_reader_of_its_output_gone_stops_everything(newcomer: Newcomer) -> None:
    assert newcomer.up.poll() is None
    os.killpg(newcomer.up.pid, signal.SIGINT)  # what the terminal sends to the pipeline on Ctrl-C
    newcomer.up.wait(120)
    assert processes_using(newcomer.clone) == []
