"""MESH.md §5 Shutdown, on the kit's own instance (this module runs last for each service:
the check ends the instance the others reused)."""

from __future__ import annotations

from mesh import topology
from tests.conformance.kit.checks.shutdown import check_sigterm
from tests.conformance.kit.consul import Consul
from tests.conformance.kit.owns import OwnInstances


async def test_sigterm_not_serving_deregistered_drained_and_exited_in_time(entry: topology.Service,
                                                                           owns: OwnInstances,
                                                                           consul: Consul) -> None:
    own, api = await owns.running()
    await check_sigterm(own, api, consul)
