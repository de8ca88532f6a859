"""The native stack as one object: start it healthy, report it, stop it."""

from __future__ import annotations

import json
import subprocess
import time

import yaml

from mesh import settings as settings_module
from scripts.devstack.components import Component, infrastructure, process_compose_config
from scripts.devstack.layout import Layout
from scripts.devstack.manager import ProcessCompose, ProcessState, record_pids, stop_leftovers, wait_gone
from scripts.devstack.preflight import check_ports
from scripts.devstack.prepare import prepare
from scripts.devstack.status import table
from scripts.toolchain import Toolchain

START_TIMEOUT = 180.0  # first start formats Kafka and runs initdb; later ones take seconds


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
        return infrastructure(self.settings, self.layout, self.tools, configs)

    def start(self) -> list[Component]:
        """Start everything and return once all are healthy; raise with the reason if not."""
        left = stop_leftovers(self.layout)
        if left:
            print(f"stopped leftovers of a killed run: {', '.join(left)}")
        check_ports(self.settings.host, self.settings.ports())
        components = self.components()
        self.layout.compose_file.write_text(yaml.safe_dump(process_compose_config(components, self.layout)))
        manager = self.pc.launch()
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
                if state.ready and state.name not in seen:
                    seen.add(state.name)
                    print(f"  {state.name:<10} healthy after {time.monotonic() - began:4.1f}s", flush=True)
                if not state.running and state.status in ("Completed", "Error"):
                    raise StartFailed(self._failure(state.name, f"exited ({state.status})"))
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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(s.name == name and s.ready for s in self.pc.processes() or []):
                return True
            time.sleep(0.25)  # polling interval of a bounded readiness wait
        return False

    def healthy(self) -> bool:
        """True when a stack is running and every process passes its readiness probe."""
        states = self.pc.processes() or []
        return bool(states) and all(s.ready for s in states)

    def print_status(self, components: list[Component]) -> bool:
        states = self.pc.processes()
        if states is None:
            print("the stack is not running (start it with `make up` or `make start`)")
            return False
        print(table(components, states))
        print(f"logs: {self.layout.logs}")
        return all(s.ready for s in states)
