"""The first half of the card, `make protos && docker compose up`, on a machine that has
Python and make but none of the native stack's toolchains: a fresh copy of the checkout (no
gen/, no .venv), a PATH that holds make and python3 alone, and a cache folder that holds
only the Python tools. Were `make protos` to reach for Go, Java, Maven or npm, it would fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mesh.settings import ROOT, load
from scripts.protos import PROTOS, proto_files
from scripts.toolchain import Toolchain

HIDDEN = ("go", "java", "mvn", "npm", "node", "docker")
MAKE_PROTOS_TIMEOUT_S = 600  # a fresh .venv from the warm uv cache takes seconds; a cold one, minutes


def fresh_clone(into: Path) -> Path:
    """The files a clone would get if this checkout were committed now (gen/ and .venv are ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted but not yet committed is listed too
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def python_and_make_only(bin_dir: Path) -> str:
    """A PATH with nothing on it but make and the real python3 (not a pyenv shim)."""
    bin_dir.mkdir()
    make = shutil.which("make")
    assert make, "make is needed to run make"
    (bin_dir / "make").symlink_to(make)
    (bin_dir / "python3").symlink_to(Path(sys.base_prefix) / "bin" / "python3")
    return str(bin_dir)


def python_tools_only(cache: Path) -> Path:
    """A cache folder with the shared uv and its package cache, and no Kafka, Go binaries or buf."""
    shared = Toolchain(load().cache_dir)
    cache.mkdir()
    (cache / "tools").symlink_to(shared.uv.parent.parent.parent, target_is_directory=True)
    (cache / "uv").symlink_to(shared.cache / "uv", target_is_directory=True)
    return cache


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder removed after the test: the clone's .venv is a few hundred MB (pytest's tmp_path
    would keep three of them)."""
    folder = Path(tempfile.mkdtemp(prefix="vidmesh-fresh-clone-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_make_protos_needs_only_python(scratch: Path) -> None:
    clone = fresh_clone(scratch / "clone")
    assert not (clone / "gen").exists() and not (clone / ".venv").exists()
    path = python_and_make_only(scratch / "bin")
    assert [tool for tool in HIDDEN if shutil.which(tool, path=path)] == []
    env = {"PATH": path, "HOME": os.environ["HOME"], "VIDMESH_CACHE_DIR": str(python_tools_only(scratch / "cache"))}
    done = subprocess.run([f"{path}/make", "protos"], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=MAKE_PROTOS_TIMEOUT_S)
    assert done.returncode == 0, done.stdout + done.stderr
    stubs = [f"gen/python/{proto.removesuffix('.proto')}_pb2.py" for proto in proto_files(PROTOS)]
    for output in ("gen/vidmesh.binpb", "gen/image.binpb", *stubs):
        assert (clone / output).is_file(), f"make protos did not write {output}"
    # The Python environment only: nothing of the native toolchain appeared in the cache.
    assert sorted(p.name for p in (scratch / "cache").iterdir()) == ["tools", "uv"]
    # OpenTelemetry's own protos won over xds-protos' older copy of the same files (scripts/deps.py).
    exporter = subprocess.run([str(clone / ".venv/bin/python"), "-c",
                               "from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter"],
                              capture_output=True, text=True, timeout=60)
    assert exporter.returncode == 0, exporter.stderr
