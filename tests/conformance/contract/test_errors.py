"""MESH.md §6 Errors, on the stack's instance: a request that breaks a protovalidate rule, and
strings no database or decoder can take."""

from __future__ import annotations

from mesh import topology
from tests.conformance.kit.api import Api
from tests.conformance.kit.checks.errors import check_bad_request, check_strings
from tests.conformance.kit.target import Target


async def test_a_broken_rule_is_invalid_argument_naming_the_field(entry: topology.Service,
                                                                  stack_instance: tuple[Target, Api]) -> None:
    await check_bad_request(*stack_instance)


async def test_a_nul_or_bytes_not_utf8_in_a_string_are_invalid_argument_naming_the_field(
        entry: topology.Service, stack_instance: tuple[Target, Api]) -> None:
    await check_strings(*stack_instance)
