"""Run the xDS control plane: `python -m mesh.xds`.

Listens on VIDMESH_XDS_ADDR (ADS, plus grpc.health.v1 and reflection on the same port) and
watches Consul at VIDMESH_CONSUL_HTTP_ADDR. Health says SERVING once the first sync with
Consul is done, so a readiness probe (`grpcurl ... grpc.health.v1.Health/Check`) can wait
for it. SIGTERM: NOT_SERVING, stop watching, let streams end within the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

import grpc
import structlog
from envoy.service.discovery.v3 import ads_pb2, ads_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from mesh import config, log
from mesh.xds.ads import AggregatedDiscoveryService
from mesh.xds.snapshot import SnapshotStore
from mesh.xds.watcher import ConsulWatcher

logger = structlog.get_logger("mesh.xds")

SERVICE_NAME = "xds"
ADS_SERVICE = ads_pb2.DESCRIPTOR.services_by_name["AggregatedDiscoveryService"].full_name
STOP_GRACE = 2.0  # seconds: ADS streams never end on their own, so the grace is short


async def _report_ready(store: SnapshotStore, health_servicer: health.aio.HealthServicer) -> None:
    await store.wait_ready()
    for name in ("", ADS_SERVICE):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)


async def _start_server(store: SnapshotStore, listen: str) -> tuple[grpc.aio.Server, health.aio.HealthServicer]:
    server = grpc.aio.server()
    ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server(AggregatedDiscoveryService(store), server)
    health_servicer = health.aio.HealthServicer()
    for name in ("", ADS_SERVICE):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((ADS_SERVICE, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(listen)
    await server.start()
    logger.info("xds control plane listening", addr=listen, port=port)
    return server, health_servicer


async def serve(cfg: config.ServiceConfig) -> None:
    """Serve ADS on `cfg.xds_addr` from Consul at `cfg.consul_http_addr` until SIGTERM or SIGINT."""
    store = SnapshotStore()
    server, health_servicer = await _start_server(store, cfg.xds_addr)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watching = asyncio.create_task(ConsulWatcher(store, *cfg.consul_host_port).run())
    watching.add_done_callback(lambda _: stop.set())  # a dead watcher must not serve stale state
    ready = asyncio.create_task(_report_ready(store, health_servicer))
    try:
        await stop.wait()
    finally:
        await health_servicer.enter_graceful_shutdown()
        for task in (watching, ready):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await server.stop(STOP_GRACE)
        logger.info("xds control plane stopped")


def main() -> None:
    """Entry point: read the configuration once (VIDMESH_XDS_ADDR, VIDMESH_CONSUL_HTTP_ADDR) and serve."""
    cfg = config.load(service_name=SERVICE_NAME)
    log.configure(cfg.service_name, cfg.log_level)
    asyncio.run(serve(cfg))


if __name__ == "__main__":
    main()
