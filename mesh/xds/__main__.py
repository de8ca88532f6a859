"""The xDS control plane on the mesh runtime: `python -m mesh.xds`.

It watches Consul at VIDMESH_CONSUL_HTTP_ADDR and is not registered there itself: its clients
find it by its address. Its identity is `xds`, and it serves ADS on two ports:
- VIDMESH_XDS_MTLS_ADDR, mutual TLS (with grpc.health.v1 and reflection): Envoy, which checks
  the control plane's SPIFFE id and gets its own certificate here, over SDS, after its
  clusters' mutual TLS settings;
- VIDMESH_XDS_ADDR, plaintext ADS alone: the proxyless gRPC clients, whose xDS client cannot
  check a certificate without a host name (mesh/xds/bootstrap.py); no secret is served here.
With VIDMESH_MTLS=false it serves everything on VIDMESH_XDS_ADDR in plaintext, clusters
without TLS. Its health:
- NOT_SERVING until the first sync with Consul is done, so a readiness probe can wait for it;
- NOT_SERVING while the Consul watcher is down (a crash the runtime restarts it after): the
  state it would serve is no longer followed;
- Consul being away is degradation, not an outage: the last good state is served and the
  watcher logs each failed query and retries.
Besides the healthy instances it watches traffic policy (mesh/xds/policies.py: Consul's
config entries and the fault keys) and serves the gateway's route table (gateway/routes.yaml,
or VIDMESH_GATEWAY_ROUTES) with policy applied; which RPCs are safe to retry comes from the
contracts' descriptor set (gen/vidmesh.binpb, or VIDMESH_DESCRIPTOR_SET). Both files are read
once at start: a missing or broken one stops it with a message naming the file.
SIGTERM: the runtime stops it; every ADS stream ends at once (the clients keep their last
config and reconnect), so the server stops without waiting out the grace.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from pathlib import Path

import grpc
import grpc.aio
import structlog
from envoy.service.discovery.v3 import ads_pb2, ads_pb2_grpc

from mesh import runtime, settings, topology
from mesh.config import ConfigError, ServiceConfig
from mesh.consul_connect import ConsulConnect
from mesh.identity import Identity
from mesh.mtls import fetch_until_it_works
from mesh.runtime import Runtime
from mesh.server import DependencyCheck, Service
from mesh.traffic.methods import Catalog
from mesh.xds import gateway_routes
from mesh.xds.ads import AggregatedDiscoveryService
from mesh.xds.policies import POLICIES, PolicyWatcher
from mesh.xds.security import MeshTls
from mesh.xds.snapshot import Routing, SnapshotStore
from mesh.xds.watcher import ConsulWatcher

ENTRY = topology.Service(name=topology.CONTROL_PLANE, command=topology.python("mesh.xds"))
ADS = ads_pb2.DESCRIPTOR.services_by_name["AggregatedDiscoveryService"]
log = structlog.get_logger("mesh.xds")
# Below the server's check timeout: the check waits for the sync rather than polling for it,
# so SERVING follows the first sync at once instead of at the next check.
FIRST_SYNC_WAIT_S = 1.5
DESCRIPTOR_SET = settings.ROOT / "gen" / "vidmesh.binpb"  # `make protos` writes it


def _host_port(value: str, setting: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{setting}={value!r} is not host:port")
    return host.strip("[]"), int(port)


def control_plane_config(config: ServiceConfig) -> ServiceConfig:
    """The process's configuration: the runtime's server listens on VIDMESH_XDS_MTLS_ADDR
    (VIDMESH_XDS_ADDR with mTLS off); it stays out of Consul."""
    _host_port(config.xds_addr, "VIDMESH_XDS_ADDR")
    listen, setting = (config.xds_mtls_addr, "VIDMESH_XDS_MTLS_ADDR") if config.mtls else (config.xds_addr,
                                                                                          "VIDMESH_XDS_ADDR")
    host, port = _host_port(listen, setting)
    return replace(config, grpc_host=host, grpc_port=port, register=False)


def first_sync_done(store: SnapshotStore) -> DependencyCheck:
    """Readiness: the store holds what Consul held at start."""
    async def first_sync_with_consul() -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(store.wait_ready(), FIRST_SYNC_WAIT_S)
        return store.is_ready
    return first_sync_with_consul


def load_routing(environ: Mapping[str, str]) -> Routing:
    """The RPC catalog and the gateway's route table; ConfigError names a file that is wrong."""
    descriptors = Path(environ.get("VIDMESH_DESCRIPTOR_SET") or DESCRIPTOR_SET)
    table = Path(environ.get("VIDMESH_GATEWAY_ROUTES") or gateway_routes.ROUTES_FILE)
    try:
        catalog = Catalog.from_descriptor_set(descriptors)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read the descriptor set {descriptors} (run `make protos`): {error}") from None
    try:
        gateway = gateway_routes.load(table, gateway_routes.values(settings.load(dict(environ))))
    except (gateway_routes.RouteTableError, settings.SettingsError) as error:
        raise ConfigError(f"the gateway's route table: {error}") from None
    return Routing(catalog=catalog, gateway=gateway)


async def bootstrap(rt: Runtime) -> SnapshotStore:
    """Wire the control plane into the runtime; returns the store it serves."""
    store = SnapshotStore(waits_for=("instances", POLICIES), routing=load_routing(rt.environ))
    watcher = ConsulWatcher(store, *rt.config.consul_host_port)
    rt.worker("consul-watcher", watcher.run, watcher.stop, critical=True)
    policies = PolicyWatcher(store, *rt.config.consul_host_port)
    rt.worker("policy-watcher", policies.run, policies.stop, critical=True)
    rt.check(first_sync_done(store))
    tls = await _mesh_tls(rt, store)
    ads = AggregatedDiscoveryService(store, closing=rt.stopping, tls=tls)
    rt.serve(Service(ADS, ads, ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server))
    if tls is not None:
        await rt.enter(plaintext_ads(ads, rt.config.xds_addr))
    return store


async def _mesh_tls(rt: Runtime, store: SnapshotStore) -> MeshTls | None:
    """With mTLS on: its own identity and the gateway's (served to Envoy over SDS), both renewed;
    every ADS stream re-checks what it owes when either changes."""
    if rt.security is None:
        return None
    own = rt.security.identity
    gateway = Identity(ConsulConnect(rt.config.consul_http_addr), topology.GATEWAY)
    await fetch_until_it_works(gateway)
    rt.worker("gateway-identity", gateway.run, gateway.stop)
    for identity in (own, gateway):
        identity.subscribe(lambda _: store.wake())
    return MeshTls(own, gateway)


@contextlib.asynccontextmanager
async def plaintext_ads(ads: AggregatedDiscoveryService, address: str) -> AsyncIterator[grpc.aio.Server]:
    """ADS alone, in plaintext, on `address` (the proxyless clients'), for the life of the block."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server(ads, server)
    if not server.add_insecure_port(address):
        raise OSError(f"cannot bind {address} (VIDMESH_XDS_ADDR)")
    await server.start()
    log.info("plaintext ADS for proxyless clients", address=address)
    try:
        yield server
    finally:
        await server.stop(0)


def main() -> None:
    """Entry point: configure once, serve until SIGTERM or SIGINT."""
    runtime.main(ENTRY, bootstrap, configure=control_plane_config)


if __name__ == "__main__":
    main()
