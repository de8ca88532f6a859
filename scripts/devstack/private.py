"""A second, private stack next to the shared one: every port shifted, its own folders.

Tests of the stack's command line and the benchmarks use it, so a running stack is left
alone. The shift is picked so that every shifted port is free right now.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from mesh.settings import Settings, load

# Every shifted port stays below 32768, where Linux picks ephemeral ports for outgoing
# connections (one could take a server port between the check and the bind).
SHIFTS = range(10000, 14001, 500)


def _free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _shifted(defaults: Settings, shift: int) -> dict[str, str]:
    env = {setting: str(port + shift) for _, setting, _, port in defaults.ports()}
    # Instance N of a service listens on its base port + N: shift the bases.
    bases = defaults.service_ports.items()
    env.update({f"VIDMESH_{service.upper()}_PORT": str(port + shift) for service, port in bases})
    return env


def private_env(folder: Path) -> dict[str, str]:
    """The environment of a private stack keeping its data and logs under `folder`."""
    defaults = load(environ={})
    for shift in SHIFTS:
        if all(_free(host, port + shift) for _, _, host, port in defaults.ports()):
            return {**os.environ, **_shifted(defaults, shift),
                    "VIDMESH_DATA_DIR": str(folder / "data"), "VIDMESH_LOG_DIR": str(folder / "logs")}
    raise RuntimeError(f"no free set of ports for a private stack (tried shifts {SHIFTS.start}..{SHIFTS.stop})")
