"""MESH.md §8 Request ids, on the stack's instance of each service the topology marks request_ids."""

from __future__ import annotations

from mesh import topology
from tests.conformance.kit.api import Api
from tests.conformance.kit.applicability import applies_to, takes_request_ids
from tests.conformance.kit.checks.request_ids import check_replays
from tests.conformance.kit.target import Target


@applies_to(takes_request_ids)
async def test_a_replay_gets_the_first_answer_and_another_body_is_refused(entry: topology.Service,
                                                                          stack_instance: tuple[Target, Api]) -> None:
    await check_replays(*stack_instance)
