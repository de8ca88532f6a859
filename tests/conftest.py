"""Shared fixtures: the real stack, started once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mesh.settings import Settings
from scripts.devstack.stack import Stack
from tests import spans as recorded_spans


@pytest.fixture(scope="session")
def stack() -> Stack:
    """The running stack: reused when one runs (waiting until it is healthy), else started.

    The session never stops it: `make test` (scripts/run_tests.py) stops what it started,
    and `make down` stops a stack that a bare `pytest` run left behind."""
    running = Stack()
    running.ensure_started()
    return running


@pytest.fixture(scope="session")
def settings(stack: Stack) -> Settings:
    return stack.settings


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The spans mesh records during the test, in memory (tests/spans.py)."""
    exporter = recorded_spans.recorder()
    exporter.clear()
    yield exporter
    exporter.clear()
