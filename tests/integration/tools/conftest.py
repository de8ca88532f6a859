"""Checks that run a real tool on a file of the repository (process-compose, Envoy, make deps)
but need no stack: kept out of tests/unit, which starts nothing."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _running_stack() -> None:
    """Overrides tests/integration's: these tests start what they need."""
