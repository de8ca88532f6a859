"""Shared fixtures: the real stack, started once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mesh.identity_files import IdentityFolder
from mesh.settings import Settings
from mesh.xds.bootstrap import use_identity
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


@pytest.fixture(scope="session")
def operator(settings: Settings) -> IdentityFolder:
    """The developer's identity, which the stack keeps under .run/certs/operator: this session
    calls the mesh with it (its xDS bootstrap names those files, so every channel_to() and
    xds:/// channel of the test process presents it), as grpcurl does with -cert/-key."""
    folder = IdentityFolder(settings.operator_certs)
    use_identity(f"{settings.host}:{settings.xds_port}", folder, node="tests")
    return folder


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The spans mesh records during the test, in memory (tests/spans.py)."""
    exporter = recorded_spans.recorder()
    exporter.clear()
    yield exporter
    exporter.clear()
