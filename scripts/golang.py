"""vidmesh's Go code through the go command, with the shared module and build caches.

    python -m scripts.golang vet            go vet ./..., then staticcheck ./... (make lint)
    python -m scripts.golang test [--integration]   go test ./... (make test adds the
                                            integration tests, against the running stack)
    python -m scripts.golang cli            the Go client's tour through the running gateway

The integration tests (build tag `integration`) read the stack's addresses from the same
VIDMESH_* variables as the services; `stack_env` fills them from settings.env and the
environment, so they reach whichever stack this shell's settings describe.
"""

from __future__ import annotations

import os
import subprocess
import sys

from mesh.dbbootstrap import service_dsn, superuser_dsn
from mesh.settings import ROOT, Settings, load
from scripts.console import say
from scripts.toolchain import Toolchain


def go_env(tools: Toolchain) -> dict[str, str]:
    """The shared module and build caches, so CI's warm cache covers vidmesh's Go code too."""
    return {**os.environ, **tools.go_env, "CGO_ENABLED": "0"}


def stack_env(s: Settings) -> dict[str, str]:
    """Where the running stack's parts are, in the variables gomesh/config reads."""
    return {
        "VIDMESH_KAFKA_BOOTSTRAP": f"{s.host}:{s.kafka_port}",
        "VIDMESH_CONSUL_HTTP_ADDR": f"{s.host}:{s.consul_http_port}",
        "VIDMESH_DATABASE_URL": service_dsn("recommendations", s),
        "VIDMESH_TEST_SUPERUSER_URL": superuser_dsn(s),
        "VIDMESH_GATEWAY_URL": f"http://{s.host}:{s.envoy_port}",
    }


def go(tools: Toolchain, *args: str, env: dict[str, str] | None = None) -> int:
    return subprocess.call(["go", *args], cwd=ROOT, env={**go_env(tools), **(env or {})})


def vet(tools: Toolchain) -> int:
    """go vet, then staticcheck (built by `make deps`)."""
    code = go(tools, "vet", "./...")
    if code:
        return code
    staticcheck = tools.go_binary("staticcheck")
    done = subprocess.call([str(staticcheck), "./..."], cwd=ROOT, env=go_env(tools))
    if done == 0:
        say("golang: go vet and staticcheck: clean")
    return done


def test(tools: Toolchain, integration: bool) -> int:
    """go test ./... (with the integration tests against the running stack when asked)."""
    s = load()
    args = ["test", "-count=1", *(["-tags", "integration"] if integration else []), "./..."]
    return go(tools, *args, env=stack_env(s) if integration else None)


def cli() -> int:
    """gen/bin/vidmesh-cli check against this settings' gateway (make codegen builds it)."""
    s = load()
    return subprocess.call([str(ROOT / "gen" / "bin" / "vidmesh-cli"), "-gateway", f"http://{s.host}:{s.envoy_port}",
                            "check"], cwd=ROOT)


def main(argv: list[str]) -> int:
    tools = Toolchain(load().cache_dir)
    if argv[:1] == ["vet"]:
        return vet(tools)
    if argv[:1] == ["test"]:
        return test(tools, integration="--integration" in argv)
    if argv[:1] == ["cli"]:
        return cli()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
