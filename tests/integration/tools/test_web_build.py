"""`make codegen` and `make web` redo nothing when nothing they are built from changed, so
`make up` and `make test` pay for them only after a change."""

from __future__ import annotations

import subprocess
import sys
import time

from mesh.settings import ROOT
from scripts import webapp
from scripts.openapi.build import DOCUMENT, TYPES

UP_TO_DATE_S = 10.0  # a cold Python start on a busy machine; about 1 s when idle


def run(module: str) -> tuple[str, float]:
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", module, "build"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, time.monotonic() - began


def test_a_second_build_finds_everything_up_to_date() -> None:
    run("scripts.openapi")  # `make test` built both already; this makes sure of it
    run("scripts.webapp")
    outputs = [DOCUMENT, TYPES, *(p for p in webapp.DIST.rglob("*") if p.is_file())]
    before = {path: path.stat().st_mtime_ns for path in outputs}
    for module, said in (("scripts.openapi", "OpenAPI document up to date"), ("scripts.webapp", "web/dist up to date")):
        out, took = run(module)
        assert said in out and took < UP_TO_DATE_S, (out, took)
    assert {path: path.stat().st_mtime_ns for path in outputs} == before, "an up-to-date build rewrote a file"


def test_the_web_build_hashes_every_input() -> None:
    hashed = set(webapp.sources())
    for folder in ("src", "public"):
        files = {p for p in (webapp.WEB / folder).rglob("*") if p.is_file()}
        assert files and files <= hashed, folder
    assert {webapp.LOCK, TYPES, webapp.WEB / "vite.config.ts", webapp.WEB / "index.html"} <= hashed
