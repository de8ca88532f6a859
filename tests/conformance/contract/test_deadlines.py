"""MESH.md §7 Deadlines, on the kit's own instance of each service with a call that waits."""

from __future__ import annotations

from mesh import topology
from tests.conformance.kit.applicability import applies_to, waits
from tests.conformance.kit.checks.traces import check_deadline
from tests.conformance.kit.owns import OwnInstances


@applies_to(waits)
async def test_a_waiting_call_ends_at_its_deadline_and_is_logged_so(entry: topology.Service,
                                                                    owns: OwnInstances) -> None:
    await check_deadline(*await owns.running())
