"""The processes of the native stack, in the shape process-compose reads.

Each component names its command, the address it serves, how readiness is checked and
what it needs first. process-compose starts them in dependency order, waits on each
readiness probe, stops them in reverse order, and restarts every long-running one that
exits (a crash, kill -9, or a SIGTERM it was not asked for) after a short backoff; the
services wait for and reconnect to whatever they depend on, so the stack heals itself.
"""

from __future__ import annotations

import shlex
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesh.settings import ROOT, Settings
from scripts.devstack.layout import Layout
from scripts.devstack.prepare import postgres_runner
from scripts.toolchain import Toolchain

# The broker's JVM (docker-compose.yml passes the same): a heap that starts small and grows as
# needed, and the serial collector, which the JVM itself picks for small machines: G1's
# regions and remembered sets cost an idle dev broker 40 MiB more, for pauses it does not need.
KAFKA_JVM = ("-Xms32m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:MaxMetaspaceSize=128m")


@dataclass(frozen=True)
class Component:
    name: str
    command: list[str]
    address: str
    probe: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    stop_signal: int = signal.SIGTERM
    env: dict[str, str] = field(default_factory=dict)
    one_shot: bool = False  # runs to completion (e.g. the database bootstrap); no probe
    retries: int = 0  # a one-shot that fails is run again, this many times, 2 s apart
    check: tuple[str, str] | None = None  # (kind, address) the stack's prober checks for `probe`


def checked(s: Settings, name: str) -> dict[str, Any]:
    """A readiness probe the stack's prober answers (scripts/devstack/prober.py): for the
    components without an HTTP health endpoint of their own."""
    return _http_probe(s.host, s.stack_probe_port, f"/ready/{name}")


def _http_probe(host: str, port: int, path: str) -> dict[str, Any]:
    return {"http_get": {"host": host, "port": port, "path": path, "scheme": "http"}}


def infrastructure(s: Settings, layout: Layout, tools: Toolchain, configs: dict[str, Path]) -> list[Component]:
    """Postgres, Kafka, Consul, the SMTP sink, Jaeger, Prometheus and Envoy, as local processes."""
    pg = f"{s.host}:{s.postgres_port}"
    return [
        # First, with nothing to wait for: the others' probes go through it.
        Component("prober", [sys.executable, "-m", "scripts.devstack.prober", f"{s.host}:{s.stack_probe_port}",
                             str(layout.probes_file)],
                  f"{s.host}:{s.stack_probe_port}", _http_probe(s.host, s.stack_probe_port, "/healthz")),
        Component(
            "postgres",
            [*postgres_runner(), str(tools.pg_bin / "postgres"), "-D", str(layout.postgres_data),
             "-h", s.host, "-p", str(s.postgres_port), "-c", "unix_socket_directories=",
             "-c", "max_connections=200", "-c", "logging_collector=off"],
            pg,
            {"exec": {"command": shlex.join([str(tools.pg_bin / "pg_isready"), "-q", "-h", s.host,
                                             "-p", str(s.postgres_port), "-U", s.postgres_user])}},
            # SIGINT is Postgres's "fast" shutdown; SIGTERM would wait for every client.
            stop_signal=signal.SIGINT,
        ),
        Component(
            "kafka",
            ["java", *KAFKA_JVM,
             f"-Dlog4j2.configurationFile={configs['kafka-log4j2']}",
             "-cp", f"{tools.kafka_libs}/*", "kafka.Kafka", str(configs["kafka"])],
            f"{s.host}:{s.kafka_port}",
            checked(s, "kafka"), check=("kafka", f"{s.host}:{s.kafka_port}"),
        ),
        Component(
            "consul",
            [str(tools.consul), "agent", f"-config-file={configs['consul']}"],
            f"{s.host}:{s.consul_http_port}",
            # 200 once the agent has a leader and is healthy, 429 before.
            _http_probe(s.host, s.consul_http_port, "/v1/operator/autopilot/health"),
        ),
        Component(
            "smtp-sink",
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"{s.host}:{s.smtp_port}",
             "-c", "aiosmtpd.handlers.Mailbox", str(layout.maildir)],
            f"{s.host}:{s.smtp_port}",
            checked(s, "smtp-sink"), check=("smtp", f"{s.host}:{s.smtp_port}"),
        ),
        # Traces and metrics: nothing waits for them (spans and scrapes that miss are only lost).
        Component(
            "jaeger",
            [str(tools.jaeger), "--config", str(configs["jaeger"])],
            f"{s.host}:{s.jaeger_query_port}",
            _http_probe(s.host, s.jaeger_health_port, "/status"),
        ),
        Component(
            "prometheus",
            [str(tools.prometheus), f"--config.file={configs['prometheus']}",
             f"--storage.tsdb.path={layout.prometheus_data}", "--storage.tsdb.retention.time=1d",
             f"--web.listen-address={s.host}:{s.prometheus_port}", "--log.level=warn"],
            f"{s.host}:{s.prometheus_port}",
            _http_probe(s.host, s.prometheus_port, "/-/ready"),
            depends_on=("consul",),  # it finds every target through Consul
        ),
        Component(
            "envoy",
            [str(tools.envoy), "-c", str(configs["envoy"]), "--disable-hot-restart",
             "--log-level", "warn", "--concurrency", "1"],
            f"{s.host}:{s.envoy_port}",
            _http_probe(s.host, s.envoy_admin_port, "/ready"),
            # The gateway's clusters come from the control plane, which watches the registry;
            # its certificate for that stream is kept by `certs`.
            depends_on=("xds", "certs"),
        ),
    ]


# Every long-running process comes back after it exits, however it exited; `make down` and a
# test's `process stop` are the only stops that last. The backoff is constant (process-compose
# has no exponential one): long enough for a killed Postgres's backends to notice and go.
RESTART = {"restart": "always", "backoff_seconds": 2, "max_restarts": 0}
ONE_SHOT = {"restart": "no"}


def _one_shot(retries: int) -> dict[str, Any]:
    return {"restart": "on_failure", "backoff_seconds": 2, "max_restarts": retries} if retries else ONE_SHOT

# Each log holds the component's own lines as it printed them, not wrapped in JSON.
PLAIN_LOGS = {"disable_json": True, "no_metadata": True, "no_color": True, "fields_order": ["message"],
              "flush_each_line": True}


def process_compose_config(components: list[Component], layout: Layout) -> dict[str, Any]:
    """The process-compose YAML document for these components."""
    one_shots = {c.name for c in components if c.one_shot}
    processes: dict[str, Any] = {}
    for c in components:
        processes[c.name] = {
            "command": shlex.join(c.command),
            "working_dir": str(ROOT),
            "log_location": str(layout.log(c.name)),
            "log_configuration": PLAIN_LOGS,
            "environment": [f"{k}={v}" for k, v in c.env.items()],
            "availability": _one_shot(c.retries) if c.one_shot else RESTART,
            "shutdown": {"signal": int(c.stop_signal), "timeout_seconds": 20},
            "depends_on": {dep: {"condition": "process_completed_successfully" if dep in one_shots
                                 else "process_healthy"} for dep in c.depends_on},
        }
        if not c.one_shot:
            processes[c.name]["readiness_probe"] = {
                **c.probe, "initial_delay_seconds": 0, "period_seconds": 1,
                "timeout_seconds": 5, "success_threshold": 1, "failure_threshold": 600}
    return {"version": "0.5", "is_strict": True, "ordered_shutdown": True,
            "log_location": str(layout.log("process-compose")),
            "log_configuration": PLAIN_LOGS,
            "processes": processes}
