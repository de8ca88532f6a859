"""MESH.md §1 Configuration: a malformed setting stops the process with a message naming it."""

from __future__ import annotations

import asyncio

from mesh.settings import ROOT
from tests.conformance.kit.failure import Nonconformance, expect
from tests.conformance.kit.instance import OwnInstance

SECTION = "§1 Configuration"
BAD_SETTING, BAD_VALUE = "VIDMESH_GRPC_PORT", "not-a-port"
EXIT_WITHIN_S = 60.0  # starting an interpreter on a loaded machine; a process that ignores the bad value never exits


async def check_bad_setting_stops_it(own: OwnInstance) -> None:
    """Started with VIDMESH_GRPC_PORT=not-a-port, it exits non-zero and names the variable."""
    where = f"{own.entry.name} started with {BAD_SETTING}={BAD_VALUE!r}"
    process = await asyncio.create_subprocess_exec(
        *own.argv, cwd=ROOT, env=own.environment(**{BAD_SETTING: BAD_VALUE}), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), EXIT_WITHIN_S)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        text = output.decode(errors="replace")[-600:]
        raise Nonconformance(f"{where}: MESH.md {SECTION}: still running after {EXIT_WITHIN_S:.0f}s; "
                             f"output: {text}") from None
    text = output.decode(errors="replace")[-600:]
    expect(process.returncode != 0, where, SECTION, f"exited with 0; output: {text}")
    expect(BAD_SETTING in text, where, SECTION, f"its output does not name {BAD_SETTING}: {text}")
