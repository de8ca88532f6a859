"""The xDS control plane on the mesh runtime: `python -m mesh.xds`.

It listens on VIDMESH_XDS_ADDR (ADS, grpc.health.v1 and reflection on one port), watches
Consul at VIDMESH_CONSUL_HTTP_ADDR and is not registered there itself: Envoy and the
proxyless clients find it by its address. Its health:
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
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from envoy.service.discovery.v3 import ads_pb2, ads_pb2_grpc

from mesh import runtime, settings, topology
from mesh.config import ConfigError, ServiceConfig
from mesh.runtime import Runtime
from mesh.server import DependencyCheck, Service
from mesh.traffic.methods import Catalog
from mesh.xds import gateway_routes
from mesh.xds.ads import AggregatedDiscoveryService
from mesh.xds.policies import POLICIES, PolicyWatcher
from mesh.xds.snapshot import Routing, SnapshotStore
from mesh.xds.watcher import ConsulWatcher

ENTRY = topology.Service(name=topology.CONTROL_PLANE, command=topology.python("mesh.xds"))
# Below the server's check timeout: the check waits for the sync rather than polling for it,
# so SERVING follows the first sync at once instead of at the next check.
FIRST_SYNC_WAIT_S = 1.5
DESCRIPTOR_SET = settings.ROOT / "gen" / "vidmesh.binpb"  # `make protos` writes it


def control_plane_config(config: ServiceConfig) -> ServiceConfig:
    """The process's configuration: listen on VIDMESH_XDS_ADDR, stay out of Consul."""
    host, _, port = config.xds_addr.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"VIDMESH_XDS_ADDR={config.xds_addr!r} is not host:port")
    return replace(config, grpc_host=host.strip("[]"), grpc_port=int(port), register=False)


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
    ads = AggregatedDiscoveryService(store, closing=rt.stopping)
    rt.serve(Service(ads_pb2.DESCRIPTOR.services_by_name["AggregatedDiscoveryService"], ads,
                     ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server))
    return store


def main() -> None:
    """Entry point: configure once, serve until SIGTERM or SIGINT."""
    runtime.main(ENTRY, bootstrap, configure=control_plane_config)


if __name__ == "__main__":
    main()
