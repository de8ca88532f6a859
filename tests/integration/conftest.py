from __future__ import annotations

import pytest

from mesh.identity_files import IdentityFolder
from scripts.devstack.stack import Stack


@pytest.fixture(autouse=True, scope="session")
def _running_stack(stack: Stack, operator: IdentityFolder) -> Stack:
    """Every integration test talks to the real infrastructure."""
    return stack
