"""`make new-service NAME=widgets`: a working service made from the template, and its place in
the mesh.

It writes the contract (protos/vidmesh/<package>/v1/), the package (services/<package>/:
domain, handlers, ports, adapters, server, bootstrap, a migration) and its unit tests
(tests/unit/<package>/) from scripts/new_service/template, adds the service to
mesh/topology.py (its own database and role, request ids) and its port and instance count to
settings.env, and writes Compose's files again. Then `make protos`, `make up` runs it like
any other, and `make conformance SERVICE=<name>` checks it. Standard library only.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from string import Template

from mesh import topology
from mesh.settings import ROOT, SETTINGS_FILE, load

TEMPLATE = Path(__file__).resolve().parent / "template"
NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
TOPOLOGY = ROOT / "mesh" / "topology.py"
ANCHOR = "    # `make new-service NAME=...` adds its entries above this line.\n"


class NewServiceError(ValueError):
    """The name cannot be used; the message says why."""


def values(name: str) -> dict[str, str]:
    """The template's placeholders for a service called `name` (kebab-case)."""
    package = name.replace("-", "_")
    return {"name": name, "package": package, "Service": "".join(part.title() for part in name.split("-"))}


def targets(v: dict[str, str]) -> dict[Path, Path]:
    """Template file -> where it goes."""
    out: dict[Path, Path] = {}
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATE).with_suffix("")
        top, rest = relative.parts[0], Path(*relative.parts[1:])
        if top == "proto":
            out[source] = ROOT / "protos" / "vidmesh" / v["package"] / "v1" / f"{v['package']}_service.proto"
        elif top == "service":
            name = f"{v['package']}_{rest.name}" if rest.parent.name == "migrations" else rest.name
            out[source] = ROOT / "services" / v["package"] / rest.parent / name
        else:
            out[source] = ROOT / "tests" / "unit" / v["package"] / rest
    return out


def check(name: str) -> None:
    """Refuse a malformed name, or one the mesh already uses."""
    if not NAME.fullmatch(name):
        raise NewServiceError(f"NAME={name!r}: use lowercase letters, digits and single dashes, e.g. NAME=widgets")
    taken = {entry.name for entry in topology.SERVICES} | {topology.CONTROL_PLANE, topology.GATEWAY}
    if name in taken or (ROOT / "services" / name.replace("-", "_")).exists():
        raise NewServiceError(f"NAME={name!r}: a service of that name exists already")


def next_port() -> int:
    """The next free block of ten above every service port."""
    settings = load(environ={})
    return (max(settings.service_ports.values()) // 10 + 1) * 10


def entry_text(v: dict[str, str]) -> str:
    """The service's entry in mesh/topology.py, with the write the conformance kit replays."""
    create = f"vidmesh.{v['package']}.v1.{v['Service']}Service/CreateItem"
    return (f'    Service(name="{v["name"]}", command=python("services.{v["package"]}"),\n'
            f'            database=_db("{v["package"]}", "{v["package"]}"), request_ids=True, samples=Samples(\n'
            f'                write=Write(method="{create}",\n'
            f"""                            request='{{"request_id": "$request", "name": "Kit"}}',\n"""
            f"""                            other_body='{{"request_id": "$request", "name": "Kit again"}}'))),\n""")


def create(name: str) -> list[Path]:
    """Write the service; the paths written."""
    check(name)
    v = values(name)
    written = []
    for source, target in targets(v).items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template(source.read_text()).substitute(v))
        written.append(target)
    text = TOPOLOGY.read_text()
    if ANCHOR not in text:
        raise NewServiceError(f"{TOPOLOGY.name} has lost its line {ANCHOR.strip()!r}")
    TOPOLOGY.write_text(text.replace(ANCHOR, entry_text(v) + ANCHOR))
    key = v["package"].upper()
    with SETTINGS_FILE.open("a") as settings:
        settings.write(f"\n# {name} (made by make new-service)\nVIDMESH_{key}_PORT={next_port()}\n"
                       f"VIDMESH_{key}_INSTANCES=1\n")
    return [*written, TOPOLOGY, SETTINGS_FILE]


def main(argv: list[str]) -> int:
    """CLI: one argument, the new service's name."""
    if len(argv) != 1:
        print("usage: make new-service NAME=<name>   (e.g. NAME=widgets)", file=sys.stderr)
        return 2
    try:
        written = create(argv[0])
    except NewServiceError as error:
        print(f"new-service: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"new-service: wrote {path.relative_to(ROOT)}")
    # A fresh interpreter reads the new topology entry (this one imported the old table).
    subprocess.run([sys.executable, "-m", "scripts.compose_env", "write"], cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
