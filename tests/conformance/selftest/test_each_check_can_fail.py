"""The kit's own tests: each check passes against the conforming breaker and fails against
every breaker that breaks its rule, naming the rule's section of MESH.md.

The breakers of one check run side by side (each its own process, Consul name, topics), so
waiting for a bound that a breaker never meets costs once per check, not once per breaker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from mesh.settings import Settings
from tests.conformance.breaker import BREAKS
from tests.conformance.kit.consul import Consul
from tests.conformance.kit.failure import Nonconformance
from tests.conformance.kit.kafka import Kafka
from tests.conformance.kit.owns import OwnInstances
from tests.conformance.selftest.cases import BREAKER, CASES, EVENT_WAIT_S, Case


@pytest.fixture(scope="module")
async def conforming(settings: Settings, consul: Consul, kafka: Kafka) -> AsyncIterator[OwnInstances]:
    """One conforming breaker, shared by the checks in order (SIGTERM, last, ends it)."""
    instances = OwnInstances(BREAKER, settings, consul, kafka, apart_within_s=EVENT_WAIT_S)
    yield instances
    await instances.close()


def test_every_rule_the_breaker_breaks_fails_a_check() -> None:
    covered = {rule for case in CASES.values() for rule in case.broken_by}
    assert covered == set(BREAKS), f"rules no check is shown to catch: {sorted(set(BREAKS) - covered)}"


@pytest.mark.parametrize("check", list(CASES))
async def test_check_passes_against_the_conforming_breaker(check: str, conforming: OwnInstances, consul: Consul,
                                                           kafka: Kafka) -> None:
    await CASES[check].run(conforming, consul, kafka)


@pytest.mark.parametrize("check", list(CASES))
async def test_check_fails_against_a_breaker_of_its_rule(check: str, settings: Settings, consul: Consul,
                                                         kafka: Kafka) -> None:
    case = CASES[check]
    rules = list(case.broken_by)
    outcomes = await asyncio.gather(*(_failure(case, rule, settings, consul, kafka) for rule in rules))
    passed = [rule for rule, failure in zip(rules, outcomes, strict=True) if failure is None]
    assert not passed, f"the {check} check passed against breakers that break its rule: {passed}"
    for rule, failure in zip(rules, outcomes, strict=True):
        section = f"MESH.md {case.broken_by[rule]}"
        assert section in str(failure), f"breaking {rule!r}, {check} failed for another reason: {failure}"


async def _failure(case: Case, rule: str, settings: Settings, consul: Consul, kafka: Kafka) -> Nonconformance | None:
    instances = OwnInstances(BREAKER, settings, consul, kafka, extra_env={"KIT_BREAKS": rule},
                             apart_within_s=EVENT_WAIT_S)
    try:
        await case.run(instances, consul, kafka)
    except Nonconformance as failure:
        return failure
    finally:
        await instances.close()
    return None
