"""The web app (web/): its npm packages and its Vite build, each redone only when its inputs
changed, so `make up` costs nothing when the app did not change.

    python -m scripts.webapp build [--force]    npm ci if needed, then vite build into web/dist

web/dist is what the gateway serves at / and /docs (gateway/envoy.yaml, the static block).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from pathlib import Path

from mesh.settings import ROOT
from scripts.console import say as _say

WEB = ROOT / "web"
LOCK = WEB / "package-lock.json"
DIST = WEB / "dist"
# npm's own record of what it installed last; written by every npm ci.
INSTALLED = WEB / "node_modules" / ".package-lock.json"
BUILT = DIST / ".vidmesh-built"  # the sources' hash at the last build
TYPES = ROOT / "gen" / "openapi" / "api.d.ts"
SOURCES = ("index.html", "public", "src", "package-lock.json", "tsconfig.json", "vite.config.ts")


class BuildFailed(Exception):
    """An npm step failed; carries its command and the end of what it printed."""

    def __init__(self, command: list[str], output: str) -> None:
        tail = "\n".join("    " + line for line in output.strip().splitlines()[-30:])
        super().__init__(f"{' '.join(command)} failed:\n{tail}")


def say(message: str) -> None:
    _say(f"web: {message}")


def _run(command: list[str], cwd: Path) -> None:
    """A Node tool, quiet unless it fails (its output would otherwise interleave with make's,
    and `make up | head -1` closes the pipe it would write to)."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BuildFailed(command, done.stdout + done.stderr)


def _hash(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"\0{path.relative_to(ROOT)}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def _npm(*args: str) -> None:
    # npm 11 runs no install scripts unless approved, so nothing phones home at install.
    _run(["npm", *args, "--no-audit", "--no-fund"], WEB)


def install() -> None:
    """`npm ci` unless node_modules was installed from the current package-lock.json."""
    if INSTALLED.exists() and INSTALLED.stat().st_mtime >= LOCK.stat().st_mtime:
        return
    began = time.monotonic()
    _npm("ci")
    say(f"npm ci in {time.monotonic() - began:.1f}s")


def npx(tool: str, *args: str) -> None:
    """Run one of web/'s locked npm tools (swagger2openapi, openapi-typescript, ...)."""
    _run([str(WEB / "node_modules" / ".bin" / tool), *args], ROOT)


def sources() -> list[Path]:
    found = [TYPES]
    for name in SOURCES:
        path = WEB / name
        found.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return found


def build(force: bool = False) -> None:
    """web/dist from web/src, unless nothing it is built from changed."""
    install()
    wanted = _hash(sources())
    if not force and BUILT.exists() and BUILT.read_text() == wanted:
        say("web/dist up to date")
        return
    began = time.monotonic()
    _npm("run", "build")
    BUILT.write_text(wanted)
    say(f"built web/dist in {time.monotonic() - began:.1f}s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="build", choices=["build"])
    parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    args = parser.parse_args(argv)
    try:
        build(force=args.force)
    except (BuildFailed, FileNotFoundError) as failed:
        _say(f"web: error: {failed}", stream=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
