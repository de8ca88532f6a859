"""The stack's own command line runs before anything puts the generated code (gen/python) on
the path: what it imports of mesh/ must not need it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mesh.settings import ROOT

# `make start` / `make up` (scripts.devstack), `make certs` and the intentions (mesh.certs,
# mesh.policy): each imports mesh.log, which imports mesh.tracing.
TOOLS = ["scripts.devstack.stack", "mesh.policy", "mesh.certs"]


@pytest.mark.parametrize("module", TOOLS)
def test_a_tool_imports_without_the_generated_code(module: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the repository alone, as `python -m` from its root
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
