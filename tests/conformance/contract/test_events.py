"""MESH.md §10 Events, on the kit's own instance of each service that consumes."""

from __future__ import annotations

from mesh import topology
from tests.conformance.kit.applicability import applies_to, consumes
from tests.conformance.kit.checks.events import check_poison_then_good
from tests.conformance.kit.kafka import Kafka
from tests.conformance.kit.owns import OwnInstances


@applies_to(consumes)
async def test_a_poison_record_is_dead_lettered_and_the_next_event_applied(entry: topology.Service,
                                                                           owns: OwnInstances, kafka: Kafka) -> None:
    own, api = await owns.running()
    await check_poison_then_good(own, api, kafka)
