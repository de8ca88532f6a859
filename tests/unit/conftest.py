"""Unit tests start nothing: no stack, no real binary, no network beyond an in-process server
on 127.0.0.1:0 (`make unit` runs them alone, in seconds)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def stack() -> None:
    """Overrides tests/conftest.py's: a unit test that asks for the stack is in the wrong folder."""
    raise pytest.UsageError("a unit test asked for the running stack; move it to tests/integration")
