"""The Compose checks run real binaries (docker-compose config, envoy, postgres, make) but
start them themselves: none of them needs the shared stack, so none waits for it."""

from __future__ import annotations

import pytest

from mesh.settings import Settings, load
from scripts.devstack.components import Component
from tests.integration.compose.support import Service, compose_services, native_components


@pytest.fixture(autouse=True, scope="session")
def _running_stack() -> None:
    """Overrides tests/integration's: these tests start what they need."""


@pytest.fixture(scope="session")
def settings() -> Settings:
    """settings.env alone, as Compose reads it through .env (no shell overrides)."""
    return load(environ={})


@pytest.fixture(scope="session")
def services() -> dict[str, Service]:
    return compose_services()


@pytest.fixture(scope="session")
def native(settings: Settings) -> list[Component]:
    return native_components(settings)
