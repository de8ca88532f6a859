"""MESH.md §6 Errors, on the stack's instance: a request that breaks a protovalidate rule."""

from __future__ import annotations

from mesh import topology
from tests.conformance.kit.api import Api
from tests.conformance.kit.checks.errors import check_bad_request
from tests.conformance.kit.target import Target


async def test_a_broken_rule_is_invalid_argument_naming_the_field(entry: topology.Service,
                                                                  stack_instance: tuple[Target, Api]) -> None:
    await check_bad_request(*stack_instance)
