"""Shared fixtures: the real stack, started once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mesh.settings import Settings
from scripts.devstack.stack import Stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Reuse a healthy stack (e.g. from `make start`), or start one and stop it at the end."""
    running = Stack()
    started = running.ensure_started()
    try:
        yield running
    finally:
        if started:
            running.stop()


@pytest.fixture(scope="session")
def settings(stack: Stack) -> Settings:
    return stack.settings
