"""A thin client of process-compose, plus the one thing it cannot do for us: find the
processes of a run that was killed with it (kill -9) and stop them."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
from dataclasses import dataclass
from typing import Any

import psutil

from scripts.devstack.layout import Layout
from scripts.toolchain import Toolchain


@dataclass(frozen=True)
class ProcessState:
    name: str
    pid: int
    running: bool
    ready: bool
    status: str
    exit_code: int
    restarts: int = 0

    @property
    def completed(self) -> bool:
        """A one-shot process that finished its job."""
        return self.status == "Completed" and self.exit_code == 0

    @property
    def failed(self) -> bool:
        return not self.running and self.status in ("Completed", "Error") and not self.completed

    @property
    def healthy(self) -> bool:
        """Running and passing its readiness probe (the probe's last verdict outlives the process)."""
        return self.running and self.ready

    @property
    def done(self) -> bool:
        """Healthy, or a one-shot that succeeded: nothing more to wait for."""
        return self.healthy or self.completed


class ProcessCompose:
    """Start, query and stop one process-compose server over its unix socket."""

    def __init__(self, tools: Toolchain, layout: Layout) -> None:
        self.layout = layout
        self.binary = str(tools.process_compose)

    def _global_flags(self) -> list[str]:
        # A unix socket, not its default TCP port 8080, which is Envoy's.
        return ["--use-uds", "--unix-socket", str(self.layout.socket),
                "--log-file", str(self.layout.log("process-compose-server"))]

    def launch(self) -> subprocess.Popen[bytes]:
        """Start the server in its own session, so a terminal's Ctrl-C reaches only us."""
        self.layout.socket.unlink(missing_ok=True)
        command = [self.binary, "up", "-f", str(self.layout.compose_file), "--tui=false",
                   "--disable-dotenv", "--ordered-shutdown", *self._global_flags()]
        with self.layout.log("process-compose-console").open("ab") as console:
            return subprocess.Popen(command, stdout=console, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)

    def _client(self, *args: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.binary, *args, *self._global_flags()],
                              capture_output=True, text=True, timeout=timeout)

    def processes(self) -> list[ProcessState] | None:
        """The processes' states, or None when no server answers.

        Asked over the server's REST API on its unix socket, not by starting its client
        binary: the stack and the tests poll this several times a second."""
        if not self.layout.socket.exists():
            return None
        connection = _UnixHTTPConnection(str(self.layout.socket), timeout=10)
        try:
            connection.request("GET", "/processes")
            answer = connection.getresponse()
            if answer.status != 200:
                return None
            rows: list[dict[str, Any]] = json.loads(answer.read()).get("data") or []
        except (OSError, ValueError):
            return None
        finally:
            connection.close()
        return [ProcessState(r["name"], r["pid"], r["is_running"], r["is_ready"] == "Ready", r["status"],
                             r.get("exit_code", 0), r.get("restarts", 0)) for r in rows]

    def stop_process(self, name: str) -> None:
        """Stop one process (tests use it to take Kafka away and bring it back)."""
        self._client("process", "stop", name, timeout=60).check_returncode()

    def start_process(self, name: str) -> None:
        """Start one stopped process again; its readiness probe runs as at first start."""
        self._client("process", "start", name, timeout=60).check_returncode()

    def down(self) -> None:
        """Ask the server to stop everything in reverse dependency order."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._client("down", timeout=120)


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 to a server listening on a unix socket (process-compose's API)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("process-compose", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def record_pids(layout: Layout, manager_pid: int, processes: list[ProcessState]) -> None:
    """Write the pids (with start times, so a reused pid is never mistaken) of this run."""
    pids = {"process-compose": manager_pid, **{p.name: p.pid for p in processes if p.pid}}
    entries = []
    for name, pid in pids.items():
        try:
            started = psutil.Process(pid).create_time()
        except psutil.NoSuchProcess:
            continue
        entries.append({"name": name, "pid": pid, "started": started})
    layout.state_file.write_text(json.dumps(entries, indent=2))


def recorded_processes(layout: Layout) -> list[psutil.Process]:
    """The recorded processes that still run (same pid and same start time)."""
    if not layout.state_file.exists():
        return []
    alive = []
    for entry in json.loads(layout.state_file.read_text()):
        try:
            process = psutil.Process(entry["pid"])
            if abs(process.create_time() - entry["started"]) < 0.01:
                alive.append(process)
        except psutil.NoSuchProcess:
            continue
    return alive


KILLED_GONE_S = 10.0  # how long a SIGKILLed leftover may take to be gone


def stop_leftovers(layout: Layout, grace: float = 20) -> list[str]:
    """Stop what a killed run left behind: children first, then the manager; returns names."""
    leftovers = recorded_processes(layout)
    names = [p.name() for p in leftovers]
    for process in reversed(leftovers):
        process.terminate()
    _, still = psutil.wait_procs(leftovers, timeout=grace)
    for process in still:
        process.kill()
    # SIGKILL is not instant: until a process is gone its ports are still bound, and the
    # start's port check came first (a Kafka that outlived its grace on a busy machine).
    psutil.wait_procs(still, timeout=KILLED_GONE_S)
    layout.state_file.unlink(missing_ok=True)
    layout.socket.unlink(missing_ok=True)
    return names


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait (bounded) for a process to exit; True when it did."""
    try:
        psutil.Process(pid).wait(timeout)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        return False
    return True
