"""The conformance kit's pytest wiring: `--service NAME` (repeatable) picks the services of
mesh/topology.py to check (default: every one); the stack is the shared one (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mesh import topology
from mesh.settings import Settings
from tests.conformance.kit.consul import Consul
from tests.conformance.kit.kafka import Kafka


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--service", action="append", default=[], metavar="NAME",
                     help="conformance: check this service of mesh/topology.py (repeatable; default every one)")


def chosen_services(config: pytest.Config) -> list[topology.Service]:
    """The topology entries `--service` names, or all of them."""
    names: list[str] = config.getoption("--service") or [entry.name for entry in topology.SERVICES]
    return [topology.service(name) for name in names]


@pytest.fixture(scope="session")
async def consul(settings: Settings) -> AsyncIterator[Consul]:
    """The stack's Consul agent."""
    client = Consul(f"{settings.host}:{settings.consul_http_port}")
    yield client
    await client.close()


@pytest.fixture(scope="session")
def kafka(settings: Settings) -> Kafka:
    """The stack's broker."""
    return Kafka(f"{settings.host}:{settings.kafka_port}")
