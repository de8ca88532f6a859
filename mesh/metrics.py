"""Prometheus metrics of one process, served over HTTP at /metrics (MESH.md section 14).

    metrics = Metrics()
    port = metrics.serve("127.0.0.1", 0)      # 0 = any free port; registered in Consul as `metrics_port`
    metrics.watch_pool("video", pool); metrics.watch_outbox(relay); metrics.watch_consumer(consumer)

RPCs are counted by the server interceptor (mesh/interceptors.py) under the names the
grpc-ecosystem Prometheus middleware uses (`grpc_server_handled_total`,
`grpc_server_handling_seconds`), so the Go services and the usual dashboards read the same
series. Everything else is read from the parts' own state when Prometheus scrapes: nothing
here runs on the event loop, and a part that is gone (a relay on standby) reports nothing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

    from mesh.consumer import IdempotentConsumer
    from mesh.outbox import OutboxRelay
    from mesh.supervisor import Supervisor

# From 1 ms to 10 s: a read is a few ms, a read that waits for a version up to 2 s.
RPC_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Collect(Collector):
    """A collector that calls a function at every scrape."""

    def __init__(self, collect: Any) -> None:
        self._collect = collect

    def collect(self) -> Iterable[Metric]:
        return list(self._collect())


class Metrics:
    """The registry of one process, the RPC series, and the parts it reads at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        labels = ["grpc_type", "grpc_service", "grpc_method"]
        self.rpc_handled = Counter("grpc_server_handled", "RPCs completed on the server, by status code.",
                                   [*labels, "grpc_code"], registry=self.registry)
        self.rpc_seconds = Histogram("grpc_server_handling_seconds", "Time to answer an RPC, on the server.",
                                     labels, buckets=RPC_BUCKETS, registry=self.registry)
        self.pools: dict[str, AsyncConnectionPool[AsyncConnection[Any]]] = {}
        self.relays: list[OutboxRelay] = []
        self.consumers: list[IdempotentConsumer] = []
        self.supervisor: Supervisor | None = None
        self.port = 0
        self._server: tuple[WSGIServer, threading.Thread] | None = None
        for collect in (self._pools, self._outboxes, self._consumers, self._workers):
            self.registry.register(_Collect(collect))

    def observe_rpc(self, method: str, streaming: bool, code: str, seconds: float) -> None:
        """Count one finished RPC (`method` is `/package.Service/Method`, `code` e.g. `NotFound`)."""
        service, _, name = method.lstrip("/").rpartition("/")
        kind = "server_stream" if streaming else "unary"
        self.rpc_handled.labels(kind, service, name, code).inc()
        self.rpc_seconds.labels(kind, service, name).observe(seconds)

    def watch_pool(self, name: str, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        """Report a Postgres pool's size, free connections and waiting requests."""
        self.pools[name] = pool

    def watch_outbox(self, relay: OutboxRelay) -> None:
        """Report an outbox's backlog and the age of its oldest unsent row."""
        self.relays.append(relay)

    def watch_consumer(self, consumer: IdempotentConsumer) -> None:
        """Report a consumer's lag, outcomes and dead-letter topic."""
        self.consumers.append(consumer)

    def watch_workers(self, supervisor: Supervisor) -> None:
        """Report which workers run and how often each crashed."""
        self.supervisor = supervisor

    def serve(self, host: str, port: int) -> int:
        """Serve /metrics on `host`:`port` (0 = any free port) in a thread; returns the port."""
        self._server = start_http_server(port, addr=host, registry=self.registry)
        self.port = int(self._server[0].server_port)
        return self.port

    async def stop(self) -> None:
        """Stop serving /metrics."""
        if self._server is not None:
            server, thread = self._server
            await asyncio.to_thread(server.shutdown)
            server.server_close()
            await asyncio.to_thread(thread.join, 2.0)
            self._server = None

    # --- read at scrape time -----------------------------------------------------------------

    def _pools(self) -> Iterator[Metric]:
        gauges = {key: GaugeMetricFamily(f"vidmesh_db_pool_{key}", text, labels=["pool"]) for key, text in (
            ("size", "Connections the pool holds open."), ("available", "Open connections nobody uses now."),
            ("max", "The most connections the pool may open."),
            ("requests_waiting", "Callers waiting for a connection."))}
        for name, pool in self.pools.items():
            stats = pool.get_stats()
            for key, stat in (("size", "pool_size"), ("available", "pool_available"), ("max", "pool_max"),
                              ("requests_waiting", "requests_waiting")):
                gauges[key].add_metric([name], stats.get(stat, 0))
        yield from gauges.values()

    def _outboxes(self) -> Iterator[Metric]:
        rows = GaugeMetricFamily("vidmesh_outbox_unsent_rows", "Committed events the relay has not published yet.")
        age = GaugeMetricFamily("vidmesh_outbox_oldest_unsent_age_seconds",
                                "How long the oldest unsent event has waited (0 when none waits).")
        published = CounterMetricFamily("vidmesh_outbox_published", "Events this process's relay published.")
        now = time.time()
        for relay in self.relays:
            published.add_metric([], relay.published)
            backlog = relay.backlog
            if backlog is None:  # on standby: the active relay (another instance) reports
                continue
            rows.add_metric([], backlog.rows)
            age.add_metric([], max(0.0, now - backlog.oldest_at) if backlog.oldest_at is not None else 0.0)
        yield from (rows, age, published)

    def _consumers(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily("vidmesh_consumer_lag_records", "Records in a partition not applied yet.",
                                labels=["group", "topic", "partition"])
        behind = GaugeMetricFamily("vidmesh_consumer_lag_seconds",
                                   "How far behind its newest events a consumer (a read model) is: 0 when it "
                                   "has applied every record, else the age of the last event it applied.",
                                   labels=["group"])
        outcomes = CounterMetricFamily("vidmesh_consumer_events", "Records handled, by outcome.",
                                       labels=["group", "outcome"])
        dead = GaugeMetricFamily("vidmesh_dead_letter_records", "Records in the group's dead-letter topic.",
                                 labels=["group", "topic"])
        now = time.time()
        for consumer in self.consumers:
            progress = consumer.progress
            for (topic, partition), records in progress.lag().items():
                lag.add_metric([consumer.group, topic, str(partition)], records)
            behind.add_metric([consumer.group], progress.seconds_behind(now))
            for outcome, count in consumer.counts.items():
                outcomes.add_metric([consumer.group, outcome], count)
            if progress.dead_letters is not None:
                dead.add_metric([consumer.group, consumer.dlq], progress.dead_letters)
        yield from (lag, behind, outcomes, dead)

    def _workers(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("vidmesh_worker_up", "1 while a background worker runs, 0 while it waits "
                               "to be restarted.", labels=["worker"])
        crashes = CounterMetricFamily("vidmesh_worker_crashes", "Times a background worker crashed and was "
                                      "restarted.", labels=["worker"])
        if self.supervisor is not None:
            down = self.supervisor.down
            for name in self.supervisor.names:
                up.add_metric([name], 0 if name in down else 1)
                crashes.add_metric([name], self.supervisor.crashes[name])
        yield from (up, crashes)
