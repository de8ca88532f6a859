"""MESH.md §3 Health and §4 Reflection, on the stack's instance of each service."""

from __future__ import annotations

from mesh import topology
from tests.conformance.kit.api import Api
from tests.conformance.kit.checks.health import check_health, check_reflection
from tests.conformance.kit.target import Target


async def test_health_says_serving_for_its_api_and_not_found_for_an_unknown_name(
        entry: topology.Service, stack_instance: tuple[Target, Api]) -> None:
    await check_health(*stack_instance)


def test_reflection_lists_its_api_health_and_reflection(entry: topology.Service,
                                                        stack_instance: tuple[Target, Api]) -> None:
    target, api = stack_instance
    check_reflection(target, api, (target.record.service.get("Meta") or {}).get("proto_package", ""))
