"""The pipeline, each step a well-kept tool, and the one place that knows the output paths.

protoc-gen-openapiv2 (grpc-gateway v2.33.0) is the stable generator: it emits Swagger 2.0,
while protoc-gen-openapiv3 is marked alpha in its source. swagger2openapi, the converter
Redoc has long used for Swagger 2.0 input, makes OpenAPI 3.0 of it (what openapi-typescript,
the docs page and schemathesis read best); scripts/openapi/document.py then adds what no
generator knows (document.py says what).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from mesh.settings import ROOT, load
from scripts import console, protos, webapp
from scripts.toolchain import Toolchain

OUT = ROOT / "gen" / "openapi"
DOCUMENT = OUT / "openapi.json"  # what Envoy serves at /api/openapi.json
TYPES = OUT / "api.d.ts"  # what web/src/api imports
STAMP = OUT / ".stamp"
API_VERSION = "v1"
GENERATOR = "protoc-gen-openapiv2"
GENERATOR_OPTIONS = (
    "allow_merge=true",  # one document for every proto file
    "merge_file_name=vidmesh",
    "openapi_naming_strategy=fqn",  # schema names are full proto names: document.py maps them back
    "preserve_rpc_order=true",  # operations in the order the protos declare them
    "ignore_go_package_option=true",  # the protos carry no go_package; this plugin emits no Go
)


def say(message: str) -> None:
    console.say(f"codegen: {message}")


def _inputs_fingerprint(tools: Toolchain) -> str:
    digest = hashlib.sha256()
    sources = [*sorted(protos.PROTOS.rglob("*.proto")), *sorted(Path(__file__).parent.glob("*.*")),
               webapp.LOCK, Path(protos.__file__)]
    for path in sources:
        digest.update(f"\0{path.relative_to(ROOT)}\0".encode() + path.read_bytes())
    digest.update(str(_plugin(tools)).encode())  # make deps puts the version in the name
    return digest.hexdigest()


def _plugin(tools: Toolchain) -> Path:
    """The plugin make deps built, or the one an image stage built ($VIDMESH_PROTOC_GEN_OPENAPIV2)."""
    return Path(os.environ.get("VIDMESH_PROTOC_GEN_OPENAPIV2") or tools.go_binary(GENERATOR))


def _generate_swagger(tools: Toolchain, work: Path) -> Path:
    plugin = _plugin(tools)
    if not plugin.exists():
        raise protos.ContractsError(f"{plugin} is missing: run `make deps`")
    args = [f"--plugin={GENERATOR}={plugin}", f"--openapiv2_out={work}",
            f"--openapiv2_opt={','.join(GENERATOR_OPTIONS)}", *protos.proto_files(protos.PROTOS)]
    # The well-known types in deps.binpb carry no comments, which the plugin says for each.
    protos.protoc(protos.GEN / "deps.binpb", protos.PROTOS, args, "generating the OpenAPI document",
                  quiet=("should not contain nil SourceCodeInfo",))
    return work / "vidmesh.swagger.json"


def _finish(converted: Path) -> dict[str, Any]:
    # Imported here: protobuf and every generated module take seconds to import on a busy
    # machine, and an up-to-date build needs none of them.
    from scripts.openapi import descriptors, document

    doc: dict[str, Any] = json.loads(converted.read_text())
    routes = descriptors.routes(descriptors.load_services(protos.GEN / "python"))
    document.add_rules(doc, routes)
    document.require_printed_fields(doc, routes)
    document.document_errors(doc, routes)
    document.drop_unexposed_tags(doc, routes)
    document.introduce(doc, API_VERSION)
    return doc


def build(force: bool = False) -> None:
    """gen/openapi/openapi.json and gen/openapi/api.d.ts, unless nothing they come from changed."""
    tools = Toolchain(load().cache_dir)
    webapp.install()
    stamp = _inputs_fingerprint(tools)
    if not force and STAMP.exists() and STAMP.read_text() == stamp and DOCUMENT.exists() and TYPES.exists():
        say("OpenAPI document up to date")
        return
    started = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".openapi-", dir=OUT) as scratch:
        work = Path(scratch)
        swagger = _generate_swagger(tools, work)
        webapp.npx("swagger2openapi", str(swagger), "--outfile", str(work / "converted.json"))
        (work / "openapi.json").write_text(json.dumps(_finish(work / "converted.json"), indent=2) + "\n")
        webapp.npx("openapi-typescript", str(work / "openapi.json"), "--output", str(work / "api.d.ts"))
        STAMP.unlink(missing_ok=True)
        for name in ("openapi.json", "api.d.ts"):
            shutil.move(work / name, OUT / name)
    STAMP.write_text(stamp)
    say(f"gen/openapi/openapi.json (OpenAPI 3) and gen/openapi/api.d.ts in {time.monotonic() - started:.1f}s")

