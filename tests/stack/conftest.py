"""The stack as a person runs it, on private stacks (their own ports and folders) next to the
shared one: its command line, what a fresh clone does, how it heals after kill -9, and what
an outage of Kafka costs.

These tests start, kill and stop whole stacks, so they never touch the shared stack that the
integration and e2e tests use. The disruptive ones share one private stack (`newcomer`): a
fresh clone started with `make up | head -1`, stopped by the last test with Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from mesh.settings import ROOT, Settings, load
from scripts.devstack import private
from scripts.devstack.layout import Layout
from scripts.devstack.manager import ProcessCompose, ProcessState
from scripts.toolchain import Toolchain
from tests.e2e.support.waiting import eventually


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder of its own. Not pytest's tmp_path: its parents are private to root, and
    Postgres runs as another user that must reach its data folder."""
    folder = Path(tempfile.mkdtemp(prefix="vidmesh-stack-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def processes_using(folder: Path) -> list[str]:
    """Command lines of the processes that mention `folder` (what a stack there runs)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            cmdline = " ".join(process.info["cmdline"] or [])
        except psutil.Error:
            continue
        if str(folder) in cmdline:
            found.append(cmdline[:160])
    return found


def fresh_clone(destination: Path) -> Path:
    """What `git clone` of this tree gives a newcomer: no gen/, no .venv, no .run. The
    working tree's tracked and untracked-but-not-ignored files are laid over the clone,
    so uncommitted work is what gets tried, as CI tries the commit."""
    subprocess.run(["git", "clone", "-q", str(ROOT), str(destination)], check=True, timeout=120)
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, check=True, capture_output=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, listed):
        source, target = ROOT / name, destination / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif not source.exists():
            target.unlink(missing_ok=True)  # deleted in the working tree
    return destination


def states(env: dict[str, str]) -> dict[str, ProcessState]:
    """The process states of the private stack that `env` describes, by name."""
    settings = load(environ=env)
    manager = ProcessCompose(Toolchain(settings.cache_dir), Layout(settings))
    return {state.name: state for state in manager.processes() or []}


FIRST_START_S = 900.0  # a fresh clone builds its own .venv and gen/ first; the cache is warm


def all_healthy(env: dict[str, str]) -> bool:
    """Whether every process of the private stack that `env` describes is ready (or done)."""
    found = states(env)
    return bool(found) and all(state.done for state in found.values())


def gateway_url(env: dict[str, str]) -> str:
    """The REST front door of the private stack that `env` describes."""
    settings: Settings = load(environ=env)
    return f"http://{settings.host}:{settings.envoy_port}"


@dataclass(frozen=True)
class Newcomer:
    """The clone, the environment its stack runs with, and `make up | head -1` running."""

    clone: Path
    env: dict[str, str]
    up: subprocess.Popen[str]

    @property
    def settings(self) -> Settings:
        """The private stack's settings (its ports and folders)."""
        return load(environ=self.env)

    def wait_healthy(self, timeout: float = FIRST_START_S) -> None:
        """Wait until every part is ready: a test may run first, or right after a kill."""
        eventually(lambda: self.up.poll() is not None or all_healthy(self.env),
                   "the fresh clone's stack all healthy", timeout=timeout, interval=1.0)
        assert self.up.poll() is None, f"make up exited: {self.up.communicate()[0][-3000:]}"


@pytest.fixture(scope="session")
def newcomer() -> Iterator[Newcomer]:
    """A fresh clone's stack, started as the README says, with its output piped into a
    reader that is gone after one line."""
    folder = Path(tempfile.mkdtemp(prefix="vidmesh-newcomer-"))
    clone = fresh_clone(folder / "vidmesh")
    assert not (clone / "gen").exists() and not (clone / ".venv").exists()
    env = {key: value for key, value in private.private_env(clone / ".run").items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(VIDMESH_DATA_DIR=str(clone / ".run" / "data"), VIDMESH_LOG_DIR=str(clone / ".run" / "logs"))
    up = subprocess.Popen(["bash", "-c", "make up | head -1"], cwd=clone, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield Newcomer(clone, env, up)
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGINT)
            up.wait(120)
        subprocess.run(["make", "down"], cwd=clone, env=env, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


LAST = "test_ctrl_c_with_the_reader_of_its_output_gone_stops_everything"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The test that stops the shared private stack runs after every test that uses it."""
    items.sort(key=lambda item: item.name == LAST)
