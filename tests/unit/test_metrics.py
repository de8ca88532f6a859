"""mesh/metrics.py and mesh/progress.py: what /metrics says, scraped over HTTP from 127.0.0.1:0
the way Prometheus reads it, after real RPCs on an in-process server and from the parts' state."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import grpc
import grpc.aio
import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from mesh.consumer import IdempotentConsumer
from mesh.interceptors import default_interceptors
from mesh.metrics import Metrics
from mesh.outbox import Backlog, OutboxRelay
from mesh.progress import ConsumerProgress
from mesh.supervisor import Supervisor, Worker
from tests.support_server import EchoRequest, EchoResponse, add_to_server, echo_service

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(metrics: Metrics) -> Samples:
    """Every sample on /metrics: (name, labels) -> value."""
    text = httpx.get(f"http://127.0.0.1:{metrics.port}/metrics", timeout=5).text
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@pytest_asyncio.fixture(loop_scope="session")
async def served() -> AsyncIterator[tuple[Metrics, grpc.aio.Channel]]:
    metrics = Metrics()
    metrics.serve("127.0.0.1", 0)
    server = grpc.aio.server(interceptors=default_interceptors(max_rpc_seconds=5, metrics=metrics))
    add_to_server(echo_service().servicer, server)  # type: ignore[arg-type]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield metrics, channel
    await server.stop(None)
    await metrics.stop()


async def test_every_rpc_is_counted_by_method_and_code_and_timed(served: tuple[Metrics, grpc.aio.Channel]) -> None:
    metrics, channel = served
    echo = channel.unary_unary("/meshtest.v1.EchoService/Echo", request_serializer=EchoRequest.SerializeToString,
                               response_deserializer=EchoResponse.FromString)
    await echo(EchoRequest(title="x"), timeout=5)
    for fail in ("not_found", "not_found"):
        with pytest.raises(grpc.aio.AioRpcError):
            await echo(EchoRequest(title="x", fail=fail), timeout=5)
    labels = {"grpc_type": "unary", "grpc_service": "meshtest.v1.EchoService", "grpc_method": "Echo"}
    deadline = time.monotonic() + 5  # the server counts a call after its client has the answer
    while (value(samples := await asyncio.to_thread(scrape, metrics), "grpc_server_handled_total",
                 grpc_code="NotFound", **labels) or 0) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)  # polling interval of a bounded wait
    assert value(samples, "grpc_server_handled_total", grpc_code="OK", **labels) == 1
    assert value(samples, "grpc_server_handled_total", grpc_code="NotFound", **labels) == 2
    assert value(samples, "grpc_server_handling_seconds_count", **labels) == 3
    assert value(samples, "grpc_server_handling_seconds_bucket", le="+Inf", **labels) == 3


async def test_the_outbox_reports_its_backlog_only_while_its_relay_is_active() -> None:
    metrics = Metrics()
    metrics.serve("127.0.0.1", 0)
    relay = OutboxRelay("postgresql://nobody@127.0.0.1:1/none", "127.0.0.1:1")
    metrics.watch_outbox(relay)
    try:
        standby = await asyncio.to_thread(scrape, metrics)
        assert value(standby, "vidmesh_outbox_unsent_rows") is None  # the active relay, elsewhere, says
        relay.backlog = Backlog(rows=7, oldest_at=time.time() - 12)
        active = await asyncio.to_thread(scrape, metrics)
    finally:
        await metrics.stop()
    assert value(active, "vidmesh_outbox_unsent_rows") == 7
    assert 12 <= (value(active, "vidmesh_outbox_oldest_unsent_age_seconds") or 0) < 20
    assert value(active, "vidmesh_outbox_published_total") == 0


async def test_a_consumer_reports_lag_per_partition_outcomes_and_dead_letters() -> None:
    metrics = Metrics()
    metrics.serve("127.0.0.1", 0)
    consumer = IdempotentConsumer(cast(Any, None), "127.0.0.1:1", "reader", ["video.v1.events"], {})
    metrics.watch_consumer(consumer)
    consumer.progress.refreshed({("video.v1.events", 0): 10, ("video.v1.events", 1): 4},
                                {("video.v1.events", 0): 6, ("video.v1.events", 1): 4})
    consumer.counts["dead_lettered"], consumer.progress.dead_letters = 1, 1
    try:
        samples = await asyncio.to_thread(scrape, metrics)
    finally:
        await metrics.stop()
    assert value(samples, "vidmesh_consumer_lag_records", group="reader", topic="video.v1.events", partition="0") == 4
    assert value(samples, "vidmesh_consumer_lag_records", group="reader", topic="video.v1.events", partition="1") == 0
    assert (value(samples, "vidmesh_consumer_lag_seconds", group="reader") or 0) > 0
    assert value(samples, "vidmesh_consumer_events_total", group="reader", outcome="dead_lettered") == 1
    assert value(samples, "vidmesh_dead_letter_records", group="reader", topic="reader.dlq") == 1


async def test_workers_report_whether_they_run_and_their_crashes() -> None:
    metrics = Metrics()
    metrics.serve("127.0.0.1", 0)

    async def report(name: str, running: bool) -> None:
        return None

    supervisor = Supervisor(report)
    metrics.watch_workers(supervisor)
    supervisor.start(Worker(name="relay", run=lambda: asyncio.sleep(30)))
    supervisor.crashes["relay"] = 2
    try:
        samples = await asyncio.to_thread(scrape, metrics)
    finally:
        await supervisor.stop(1.0)
        await metrics.stop()
    assert value(samples, "vidmesh_worker_up", worker="relay") == 1
    assert value(samples, "vidmesh_worker_crashes_total", worker="relay") == 2


def test_lag_counts_what_was_fetched_but_not_applied_yet() -> None:
    progress = ConsumerProgress(started_at=100.0)
    partition = ("video.v1.events", 0)
    progress.refreshed({partition: 5}, {partition: 5})
    assert progress.lag() == {partition: 0} and progress.seconds_behind(now=200.0) == 0
    for offset in (5, 6, 7):
        progress.fetched(partition, offset)  # a batch arrived; the consumer is stuck on 5
    assert progress.lag() == {partition: 3}
    assert progress.seconds_behind(now=200.0) == 100.0  # nothing applied since it started
    progress.done(partition, 5, event_time=190.0)
    assert progress.lag() == {partition: 2} and progress.seconds_behind(now=200.0) == 10.0
    progress.done(partition, 6, 195.0)
    progress.done(partition, 7, 199.0)
    assert progress.lag() == {partition: 0} and progress.seconds_behind(now=500.0) == 0


def test_a_partition_moved_to_another_instance_is_forgotten() -> None:
    progress = ConsumerProgress()
    kept, moved = ("t", 0), ("t", 1)
    progress.refreshed({kept: 3, moved: 9}, {kept: 3, moved: 1})
    progress.refreshed({kept: 3}, {kept: 3})
    assert progress.lag() == {kept: 0}
