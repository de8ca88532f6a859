"""Contracts codegen: protos/ to gen/ (`make protos`), and the buf checks that guard them.

    python scripts/protos.py [build] [--force]     stubs and descriptor sets, if inputs changed
    python scripts/protos.py lint                  build, then `buf lint` the image
    python scripts/protos.py breaking [--against REF]  build, then `buf breaking` against REF
    python scripts/protos.py check                 lint, then breaking

The Buf registry is not reachable, so nothing comes from it: buf/validate/validate.proto
is the serialized FileDescriptorProto inside the protovalidate wheel, the well-known types
come from google.protobuf's own modules, google/api and google/rpc are the .proto files of
googleapis-common-protos, and buf checks images that protoc built.

Outputs (git-ignored, never committed):
    gen/deps.binpb     validate.proto and the well-known types, for protoc --descriptor_set_in
    gen/python/        *_pb2.py, *_pb2_grpc.py and their .pyi (mypy-protobuf); every folder
                       gets an empty __init__.py, so `vidmesh` and `buf` are regular packages
    gen/vidmesh.binpb  for Envoy's gRPC-JSON transcoder: our files with all imports, plus
                       google/rpc/{status,error_details}.proto so errors get a JSON body
    gen/image.binpb    our files with imports and source info, read by buf lint and breaking
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script (also in the image's codegen stage)

from scripts.console import say as _say  # noqa: E402

PROTOS = ROOT / "protos"
GEN = ROOT / "gen"
STAMP = GEN / ".protos.stamp"
OUTPUTS = ("deps.binpb", "vidmesh.binpb", "image.binpb", "python")
VALIDATE = "buf/validate/validate.proto"
WELL_KNOWN = ("any", "descriptor", "duration", "empty", "field_mask", "struct", "timestamp", "wrappers")
TRANSCODER_EXTRAS = ("google/rpc/status.proto", "google/rpc/error_details.proto")
TOOLS = ("grpcio-tools", "protobuf", "protovalidate", "googleapis-common-protos", "mypy-protobuf")
BUF_VERSION = "1.75.0"
PROTOC = "import sys; from grpc_tools import protoc; sys.exit(protoc.main(sys.argv))"


class ContractsError(Exception):
    """A failure with a message that says what to fix; printed without a traceback."""


def say(message: str) -> None:
    _say(f"protos: {message}")


def proto_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.proto"))


def fingerprint(files: list[str]) -> str:
    """Hash of every input: proto contents, this script and the tool versions.

    Contents rather than mtimes, so a deleted or renamed proto rebuilds and a checkout that
    only touches files does not.
    """
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name in files:
        digest.update(f"\0{name}\0".encode() + (PROTOS / name).read_bytes())
    for dist in TOOLS:
        digest.update(f"\0{dist}=={metadata.version(dist)}".encode())
    return digest.hexdigest()


def validate_proto() -> bytes:
    """The serialized validate.proto: first argument of file_desc(...) in protovalidate."""
    spec = importlib.util.find_spec("protovalidate")
    if spec is None or not spec.submodule_search_locations:
        raise ContractsError("protovalidate is not installed in this Python")
    path = Path(spec.submodule_search_locations[0]) / "_gen/buf/validate/validate_pb.py"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "file_desc":
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, bytes):
                return arg.value
    raise ContractsError(f"no file_desc(b'...') in {path}; did protovalidate change its layout?")


def write_deps(out: Path) -> None:
    from google.protobuf import descriptor_pb2

    files = descriptor_pb2.FileDescriptorSet()
    for name in WELL_KNOWN:
        module = importlib.import_module(f"google.protobuf.{name}_pb2")
        files.file.add().ParseFromString(module.DESCRIPTOR.serialized_pb)
    validate = files.file.add()
    validate.ParseFromString(validate_proto())
    if validate.name != VALIDATE:
        raise ContractsError(f"protovalidate carries {validate.name!r}, expected {VALIDATE}")
    out.write_bytes(files.SerializeToString())


def googleapis_root() -> Path:
    spec = importlib.util.find_spec("google.api")
    root = Path(spec.submodule_search_locations[0]).parent.parent if spec and spec.submodule_search_locations else None
    if root is None or not (root / "google/api/annotations.proto").exists():
        raise ContractsError("google/api/annotations.proto not found: install googleapis-common-protos")
    return root


def protoc(deps: Path, proto_root: Path, args: list[str], what: str, quiet: tuple[str, ...] = ()) -> None:
    """Run grpc_tools' protoc in a child process so its messages can be shown with context.

    Warning lines containing one of `quiet` are dropped (a plugin's known noise).
    """
    includes = [f"--descriptor_set_in={deps}", f"-I{proto_root}", f"-I{googleapis_root()}"]
    cmd = [sys.executable, "-c", PROTOC, *includes, *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        found = re.findall(r"^([\w./-]+\.proto)(?=:)", done.stderr, re.M)
        failing = sorted({name.removeprefix(f"{ROOT}/") for name in found})
        named = ", ".join(failing) or "(protoc named no file)"
        raise ContractsError(f"protoc failed while {what}; failing proto(s): {named}\n{done.stderr.strip()}")
    warnings = [line for line in done.stderr.splitlines()
                if not line.startswith("Writing mypy to") and not any(noise in line for noise in quiet)]
    if warnings:  # e.g. an unused import; mypy-protobuf's progress lines are dropped
        _say("\n".join(warnings), stream=sys.stderr)


def generate_python(deps: Path, out: Path, files: list[str]) -> None:
    bin_dir = Path(sys.executable).parent
    out.mkdir()
    args = [
        f"--plugin=protoc-gen-mypy={bin_dir / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={bin_dir / 'protoc-gen-mypy_grpc'}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
    ]
    protoc(deps, PROTOS, [*args, VALIDATE, *files], "generating Python code")
    for folder in [out, *(p for p in out.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()


def build_image(deps: Path, proto_root: Path, files: list[str], out: Path, *, for_envoy: bool = False) -> None:
    """A self-contained descriptor set (--include_imports).

    buf needs source info to see comments; Envoy does not, but it needs google.rpc's
    Status and BadRequest to print a JSON body for an error.
    """
    extras = ["--include_source_info"] if not for_envoy else list(TRANSCODER_EXTRAS)
    args = ["--include_imports", f"--descriptor_set_out={out}", *extras, *files]
    protoc(deps, proto_root, args, f"building {out.name}")


def replace(new: Path, old: Path) -> None:
    if old.is_dir():
        shutil.rmtree(old)
    old.unlink(missing_ok=True)
    new.rename(old)


def build(force: bool = False) -> None:
    files = proto_files(PROTOS)
    if not files:
        raise ContractsError(f"no .proto files under {PROTOS}")
    stamp = fingerprint(files)
    if not force and STAMP.exists() and STAMP.read_text() == stamp and all((GEN / o).exists() for o in OUTPUTS):
        say(f"up to date ({len(files)} protos unchanged since the last build)")
        return
    started = time.monotonic()
    GEN.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=GEN))
    try:
        write_deps(work / "deps.binpb")
        generate_python(work / "deps.binpb", work / "python", files)
        build_image(work / "deps.binpb", PROTOS, files, work / "image.binpb")
        build_image(work / "deps.binpb", PROTOS, files, work / "vidmesh.binpb", for_envoy=True)
        STAMP.unlink(missing_ok=True)
        for name in OUTPUTS:
            replace(work / name, GEN / name)
        STAMP.write_text(stamp)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say(f"compiled {len(files)} protos + {VALIDATE} in {time.monotonic() - started:.1f}s:")
    say("  gen/python (pb2, pb2_grpc, .pyi), gen/vidmesh.binpb (Envoy), gen/image.binpb (buf), gen/deps.binpb")


def buf_binary() -> Path:
    """buf from npm under the cache folder ($VIDMESH_CACHE_DIR, default ~/.cache/vidmesh)."""
    if os.environ.get("VIDMESH_BUF"):
        return Path(os.environ["VIDMESH_BUF"])
    cache = Path(os.path.expanduser(os.environ.get("VIDMESH_CACHE_DIR") or "~/.cache/vidmesh"))
    candidates = [cache / "buf/node_modules/.bin/buf", cache / f"buf-{BUF_VERSION}/node_modules/.bin/buf"]
    found = next((c for c in candidates if c.exists()), None)
    if found is None:
        raise ContractsError(
            f"buf not found at {candidates[0]}; install it with\n"
            f"  npm install --prefix {candidates[0].parent.parent.parent} @bufbuild/buf@{BUF_VERSION}"
        )
    return found


def run_buf(*args: str) -> None:
    done = subprocess.run([str(buf_binary()), *args], cwd=ROOT, check=False)
    if done.returncode != 0:
        raise ContractsError(f"buf {args[0]} found problems (listed above)")


def lint() -> None:
    # buf reads buf.yaml from the current folder (ROOT); it ignores the google/ and buf/
    # files that the image carries as imports.
    run_buf("lint", "gen/image.binpb")
    say("buf lint: clean")


def against_image(ref: str, scratch: Path) -> Path | None:
    """Build the image of `ref`'s protos/ in scratch; None when that ref has no protos."""
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", ref, "--", "protos/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        raise ContractsError(f"cannot read git ref {ref!r}: {listed.stderr.strip()}")
    if not any(n.endswith(".proto") for n in listed.stdout.split()):
        return None
    archive = subprocess.run(["git", "archive", ref, "protos/"], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(scratch, filter="data")
    image = scratch / "against.binpb"
    build_image(GEN / "deps.binpb", scratch / "protos", proto_files(scratch / "protos"), image)
    return image


def breaking(ref: str) -> None:
    with tempfile.TemporaryDirectory(prefix="vidmesh-breaking-") as scratch:
        image = against_image(ref, Path(scratch))
        if image is None:
            say(f"buf breaking: {ref} has no protos yet, nothing to compare against (pass)")
            return
        run_buf("breaking", "gen/image.binpb", "--against", str(image))
    say(f"buf breaking: no breaking change against {ref}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="build", choices=["build", "lint", "breaking", "check"])
    parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    parser.add_argument("--against", default="main", help="git ref for `breaking` (default: main)")
    args = parser.parse_args(argv)
    try:
        build(force=args.force)
        if args.command in ("lint", "check"):
            lint()
        if args.command in ("breaking", "check"):
            breaking(args.against)
    except ContractsError as error:
        _say(f"protos: error: {error}", stream=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
