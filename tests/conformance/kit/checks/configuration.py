"""MESH.md §1 Configuration: a malformed setting stops the process with a message naming it.

The process gets the own instance's isolated environment, so one that ignores the bad value
and starts anyway registers under a name nothing routes to, and the kit sees it there."""

from __future__ import annotations

import asyncio

from mesh.settings import ROOT
from tests.conformance.kit.failure import Nonconformance, expect
from tests.conformance.kit.instance import OwnInstance

SECTION = "§1 Configuration"
BAD_SETTING, BAD_VALUE = "VIDMESH_GRPC_PORT", "not-a-port"
EXIT_WITHIN_S = 60.0
POLL_S = 0.2  # starting an interpreter on a loaded machine; a process that ignores the bad value never exits


async def check_bad_setting_stops_it(own: OwnInstance) -> None:
    """Started with VIDMESH_GRPC_PORT=not-a-port, it exits non-zero and names the variable."""
    where = f"{own.entry.name} started with {BAD_SETTING}={BAD_VALUE!r}"
    process = await asyncio.create_subprocess_exec(
        *own.argv, cwd=ROOT, env=own.environment(**{BAD_SETTING: BAD_VALUE}), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    exited = asyncio.create_task(process.communicate())
    started = asyncio.create_task(_registered(own))
    await asyncio.wait({exited, started}, timeout=EXIT_WITHIN_S, return_when=asyncio.FIRST_COMPLETED)
    if not exited.done():
        started.cancel()
        process.kill()
        output, _ = await exited
        text = output.decode(errors="replace")[-600:]
        how = "it registered in Consul regardless" if started.done() and not started.cancelled() else \
            f"still running after {EXIT_WITHIN_S:.0f}s"
        for record in await own.consul.records(own.name):  # killed, it cannot leave by itself
            await own.consul.deregister(record.service["ID"])
        raise Nonconformance(f"{where}: MESH.md {SECTION}: {how}; output: {text}")
    started.cancel()
    output, _ = exited.result()
    text = output.decode(errors="replace")[-600:]
    expect(process.returncode != 0, where, SECTION, f"exited with 0; output: {text}")
    expect(BAD_SETTING in text, where, SECTION, f"its output does not name {BAD_SETTING}: {text}")


async def _registered(own: OwnInstance) -> None:
    """Return once anything is registered under the instance's name."""
    while not await own.consul.records(own.name):
        await asyncio.sleep(POLL_S)  # polled until the caller's bound
