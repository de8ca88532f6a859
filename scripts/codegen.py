"""`make codegen`: Go stubs from protos/ into gen/go, then vidmesh's Go binaries into gen/bin.

    python -m scripts.codegen [--force]

The stubs come from protoc-gen-go and protoc-gen-go-grpc (built by `make deps`), run by the
same protoc as the Python stubs (scripts/protos.py), with its deps.binpb. The protos carry
no go_package option: every vidmesh file is mapped on the command line (an M flag) to
`vidmesh/gen/go/<its folder>`, package `<context>v1`. buf/validate, google/api and google/rpc
already name their own Go modules in their descriptors (protovalidate-go's generated module,
genproto), so they are imported from there and never generated here: a second copy of
validate.pb.go would register the same proto file twice and panic at init.

Then `go build` writes each binary of GO_MAINS to gen/bin; Go's build cache makes that a
no-op when no Go source changed. Nothing here is committed (gen/ is git-ignored).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mesh.settings import load
from scripts.console import say as _say
from scripts.golang import go_env
from scripts.protos import GEN, PROTOS, ContractsError, proto_files, protoc
from scripts.toolchain import Toolchain

ROOT = Path(__file__).resolve().parent.parent
GO_OUT = GEN / "go"
BIN = GEN / "bin"
STAMP = GEN / ".go.stamp"
GO_MODULE = "vidmesh"
# Binary name -> its main package.
GO_MAINS = {"recommendations": "./services/recommendations", "vidmesh-cli": "./cmd/vidmesh-cli"}
PLUGINS = ("protoc-gen-go", "protoc-gen-go-grpc")


def say(message: str) -> None:
    _say(f"codegen: {message}")  # make up runs this: a closed stdout must not fail it


def go_package(proto: str) -> str:
    """`vidmesh/video/v1/events.proto` -> `vidmesh/gen/go/vidmesh/video/v1;videov1`."""
    folder = Path(proto).parent
    return f"{GO_MODULE}/gen/go/{folder.as_posix()};{folder.parent.name}{folder.name}"


def fingerprint(files: list[str], tools: Toolchain) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name in files:
        digest.update(f"\0{name}\0".encode() + (PROTOS / name).read_bytes())
    for plugin in PLUGINS:
        digest.update(f"\0{tools.go_binary(plugin).name}".encode())
    return digest.hexdigest()


def generate(tools: Toolchain, files: list[str], out: Path) -> None:
    mappings = [f"M{name}={go_package(name)}" for name in files]
    args = [f"--plugin=protoc-gen-go={tools.go_binary('protoc-gen-go')}",
            f"--plugin=protoc-gen-go-grpc={tools.go_binary('protoc-gen-go-grpc')}",
            f"--go_out={out}", f"--go-grpc_out={out}",
            "--go_opt=paths=source_relative", "--go-grpc_opt=paths=source_relative",
            *(f"--go_opt={m}" for m in mappings), *(f"--go-grpc_opt={m}" for m in mappings)]
    out.mkdir(parents=True)
    protoc(GEN / "deps.binpb", PROTOS, [*args, *files], "generating Go code")


def stubs(tools: Toolchain, force: bool) -> None:
    files = proto_files(PROTOS)
    if not (GEN / "deps.binpb").exists():
        raise ContractsError("gen/deps.binpb is missing: run `make protos` first")
    stamp = fingerprint(files, tools)
    if not force and STAMP.exists() and STAMP.read_text() == stamp and GO_OUT.is_dir():
        say(f"Go stubs up to date ({len(files)} protos unchanged)")
        return
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=".go-", dir=GEN))
    try:
        generate(tools, files, work / "go")
        STAMP.unlink(missing_ok=True)
        shutil.rmtree(GO_OUT, ignore_errors=True)
        (work / "go").rename(GO_OUT)
        STAMP.write_text(stamp)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say(f"Go stubs for {len(files)} protos in {time.monotonic() - started:.1f}s: gen/go")


def binaries(tools: Toolchain) -> None:
    started = time.monotonic()
    BIN.mkdir(parents=True, exist_ok=True)
    for name, package in GO_MAINS.items():
        command = ["go", "build", "-trimpath", "-o", str(BIN / name), package]
        done = subprocess.run(command, cwd=ROOT, env=go_env(tools), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ContractsError(f"`{' '.join(command)}` failed:\n{done.stderr.strip()}")
    say(f"built {', '.join(f'gen/bin/{n}' for n in GO_MAINS)} in {time.monotonic() - started:.1f}s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="regenerate the stubs even if nothing changed")
    args = parser.parse_args(argv)
    tools = Toolchain(load().cache_dir)
    missing = [p for p in PLUGINS if not tools.go_binary(p).exists()]
    if missing:
        print(f"codegen: error: {', '.join(missing)} not built: run `make deps`", file=sys.stderr)
        return 1
    try:
        stubs(tools, args.force)
        binaries(tools)
    except ContractsError as error:
        print(f"codegen: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
