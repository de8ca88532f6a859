"""Each contract test runs once per service it applies to (kit/applicability.py), against the
stack's instance (`stack_instance`) or the kit's own (`owns`); both live as long as that service's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mesh import topology
from mesh.settings import Settings
from tests.conformance.conftest import chosen_services
from tests.conformance.kit.api import Api
from tests.conformance.kit.applicability import predicate_of
from tests.conformance.kit.consul import Consul
from tests.conformance.kit.kafka import Kafka
from tests.conformance.kit.owns import OwnInstances
from tests.conformance.kit.target import Target, passing

FIND_TIMEOUT_S = 60.0
HERE = Path(__file__).resolve().parent


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "entry" in metafunc.fixturenames:
        applies = predicate_of(metafunc.function)
        entries = [entry for entry in chosen_services(metafunc.config) if applies(entry)]
        metafunc.parametrize("entry", entries, ids=[entry.name for entry in entries], scope="session")


@pytest.fixture(scope="session")
async def stack_instance(entry: topology.Service, consul: Consul) -> tuple[Target, Api]:
    """The stack's own instance of the service (the first that passes in Consul) and its API."""
    target = await passing(consul, entry, entry.name, FIND_TIMEOUT_S)
    return target, await Api.reflect(target.address)


@pytest.fixture(scope="session")
async def owns(entry: topology.Service, settings: Settings, consul: Consul,
               kafka: Kafka) -> AsyncIterator[OwnInstances]:
    """The kit's own instance of the service, started on first use."""
    instances = OwnInstances(entry, settings, consul, kafka)
    yield instances
    await instances.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A check that applies to none of the chosen services is not run at all, rather than
    # reported as a skip: which checks apply is the topology's decision, not a test outcome.
    unused = [item for item in items if _without_service(item)]
    if unused:
        config.hook.pytest_deselected(items=unused)
        items[:] = [item for item in items if item not in unused]


def _without_service(item: pytest.Item) -> bool:
    if HERE not in item.path.parents:
        return False
    callspec = getattr(item, "callspec", None)
    fixtures = getattr(item, "fixturenames", ())
    return "entry" in fixtures and not isinstance(callspec.params.get("entry") if callspec else None,
                                                  topology.Service)
