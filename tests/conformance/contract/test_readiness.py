"""MESH.md §3 Health: an instance is SERVING although what only delays its events is away."""

from __future__ import annotations

from mesh import topology
from tests.conformance.kit.applicability import applies_to, delays_events
from tests.conformance.kit.checks.readiness import check_ready_without_kafka
from tests.conformance.kit.owns import OwnInstances


@applies_to(delays_events)
async def test_serving_and_writing_with_kafka_and_mail_away(entry: topology.Service, owns: OwnInstances) -> None:
    await check_ready_without_kafka(owns)
