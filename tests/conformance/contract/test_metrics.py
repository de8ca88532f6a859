"""MESH.md §14 Metrics: the stack's instance is found by its metrics port and counts its calls."""

from __future__ import annotations

from tests.conformance.kit.api import Api
from tests.conformance.kit.checks.metrics import check_metrics
from tests.conformance.kit.target import Target


async def test_counts_a_call_at_the_metrics_port_it_registered(stack_instance: tuple[Target, Api]) -> None:
    await check_metrics(*stack_instance)
