"""MESH.md §11 Trace context and logs, on the kit's own instance (its stdout is the kit's)."""

from __future__ import annotations

from mesh import topology
from tests.conformance.kit.checks.traces import check_access_log
from tests.conformance.kit.owns import OwnInstances


async def test_a_call_is_logged_once_with_the_callers_trace_id(entry: topology.Service, owns: OwnInstances) -> None:
    await check_access_log(*await owns.running())
