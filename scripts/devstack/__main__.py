"""`make up | start | down | status | logs`: the native stack's command line."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import consul
import requests

from mesh import settings as settings_module
from mesh.traffic.__main__ import status
from mesh.traffic.canary import Canaries
from scripts.console import ignore_stop_signals, say, stop_on_signals
from scripts.devstack.components import Component
from scripts.devstack.manager import stop_leftovers, wait_gone
from scripts.devstack.preflight import PortTaken
from scripts.devstack.prepare import PrepareError
from scripts.devstack.stack import Stack, StartFailed


def cmd_start(stack: Stack, foreground: bool) -> int:
    running = stack.pc.processes()
    if running is not None:
        say("a stack is already running:")
        healthy = stack.print_status(stack.components())
        return 0 if healthy and not foreground else 1
    began = time.monotonic()
    say("starting the infrastructure, then vidmesh's own processes ...")
    stop_on_signals()  # a Ctrl-C (or SIGTERM, SIGHUP) while starting stops what started
    components = stack.start()
    if not foreground:
        _report(stack, components, began)
        say("stop it with `make down`")
        return 0
    manager_pid = stack.manager_pid()
    try:
        _report(stack, components, began)
        say("press Ctrl-C to stop everything (in reverse order)")
        while not wait_gone(manager_pid, 1):
            pass
        say("process-compose exited on its own; see the logs", stream=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:  # whatever ends the wait (a signal, a bug), the stack does not outlive `make up`
        ignore_stop_signals()
        say("\nstopping ...")
        stack.stop(manager_pid)
    say("stopped")
    return 0


def _report(stack: Stack, components: list[Component], began: float) -> None:
    say(f"all healthy in {time.monotonic() - began:.1f}s\n")
    stack.print_status(components)


def cmd_down(stack: Stack) -> int:
    if stack.pc.processes() is None:
        left = stop_leftovers(stack.layout)
        say(f"stopped leftovers: {', '.join(left)}" if left else "the stack is not running")
        return 0
    stack.stop()
    say("stopped")
    return 0


def cmd_logs(stack: Stack, follow: bool) -> int:
    logs = sorted(stack.layout.logs.glob("*.log"))
    if not logs:
        say(f"no logs yet in {stack.layout.logs}")
        return 0
    return subprocess.call(["tail", "-n", "20", *(["-F"] if follow else []), *map(str, logs)])


def main() -> int:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    parser.add_argument("command", choices=["up", "start", "down", "status", "logs"])
    parser.add_argument("-f", "--follow", action="store_true", help="logs: keep following")
    args = parser.parse_args()
    try:
        stack = Stack()
        if args.command in ("up", "start"):
            return cmd_start(stack, foreground=args.command == "up")
        if args.command == "down":
            return cmd_down(stack)
        if args.command == "status":
            healthy = stack.print_status(stack.components())
            if healthy:
                print_traffic(stack.settings)
            return 0 if healthy else 1
        return cmd_logs(stack, args.follow)
    except (settings_module.SettingsError, PortTaken, PrepareError, StartFailed) as error:
        say(f"error: {error}", stream=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def print_traffic(settings: settings_module.Settings) -> None:
    """The splits and faults in force (mesh/traffic), under the processes."""
    client = consul.Consul(host=settings.host, port=settings.consul_http_port, connections_timeout=5)
    try:
        say(status(Canaries(client)))
    except (consul.ConsulException, requests.RequestException) as error:
        say(f"traffic: Consul did not answer ({error})")


if __name__ == "__main__":
    sys.exit(main())
