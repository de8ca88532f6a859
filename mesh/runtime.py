"""The one way a vidmesh process runs: its bootstrap composes the parts, the runtime owns the rest.

    async def bootstrap(rt: Runtime) -> None:            # services/video_command/bootstrap.py
        pool = await rt.database(MIGRATIONS)
        rt.outbox_relay()
        rt.serve(service(VideoCommands(lambda: PostgresUnitOfWork(pool))))

    def main() -> None:
        runtime.main(topology.service("video-command"), bootstrap)

Life of a process, as MESH.md states it for every language:
1. the configuration is read once, logs and tracing are configured (mesh/tracing.py); a bad
   setting exits naming it;
2. its identity comes from Consul's CA and the intentions that say who may call it are read
   (mesh/mtls.py); then the bootstrap runs: migrations, pools, servicers; it declares
   workers and checks;
3. /metrics listens in plaintext (mesh/metrics.py: RPCs, pools, outbox, consumers, workers),
   the gRPC server binds with mutual TLS, serves health (NOT_SERVING) and reflection, and
   health alone in plaintext on its health port, and registers in Consul with the metrics
   port in its metadata;
   the workers start under supervision (mesh/supervisor.py), the topics the process writes
   and reads are ensured in the background (Kafka down delays events; it does not stop a
   start), and the retention loop keeps the mesh tables bounded;
4. health is SERVING while every readiness check passes (its own database answers) and every
   critical worker runs; everything else that is down is degradation, per worker;
5. SIGTERM or SIGINT: NOT_SERVING, deregister, drain (VIDMESH_DRAIN_SECONDS), then the server
   stops taking calls while in-flight ones finish and the workers stop, both within
   VIDMESH_SHUTDOWN_GRACE_SECONDS; then every resource closes, in reverse order.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

import psycopg
import structlog
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from mesh import config as mesh_config
from mesh import log as mesh_log
from mesh import migrations, mtls, topology, tracing
from mesh.backoff import Backoff, pause
from mesh.blocking import in_daemon_thread
from mesh.consumer import Handler, IdempotentConsumer
from mesh.db import open_pool
from mesh.kafka import ensure_topics
from mesh.metrics import Metrics
from mesh.outbox import OutboxRelay
from mesh.registry import ConsulRegistry
from mesh.retention import Retention
from mesh.server import NOT_SERVING, SERVING, DependencyCheck, Security, Server, Service
from mesh.supervisor import Supervisor, Worker, health_name

P = TypeVar("P")
T = TypeVar("T")
Pool = AsyncConnectionPool[AsyncConnection[Any]]
Bootstrap = Callable[["Runtime"], Awaitable[P]]
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
CHECK_TIMEOUT_S = 2.0
log = structlog.get_logger(__name__)


class Runtime:
    """One process's parts: what its bootstrap declares, and the lifecycle around them."""

    def __init__(self, config: mesh_config.ServiceConfig, entry: topology.Service,
                 environ: Mapping[str, str]) -> None:
        self.config, self.entry, self.environ = config, entry, environ
        self.stack = AsyncExitStack()
        self.topics_ready = asyncio.Event()
        self.stopping = asyncio.Event()
        self.supervisor = Supervisor(self._report_worker)
        self.metrics = Metrics()
        self.metrics.watch_workers(self.supervisor)
        self.server: Server | None = None
        self.security: Security | None = None  # set by mesh.mtls.secure() before the bootstrap runs
        self._services: list[Service] = []
        self._checks: list[DependencyCheck] = []
        self._workers: list[Worker] = []
        self._topics: set[str] = set()

    # --- what a bootstrap declares ----------------------------------------------------------

    async def database(self, migrations_dir: Path | None = None, *, max_size: int = 10) -> Pool:
        """Migrate the service's database, open its pool and make it a readiness check."""
        dsn = self.config.require_database_url()
        dirs = [migrations_dir] if migrations_dir else []
        await self._until_it_works("migrations", lambda: asyncio.to_thread(migrations.apply, dsn, *dirs))
        pool = await self._until_it_works("postgres", lambda: open_pool(dsn, name=self.config.service_name,
                                                                         max_size=max_size))
        self.stack.push_async_callback(pool.close)
        self.metrics.watch_pool(self.config.service_name, pool)
        self.check(_postgres_check(pool))
        retention = Retention(pool, self.config.retention_s)
        self.worker("retention", retention.run, retention.stop)
        return pool

    async def read_pool(self, *, max_size: int = 10) -> Pool:
        """A second pool on the service's database, of autocommit connections, for reads of
        one statement each (one round trip, no BEGIN/COMMIT); call after `database()`."""
        dsn, name = self.config.require_database_url(), f"{self.config.service_name}-reads"
        pool = await self._until_it_works("postgres", lambda: open_pool(dsn, name=name, max_size=max_size,
                                                                         autocommit=True))
        self.stack.push_async_callback(pool.close)
        return pool

    def topic(self, name: str) -> str:
        """A topic's name for this process (VIDMESH_TOPIC_PREFIX first, so tests keep apart)."""
        return self.config.topic_prefix + name

    def outbox_relay(self, **options: Any) -> OutboxRelay:
        """Publish this service's outbox to the topics the topology says it produces."""
        self._topics.update(self.entry.produces)
        relay = OutboxRelay(self.config.require_database_url(), self.config.kafka_bootstrap,
                            topic_prefix=self.config.topic_prefix, **options)
        self.worker("outbox-relay", self._after_topics(relay.run), relay.stop)
        self.metrics.watch_outbox(relay)
        return relay

    def consumer(self, handlers: Mapping[type[Any], Handler], pool: Pool, *,
                 topics: Sequence[str] | None = None, name: str = "consumer", **options: Any) -> IdempotentConsumer:
        """Consume the topics the topology says (or `topics`), group = the service's name."""
        wanted = list(topics if topics is not None else self.entry.consumes)
        self._topics.update(wanted)
        consumer = IdempotentConsumer(pool, self.config.kafka_bootstrap, self.config.service_name,
                                      [self.topic(t) for t in wanted], handlers, **options)
        self.worker(name, self._after_topics(consumer.run), consumer.stop)
        self.metrics.watch_consumer(consumer)
        return consumer

    def worker(self, name: str, run: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]] | None = None,
               *, critical: bool = False) -> None:
        """A background loop, started with the server, supervised, stopped at shutdown."""
        self._workers.append(Worker(name=name, run=run, stop=stop, critical=critical))

    def check(self, check: DependencyCheck) -> None:
        """A readiness check: while it fails (False or raises), the instance is NOT_SERVING."""
        self._checks.append(check)

    def serve(self, *services: Service) -> None:
        """The gRPC services this process answers."""
        self._services.extend(services)

    async def enter(self, context: AbstractAsyncContextManager[T]) -> T:
        """A resource that lives as long as the process (closed in reverse order at the end)."""
        return await self.stack.enter_async_context(context)

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server bound (0 before start)."""
        return self.server.port if self.server else 0

    @property
    def health_port(self) -> int:
        """The port of its plaintext health service (0 before start)."""
        return self.server.health_port if self.server else 0

    async def start(self) -> int:
        """Serve, register and start the workers; returns the port."""
        registry = ConsulRegistry(*self.config.consul_host_port) if self.config.register else None
        checks = [*self._checks, self._critical_workers_run]
        self.metrics.serve(self.config.grpc_host, self.config.metrics_port)
        self.server = Server(self.config, self._services, checks=checks, registry=registry, security=self.security,
                             metrics=self.metrics)
        port = await self.server.start()
        if self._topics:
            self.supervisor.start(Worker(name="kafka-topics", run=self._ensure_topics, once=True))
        for worker in self._workers:
            await self._report_worker(worker.name, True)
            self.supervisor.start(worker)
        return port

    async def stop(self) -> None:
        """Leave the routing, drain, stop the server and the workers, close the resources."""
        self.stopping.set()
        if self.server is not None:
            await self.server.leave()
            grace = self.config.shutdown_grace_s
            await asyncio.gather(self.server.stop(grace), self.supervisor.stop(grace))
        else:
            await self.supervisor.stop(self.config.shutdown_grace_s)
        await self.stack.aclose()
        await self.metrics.stop()
        log.info("stopped")

    async def _critical_workers_run(self) -> bool:
        down = self.supervisor.critical_down()
        if down:
            raise RuntimeError(f"critical worker(s) down: {', '.join(down)}")
        return True

    async def _report_worker(self, name: str, running: bool) -> None:
        if self.server is not None:
            await self.server.health.set(health_name(name), SERVING if running else NOT_SERVING)

    def _after_topics(self, run: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def when_topics_exist() -> None:
            if await self._unless_stopping(asyncio.ensure_future(self.topics_ready.wait())):
                await run()
        return when_topics_exist

    async def _ensure_topics(self) -> None:
        topics = {self.topic(name): topology.EVENT_PARTITIONS for name in sorted(self._topics)}
        backoff = Backoff(initial=0.5, maximum=15.0)
        while True:
            # A daemon thread, raced with the stop: with Kafka away the admin call blocks for
            # its timeout, which must not hold the process's exit after SIGTERM.
            attempt = asyncio.ensure_future(in_daemon_thread(ensure_topics, self.config.kafka_bootstrap, topics,
                                                             name="kafka-topics"))
            if not await self._unless_stopping(attempt):
                return
            try:
                attempt.result()
                self.topics_ready.set()
                return
            except Exception as error:  # Kafka away: events wait in the outbox, nothing else waits
                delay = backoff.next()
                log.warning("kafka topics not ensured yet; events wait", topics=sorted(topics), retry_in_s=delay,
                            error=repr(error))
                if await pause(self.stopping, delay):
                    return

    async def _unless_stopping(self, work: asyncio.Future[Any]) -> bool:
        """Wait for `work` or for the stop, whichever comes first; False on the stop."""
        stop = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not work.done():
            work.cancel()
            return False
        return True

    async def _until_it_works(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        backoff = Backoff(initial=0.5, maximum=10.0)
        while True:
            try:
                return await attempt()
            except (psycopg.OperationalError, PoolTimeout) as error:
                delay = backoff.next()
                log.warning("waiting for the database", step=what, retry_in_s=delay, error=str(error))
                await asyncio.sleep(delay)


def _postgres_check(pool: Pool) -> DependencyCheck:
    async def postgres() -> bool:
        async with pool.connection(timeout=CHECK_TIMEOUT_S) as conn:
            await conn.execute("SELECT 1")
        return True
    return postgres


class Running(Generic[P]):
    """A started process: its runtime (port, server) and what its bootstrap returned."""

    def __init__(self, runtime: Runtime, parts: P) -> None:
        self.runtime, self.parts = runtime, parts

    @property
    def port(self) -> int:
        """The bound gRPC port."""
        return self.runtime.port

    @property
    def health_port(self) -> int:
        """The bound plaintext health port."""
        return self.runtime.health_port


@asynccontextmanager
async def running(entry: topology.Service, bootstrap: Bootstrap[P], environ: Mapping[str, str] | None = None,
                  *, config: mesh_config.ServiceConfig | None = None) -> AsyncIterator[Running[P]]:
    """The process started from `environ` (tests pass a dict; a port 0 is any free port), until
    the block ends."""
    env = os.environ if environ is None else environ
    cfg = config or mesh_config.load(env, service_name=entry.name,
                                     required=["VIDMESH_DATABASE_URL"] if entry.database else [])
    runtime = Runtime(cfg, entry, env)
    try:
        runtime.security = await mtls.secure(runtime)
        parts = await bootstrap(runtime)
        await runtime.start()
        yield Running(runtime, parts)
    finally:
        await runtime.stop()


async def wait_for_signal() -> signal.Signals:
    """Block until SIGTERM or SIGINT arrives; returns which one."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[signal.Signals] = loop.create_future()

    def on_signal(signum: signal.Signals) -> None:
        if not received.done():
            received.set_result(signum)

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        signum = await received
    finally:
        for signum_ in STOP_SIGNALS:
            loop.remove_signal_handler(signum_)
    log.info("signal", signal=signum.name)
    return signum


def main(entry: topology.Service, bootstrap: Bootstrap[Any], *,
         configure: Callable[[mesh_config.ServiceConfig], mesh_config.ServiceConfig] | None = None) -> None:
    """`python -m <service>`: read the configuration, serve until SIGTERM, shut down gracefully."""
    try:
        config = mesh_config.load(service_name=entry.name,
                                  required=["VIDMESH_DATABASE_URL"] if entry.database else [])
        config = configure(config) if configure else config
        tracing.configure(config.service_name, config.advertise_host)
    except mesh_config.ConfigError as error:
        sys.exit(f"{entry.name}: {error}")
    mesh_log.configure(config.service_name, config.log_level)
    mtls.own_bootstrap()

    async def serve() -> None:
        async with running(entry, bootstrap, config=config):
            await wait_for_signal()

    try:
        asyncio.run(serve())
    except mesh_config.ConfigError as error:  # a service's own settings, read by its bootstrap
        sys.exit(f"{entry.name}: {error}")
    finally:
        tracing.shutdown()
