"""The image's codegen stage builds the protobuf code from what it copies, and nothing else:
its COPY lines laid out in a folder of their own, then its RUN line's build in that folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from mesh.settings import ROOT
from tests.dockerfile import stages


def codegen_stage() -> list[str]:
    return next(stage for stage in stages() if stage[0].endswith(" AS codegen"))


def lay_out_copies(stage: list[str], workdir: Path) -> None:
    """The stage's COPY lines from this checkout, relative to its WORKDIR (`workdir`)."""
    for line in stage:
        if not line.startswith("COPY ") or "--from=" in line:
            continue
        *sources, dest = line.split()[1:]
        for source in sources:
            local, target = ROOT / source, workdir / dest
            if local.is_dir():
                shutil.copytree(local, target, dirs_exist_ok=True)
            else:
                into = target / local.name if dest.endswith("/") else target
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(local, into)


def test_the_codegen_stage_builds_the_protos_from_what_it_copies(tmp_path: Path) -> None:
    stage = codegen_stage()
    build = next(line for line in stage if line.startswith("RUN ") and "protos.py" in line)
    lay_out_copies(stage, tmp_path)
    script = build.split()[-2:]  # ["scripts/protos.py", "build"]
    done = subprocess.run([sys.executable, *script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "gen" / "vidmesh.binpb").is_file()
    assert (tmp_path / "gen" / "python" / "vidmesh" / "users" / "v1" / "users_service_pb2.py").is_file()
