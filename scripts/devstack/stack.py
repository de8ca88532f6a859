"""The native stack as one object: start it healthy, report it, stop it."""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator

import yaml

from mesh import settings as settings_module
from scripts.console import say
from scripts.devstack.components import Component, infrastructure, process_compose_config
from scripts.devstack.layout import Layout
from scripts.devstack.manager import ProcessCompose, ProcessState, record_pids, stop_leftovers, wait_gone
from scripts.devstack.preflight import check_ports
from scripts.devstack.prepare import prepare
from scripts.devstack.status import table
from scripts.devstack.vidmesh import vidmesh_processes
from scripts.toolchain import Toolchain

START_TIMEOUT = 300.0  # first start formats Kafka and runs initdb; later ones take seconds (more on a busy machine)
# A process that keeps exiting while the stack starts is broken, not unlucky: report it
# instead of letting process-compose restart it until the timeout.
START_RESTARTS = 3


class StartFailed(RuntimeError):
    """A component exited or did not become healthy in time; the message shows its log."""


class Stack:
    """The infrastructure processes under one process-compose server."""

    def __init__(self) -> None:
        self.settings = settings_module.load()
        self.layout = Layout(self.settings)
        self.tools = Toolchain(self.settings.cache_dir)
        self.pc = ProcessCompose(self.tools, self.layout)

    def components(self) -> list[Component]:
        configs = prepare(self.settings, self.layout, self.tools)
        components = [*infrastructure(self.settings, self.layout, self.tools, configs),
                      *vidmesh_processes(self.settings, self.layout, self.tools)]
        self.layout.probes_file.write_text(json.dumps({c.name: c.check for c in components if c.check}, indent=2))
        return components

    def start(self) -> list[Component]:
        """Start everything and return once all are healthy; raise with the reason if not."""
        with self._start_lock():
            if self.pc.processes() is not None:
                raise StartFailed("a stack is already running (see `make status`; `make down` stops it)")
            return self._start()

    def ensure_started(self, timeout: float = START_TIMEOUT) -> bool:
        """Reuse a running stack (waiting until it is healthy) or start one.

        True when this call started it, so the caller knows to stop it. Concurrent callers
        (two test sessions, say) serialise on a lock: one starts, the others reuse."""
        with self._start_lock():
            if self.pc.processes() is None:
                self._start()
                return True
        if not self.wait_healthy(timeout):
            raise StartFailed(f"the running stack is not healthy after {timeout:.0f}s; see `make status`")
        return False

    @contextlib.contextmanager
    def _start_lock(self) -> Iterator[None]:
        self.layout.run.mkdir(parents=True, exist_ok=True)
        with (self.layout.run / "start.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield

    def _start(self) -> list[Component]:
        # Only here, with the lock held and no server answering, can pids from an earlier
        # run be leftovers of a killed one.
        left = stop_leftovers(self.layout)
        if left:
            say(f"stopped leftovers of a killed run: {', '.join(left)}")
        check_ports(self.settings.ports())
        # Identities left by the processes of a killed run. Only here: `make status` lists the
        # components too, and wiping this under running processes took away the files their
        # TLS and xDS bootstrap are read from (every new connection failed after it).
        shutil.rmtree(self.layout.process_certs, ignore_errors=True)
        components = self.components()
        self.layout.compose_file.write_text(yaml.safe_dump(process_compose_config(components, self.layout)))
        manager = self.pc.launch()
        record_pids(self.layout, manager.pid, [])  # so a crash while starting leaves a trace
        try:
            states = self._wait_healthy(components, manager)
        except BaseException:
            self.stop(manager.pid)
            raise
        record_pids(self.layout, manager.pid, states)
        return components

    def _wait_healthy(self, components: list[Component], manager: subprocess.Popen[bytes]) -> list[ProcessState]:
        began = time.monotonic()
        seen: set[str] = set()
        while time.monotonic() - began < START_TIMEOUT:
            if manager.poll() is not None:
                raise StartFailed(f"process-compose exited with {manager.returncode}; see "
                                  f"{self.layout.log('process-compose-console')}")
            states = self.pc.processes() or []
            for state in states:
                if state.done and state.name not in seen:
                    seen.add(state.name)
                    say(f"  {state.name:<13} {'done' if state.completed else 'healthy'} after "
                        f"{time.monotonic() - began:4.1f}s")
                if state.failed or state.restarts >= START_RESTARTS:
                    raise StartFailed(self._failure(state.name, f"exited ({state.status}, code {state.exit_code}, "
                                                                f"{state.restarts} restarts)"))
            if states and len(seen) == len(components):
                return states
            time.sleep(0.25)  # polling interval of a bounded readiness wait
        missing = [c.name for c in components if c.name not in seen]
        raise StartFailed(self._failure(missing[0], f"not healthy after {START_TIMEOUT:.0f}s"))

    def _failure(self, name: str, what: str) -> str:
        log = self.layout.log(name)
        tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
        return f"{name} {what}. Last lines of {log}:\n    " + "\n    ".join(tail)

    def stop(self, manager_pid: int | None = None) -> None:
        self.pc.down()
        if manager_pid is not None:
            wait_gone(manager_pid, 60)
        stop_leftovers(self.layout)

    def manager_pid(self) -> int:
        """The pid of the process-compose server this stack recorded at start."""
        return int(json.loads(self.layout.state_file.read_text())[0]["pid"])

    def wait_ready(self, name: str, timeout: float = 60) -> bool:
        """Wait (bounded) until one process passes its readiness probe again."""
        return self._wait(lambda states: any(s.name == name and s.healthy for s in states), timeout)

    def wait_healthy(self, timeout: float = 60) -> bool:
        """Wait (bounded) until every process is healthy (or, for one-shots, done)."""
        return self._wait(lambda states: bool(states) and all(s.done for s in states), timeout)

    def _wait(self, condition: Callable[[list[ProcessState]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self.pc.processes() or []):
                return True
            time.sleep(0.25)  # polling interval of a bounded readiness wait
        return False

    def healthy(self) -> bool:
        """True when a stack is running and every process is healthy (or done)."""
        states = self.pc.processes() or []
        return bool(states) and all(s.done for s in states)

    def print_status(self, components: list[Component]) -> bool:
        states = self.pc.processes()
        if states is None:
            say("the stack is not running (start it with `make up` or `make start`)")
            return False
        say(table(components, states))
        say(f"logs: {self.layout.logs}")
        return all(s.done for s in states)
