"""The fuzzers call services straight, as the developer's operator identity (mutual TLS)."""

from __future__ import annotations

import pytest

from mesh.identity_files import IdentityFolder


@pytest.fixture(autouse=True, scope="session")
def _as_operator(operator: IdentityFolder) -> IdentityFolder:
    return operator
