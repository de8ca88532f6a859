"""Inject the schedule's faults into a running stack, and wait until each has healed.

The stack heals itself: process-compose starts again whatever exits (kill -9, SIGTERM), and a
frozen process resumes at SIGCONT. "Healed" is judged by the component's own readiness
probe, run here, not by process-compose's last verdict, which outlives a frozen or killed
process for a while.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil
import psycopg
import yaml

from mesh import topology
from mesh.dbbootstrap import superuser_dsn
from mesh.settings import Settings, instance_name
from scripts.chaos.network import Toxiproxy
from scripts.chaos.schedule import Fault
from scripts.devstack.layout import Layout
from scripts.devstack.manager import ProcessCompose, ProcessState
from scripts.toolchain import Toolchain

HEAL_S = 240.0  # Kafka recovering its log after kill -9 on a busy 2-core machine is the slow one
POLL_S = 0.2
UNSENT = "SELECT count(*) FROM video_write.outbox WHERE published_at IS NULL"


@dataclass(kw_only=True)
class Injected:
    """What one fault did: when it began and healed (seconds into the campaign), and notes."""

    fault: Fault
    began: float = 0.0
    healed: float | None = None  # None: it did not heal within HEAL_S
    notes: list[str] = field(default_factory=list)
    unsent_at_kill: int | None = None  # a relay kill: outbox rows not yet marked sent when it struck

    def to_json(self) -> dict[str, Any]:
        """As stored in the run's JSON file."""
        return {**self.fault.to_json(), "began": self.began, "healed": self.healed, "notes": self.notes,
                "unsent_at_kill": self.unsent_at_kill}


class Stack:
    """The running stack as the injector sees it: its processes, their probes, the database."""

    def __init__(self, settings: Settings) -> None:
        self.settings, layout = settings, Layout(settings)
        self._manager = ProcessCompose(Toolchain(settings.cache_dir), layout)
        processes = yaml.safe_load(layout.compose_file.read_text())["processes"]
        self._probes = {name: spec["readiness_probe"] for name, spec in processes.items() if "readiness_probe" in spec}

    def states(self) -> dict[str, ProcessState]:
        """Every process's state, by name."""
        return {state.name: state for state in self._manager.processes() or []}

    def ready(self, name: str) -> bool:
        """Does the component's readiness probe pass right now?"""
        probe = self._probes[name]
        if "exec" in probe:
            return subprocess.run(probe["exec"]["command"], shell=True, capture_output=True, timeout=5).returncode == 0
        get = probe["http_get"]
        try:
            return httpx.get(f"http://{get['host']}:{get['port']}{get['path']}", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def instances(self) -> list[str]:
        """Every service instance's process name, in the topology's order."""
        return [instance_name(s.key, n) for s in topology.SERVICES for n in range(self.settings.instances[s.key])]

    def unsent_outbox_rows(self) -> int:
        """video-command's outbox rows not yet marked published."""
        with psycopg.connect(superuser_dsn(self.settings, "video"), connect_timeout=5) as conn:
            row = conn.execute(UNSENT).fetchone()
        return int(row[0]) if row else 0


class Injector:
    """Runs faults against one stack, timing them on the campaign's clock."""

    def __init__(self, stack: Stack, clock: Callable[[], float], network: Toxiproxy | None = None) -> None:
        self.stack, self._clock, self._network = stack, clock, network
        self._stopping = threading.Event()  # the run was interrupted: undo what is held, wait no more

    def run_all(self, faults: tuple[Fault, ...]) -> list[Injected]:
        """The faults of one cycle, each in its own thread from its offset; returns once all healed.

        Interrupted (Ctrl-C), it cuts every fault short first: frozen processes get SIGCONT and
        toxics come off before the interrupt goes on."""
        records = [Injected(fault=fault) for fault in faults]
        began = time.monotonic()
        # Waited on through events, not Thread.join: a join cut short by KeyboardInterrupt marks
        # the thread stopped while it runs (CPython gh-90882), and the process would exit
        # before the thread resumes what it froze.
        done = [threading.Event() for _ in records]
        for n, record in enumerate(records):
            threading.Thread(target=self._run_after, args=(record, began, done[n]), name=f"chaos-fault-{n}").start()
        try:
            for event in done:
                event.wait()
        except BaseException:
            self._stopping.set()
            for event in done:
                event.wait(timeout=30)
            raise
        return records

    def _hold(self, seconds: float) -> None:
        """Sleep, or less when the run is interrupted."""
        self._stopping.wait(max(0.0, seconds))

    def _run_after(self, record: Injected, began: float, done: threading.Event) -> None:
        try:
            self._hold(began + record.fault.after_s - time.monotonic())
            if self._stopping.is_set():
                return
            record.began = self._clock()
            inject = {"kill": self._kill, "freeze": self._freeze, "relay": self._relay, "roll": self._roll,
                      "network": self._toxic}
            inject[record.fault.kind](record)
        finally:
            done.set()

    def _kill(self, record: Injected, target: str | None = None, sig: int = signal.SIGKILL) -> None:
        name = target or record.fault.target
        before = self.stack.states()[name]
        os.kill(before.pid, sig)
        record.notes.append(f"{signal.Signals(sig).name} {name} (pid {before.pid})")
        self._await(record, name, lambda state: state.restarts > before.restarts and state.running)

    def _freeze(self, record: Injected) -> None:
        name = record.fault.target
        frozen = self._signal_tree(name, signal.SIGSTOP)
        record.notes.append(f"SIGSTOP {name} ({len(frozen)} processes)")
        self._hold(record.fault.hold_s)
        self._resume(frozen)
        self._await(record, name, lambda state: state.running)

    def _relay(self, record: Injected) -> None:
        """Freeze Kafka until the outbox holds unsent rows the relay is trying to publish, kill
        video-command there, then let Kafka go on."""
        kafka = self._signal_tree("kafka", signal.SIGSTOP)
        deadline, unsent = time.monotonic() + record.fault.hold_s, 0
        while time.monotonic() < deadline and unsent == 0 and not self._stopping.is_set():
            self._hold(POLL_S)
            unsent = self.stack.unsent_outbox_rows()
        self._hold(max(0.5, deadline - time.monotonic()) if unsent else 0.0)  # the relay sends its batch meanwhile
        before = self.stack.states()[record.fault.target]
        os.kill(before.pid, signal.SIGKILL)
        record.unsent_at_kill = self.stack.unsent_outbox_rows()  # the dead relay marks nothing more
        self._resume(kafka)
        record.notes.append(f"kill -9 {record.fault.target} with {record.unsent_at_kill} unsent outbox rows, "
                            "Kafka frozen")
        self._await(record, record.fault.target, lambda state: state.restarts > before.restarts and state.running)
        self._await(record, "kafka", lambda state: state.running)

    def _toxic(self, record: Injected) -> None:
        if self._network is None:
            raise RuntimeError("a network fault in the schedule, and no toxiproxy in front of the gateway")
        self._network.hold(record.fault.toxic, record.fault.hold_s, self._stopping)
        record.notes.append(f"{record.fault.toxic} on the clients' answers for {record.fault.hold_s:.1f}s")
        record.healed = self._clock()

    def _roll(self, record: Injected) -> None:
        for name in self.stack.instances():
            self._kill(record, name, signal.SIGTERM)
            if record.healed is None or self._stopping.is_set():
                return

    def _signal_tree(self, name: str, sig: int) -> list[psutil.Process]:
        root = psutil.Process(self.stack.states()[name].pid)
        tree = [root, *root.children(recursive=True)]
        for process in tree:
            process.send_signal(sig)
        return tree

    @staticmethod
    def _resume(tree: list[psutil.Process]) -> None:
        for process in tree:
            try:
                process.send_signal(signal.SIGCONT)
            except psutil.NoSuchProcess:
                continue

    def _await(self, record: Injected, name: str, alive: Callable[[ProcessState], bool]) -> None:
        """Wait (bounded) until the process is back and its probe passes; note when."""
        deadline = time.monotonic() + HEAL_S
        record.healed = None
        while time.monotonic() < deadline and not self._stopping.is_set():
            state = self.stack.states().get(name)
            if state is not None and alive(state) and self.stack.ready(name):
                record.healed = self._clock()
                return
            self._hold(POLL_S)
        record.notes.append(f"{name} not healthy again within {HEAL_S:.0f}s")
