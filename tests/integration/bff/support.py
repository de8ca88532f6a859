"""Real processes for the BFF integration tests: domain services and BFFs as `python -m ...`.

Every process registers in the shared Consul under a name of its own (`video-query-<tag>`),
so the tests neither use nor disturb the stack's instances, and the BFFs under test are
pointed at those names (VIDMESH_UPSTREAM_*) and find them through the xDS control plane.
Readiness is Consul's passing check, awaited with blocking queries.

Each video-query projects under a consumer group of its own (its service name) that starts
where the topics end now: a new group would otherwise replay the whole history (benchmarks
write thousands of events), which would delay every read-your-writes wait here. Its
projection rules give the same rows whatever the order and however often an event is
applied, so the stack's own projector applying the same events later changes nothing. The
groups and their dead-letter topics are deleted at the end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import consul
import requests
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from mesh import topology
from mesh.dbbootstrap import service_dsn
from mesh.kafka import dlq_topic, ensure_topics
from mesh.settings import ROOT, Settings

START_TIMEOUT_S = 90.0
KAFKA_TIMEOUT_S = 10.0
PROJECTED_TOPICS = topology.service("video-query").consumes
STOP_TIMEOUT_S = 15.0
# Database role of each domain service package.
ROLES = {"users": "users", "video_command": "video_command", "video_query": "video_query",
         "notification": "notification"}


@dataclass
class Instance:
    """One running process and the Consul name it registered under."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    address: str = ""

    def tail(self, chars: int = 4000) -> str:
        """The end of its log, for failure messages."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@dataclass
class Stubs:
    """Clients of the BFFs under test, and of users for registering accounts."""

    web: Any
    mobile: Any
    users: Any


@dataclass
class Mesh:
    """Starts processes against the shared stack and stops them all at the end."""

    settings: Settings
    folder: Path
    tag: str
    instances: list[Instance] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # consumer groups to delete at the end

    def name(self, service: str) -> str:
        """A Consul name of this test run's own for `service`."""
        return f"{service}-bfftest-{self.tag}"

    @property
    def kafka(self) -> str:
        return f"{self.settings.host}:{self.settings.kafka_port}"

    @property
    def consul(self) -> consul.Consul:
        return consul.Consul(host=self.settings.host, port=self.settings.consul_http_port, connections_timeout=10)

    def base_env(self) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen' / 'python'}",
            "PYTHONUNBUFFERED": "1",
            "VIDMESH_GRPC_HOST": s.host,
            "VIDMESH_GRPC_PORT": "0",
            "VIDMESH_CONSUL_HTTP_ADDR": f"{s.host}:{s.consul_http_port}",
            "VIDMESH_KAFKA_BOOTSTRAP": f"{s.host}:{s.kafka_port}",
            "VIDMESH_XDS_ADDR": f"{s.host}:{s.xds_port}",
            "VIDMESH_DATA_DIR": str(s.data_dir),
            "VIDMESH_JWT_KEYS_DIR": str(self.folder / "jwt"),
            "VIDMESH_DRAIN_SECONDS": "0.2",
        }

    def start_service(self, package: str, name: str) -> Instance:
        """`python -m services.<package>` registered as `name`."""
        env = {"VIDMESH_DATABASE_URL": service_dsn(ROLES[package], self.settings)}
        if package == "video_query":  # its consumer group is its name
            start_at_end(self.kafka, name, PROJECTED_TOPICS)
            self.groups.append(name)
        return self.start(f"services.{package}", name, env)

    def start_bff(self, module: str, name: str, upstreams: Mapping[str, str], **environ: str) -> Instance:
        """`python -m bff.<module>` registered as `name`, calling the given Consul names
        (`environ` adds or replaces settings)."""
        env = {f"VIDMESH_UPSTREAM_{key.upper()}": value for key, value in upstreams.items()}
        return self.start(f"bff.{module}", name, {**env, **environ})

    def start(self, module: str, name: str, env: Mapping[str, str]) -> Instance:
        """Start `python -m module` (not waiting for it: see `wait_passing`)."""
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", module], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                       env={**self.base_env(), **env, "VIDMESH_SERVICE_NAME": name})
        instance = Instance(name, process, log)
        self.instances.append(instance)
        return instance

    def wait_passing(self, instance: Instance, timeout: float = START_TIMEOUT_S) -> Instance:
        """Block until Consul lists the instance as passing; its address is then known."""
        deadline, index, client = time.monotonic() + timeout, None, self.consul
        while time.monotonic() < deadline:
            if instance.process.poll() is not None:
                raise RuntimeError(f"{instance.name} exited with {instance.process.returncode}:\n{instance.tail()}")
            try:
                index, entries = client.health.service(instance.name, passing=True, index=index, wait="1s")
            except (requests.RequestException, consul.ConsulException):
                index, entries = None, []  # a loaded machine: Consul answered late; ask again
            if entries:
                service = entries[0]["Service"]
                instance.address = f"{service['Address']}:{service['Port']}"
                return instance
        raise TimeoutError(f"{instance.name} not passing within {timeout}s:\n{instance.tail()}")

    def kill(self, instance: Instance) -> None:
        """SIGKILL: the instance vanishes without deregistering, as in a crash."""
        instance.process.send_signal(signal.SIGKILL)
        instance.process.wait(timeout=STOP_TIMEOUT_S)

    def stop(self, instance: Instance) -> None:
        """SIGTERM: the instance deregisters, drains and exits."""
        instance.process.terminate()
        try:
            instance.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            instance.process.kill()
            instance.process.wait(timeout=STOP_TIMEOUT_S)

    def stop_all(self) -> None:
        """Stop every process still running and drop what a killed one left in Consul."""
        for instance in self.instances:
            if instance.process.poll() is None:
                self.stop(instance)
        client = self.consul
        for service_id, service in client.agent.services().items():
            if service["Service"] in {instance.name for instance in self.instances}:
                client.agent.service.deregister(service_id)


def start_at_end(bootstrap: str, group: str, topics: tuple[str, ...]) -> None:
    """Commit the topics' current ends as `group`'s offsets, so it reads only what comes next
    (topics nobody has written yet are created first)."""
    ensure_topics(bootstrap, dict.fromkeys(topics, topology.EVENT_PARTITIONS))
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{group}-probe"})
    try:
        metadata = probe.list_topics(timeout=KAFKA_TIMEOUT_S)
        partitions = [TopicPartition(topic, number) for topic in topics for number in metadata.topics[topic].partitions]
        ends = [TopicPartition(p.topic, p.partition, probe.get_watermark_offsets(p, timeout=KAFKA_TIMEOUT_S)[1])
                for p in partitions]
    finally:
        probe.close()
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, ends)])[group].result(
        timeout=KAFKA_TIMEOUT_S)


def forget_group(bootstrap: str, group: str) -> None:
    """Delete the group's offsets and its dead-letter topic (either may not exist)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in [*admin.delete_consumer_groups([group]).values(), *admin.delete_topics([dlq_topic(group)]).values()]:
        with contextlib.suppress(KafkaException):  # never created, or already gone
            future.result(timeout=KAFKA_TIMEOUT_S)


@contextmanager
def mesh(settings: Settings, folder: Path, tag: str) -> Iterator[Mesh]:
    """A Mesh whose processes are all stopped, and Kafka groups deleted, when the block ends."""
    running = Mesh(settings, folder, tag)
    try:
        yield running
    finally:
        running.stop_all()
        for group in running.groups:
            forget_group(running.kafka, group)
