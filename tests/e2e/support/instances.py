"""The stack's service instances: which there are, how to kill, restart or add one.

An instance is a process-compose process named `<service>-<n>` (users-0, video-query-1)
listening on its own loopback address and the service's port from settings.env plus n, and
registered in Consul under that name.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import yaml

from mesh.settings import SERVICES, Settings
from scripts.devstack.stack import Stack
from tests.e2e.support.registry import Consul, EnvoyAdmin, service_id, wait_routable

READY_TIMEOUT_S = 60.0
EXIT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Instance:
    """One instance of a vidmesh service in the stack."""

    service: str  # Consul name, kebab-case
    n: int
    host: str  # the address it binds, as the gateway routes to it
    port: int
    advertised: str = ""  # the host name it registers with; its process name when empty

    @property
    def name(self) -> str:
        """Its process-compose name."""
        return f"{self.service}-{self.n}"

    @property
    def address(self) -> str:
        """host:port of its gRPC server."""
        return f"{self.host}:{self.port}"

    @property
    def service_id(self) -> str:
        """Its Consul service id."""
        return service_id(self.service, self.advertised or self.name, self.port)


def instances(settings: Settings, service: str | None = None) -> list[Instance]:
    """Every instance settings.env asks for (of one service, when named), in service order."""
    found = []
    for setting in SERVICES:
        name = setting.replace("_", "-")
        if service in (None, name):
            found += [Instance(name, n, settings.instance_address(setting, n), port)
                      for n, port in enumerate(settings.instance_ports(setting))]
    return found


def assert_in_stack(stack: Stack, wanted: list[Instance]) -> None:
    """Fail, naming them, when instances settings.env asks for are not processes of the stack."""
    running = {state.name for state in stack.pc.processes() or []}
    missing = [i.name for i in wanted if i.name not in running]
    assert not missing, f"not in the running stack (see `make status`): {', '.join(missing)}"


def kill9(stack: Stack, instance: Instance) -> None:
    """SIGKILL the instance's whole process tree: no deregistration, no draining."""
    pid = next(s.pid for s in stack.pc.processes() or [] if s.name == instance.name)
    root = psutil.Process(pid)
    for process in [*root.children(recursive=True), root]:
        process.send_signal(signal.SIGKILL)
    psutil.wait_procs([root], timeout=EXIT_TIMEOUT_S)


def bring_back(stack: Stack, instance: Instance, consul: Consul, envoy: EnvoyAdmin) -> None:
    """Start a stopped instance (one that died, the stack restarts by itself) and wait until
    the gateway routes to it again."""
    assert not restore(stack, [instance]), f"{instance.name} not ready again"
    wait_routable(consul, envoy, instance)


def restart(stack: Stack, wave: list[Instance], consul: Consul, envoy: EnvoyAdmin) -> None:
    """SIGTERM the instances all at once (process-compose waits for each to exit), start them
    again together, and wait until the gateway routes to every one."""
    with ThreadPoolExecutor(max_workers=len(wave)) as stopping:
        list(stopping.map(lambda instance: stack.pc.stop_process(instance.name), wave))
    restore_routable(stack, wave, consul, envoy)


def restore(stack: Stack, wanted: list[Instance]) -> list[str]:
    """After a failed test: start whatever of `wanted` is not running (all of them, then wait
    for each, so they boot together), so the shared stack stays whole; returns the names of
    those that still do not come up."""
    running = {state.name for state in stack.pc.processes() or [] if state.running}
    stopped = [instance for instance in wanted if instance.name not in running]
    for instance in stopped:
        with contextlib.suppress(subprocess.CalledProcessError):  # judged by the readiness wait below
            stack.pc.start_process(instance.name)
    return [instance.name for instance in stopped if not stack.wait_ready(instance.name, READY_TIMEOUT_S)]


@contextmanager
def frozen(stack: Stack, wanted: list[Instance]) -> Iterator[None]:
    """SIGSTOP the instances' process trees: they keep their connections and answer nothing."""
    pids = [s.pid for s in stack.pc.processes() or [] if s.name in {i.name for i in wanted}]
    tree = [p for pid in pids for p in (psutil.Process(pid), *psutil.Process(pid).children(recursive=True))]
    for process in tree:
        process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for process in tree:
            process.send_signal(signal.SIGCONT)


def restore_routable(stack: Stack, wanted: list[Instance], consul: Consul, envoy: EnvoyAdmin) -> None:
    """Start what is not running of `wanted` (a test may have failed half-way), then wait
    until the gateway routes to every one of them."""
    broken = restore(stack, wanted)
    assert not broken, f"could not bring back {', '.join(broken)}"
    for instance in wanted:
        wait_routable(consul, envoy, instance)


def free_port(host: str) -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class Surge:
    """A temporary extra instance of a service: the stack's command and environment for
    `instance`, on a free port. Start several, then wait for them, so they boot together."""

    def __init__(self, stack: Stack, instance: Instance, logs: Path) -> None:
        spec = yaml.safe_load(stack.layout.compose_file.read_text())["processes"][instance.name]
        # Same address and advertised name as the instance it copies, another port.
        self.extra = Instance(instance.service, 99, instance.host, free_port(instance.host),
                              advertised=instance.name)
        env = {**os.environ, **dict(item.split("=", 1) for item in spec.get("environment", [])),
               "VIDMESH_GRPC_PORT": str(self.extra.port),
               "VIDMESH_HEALTH_PORT": "0"}  # beside the stack's instance on its address: the stack's number is taken
        self.log = logs / f"surge-{instance.service}-{self.extra.port}.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(shlex.split(spec["command"]), cwd=spec.get("working_dir"), env=env,
                                            stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_routable(self, consul: Consul, envoy: EnvoyAdmin) -> None:
        """Wait until Consul passes it and the gateway routes to it."""
        extra = self.extra
        try:
            wait_routable(consul, envoy, extra, timeout=READY_TIMEOUT_S)
        except AssertionError as error:
            raise AssertionError(f"{error}; the end of {self.log}:\n{self.log.read_text(errors='replace')[-2000:]}"
                                 ) from None

    def terminate(self) -> None:
        """SIGTERM: it deregisters and drains, as a stack instance does."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_gone(self, envoy: EnvoyAdmin) -> None:
        """Wait for the process to exit cleanly and leave the gateway's routing."""
        try:
            self.process.wait(EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        assert self.process.returncode == 0, f"the surge instance exited with {self.process.returncode}; see {self.log}"
        envoy.wait_listed(self.extra.service, self.extra.address, listed=False)


@contextmanager
def surges(stack: Stack, single: list[Instance], consul: Consul, envoy: EnvoyAdmin, logs: Path) -> Iterator[None]:
    """An extra instance of each of these services, routable for the duration of the block;
    SIGTERM to all of them at the end (the stack's own instances serve by then)."""
    started: list[Surge] = []
    try:
        started += [Surge(stack, instance, logs) for instance in single]
        for extra in started:
            extra.wait_routable(consul, envoy)
        yield
    finally:
        for extra in started:
            extra.terminate()
        for extra in started:
            extra.wait_gone(envoy)
