"""MESH.md §2 Registration: the stack's instance's Consul record; the kit's own instance
registers again after its agent forgot it."""

from __future__ import annotations

from mesh import topology
from tests.conformance.kit.api import Api
from tests.conformance.kit.checks.registration import check_record, check_registers_again
from tests.conformance.kit.consul import Consul
from tests.conformance.kit.owns import OwnInstances
from tests.conformance.kit.target import Target


async def test_consul_record_names_id_tags_metadata_ip_and_grpc_check(
        entry: topology.Service, stack_instance: tuple[Target, Api], consul: Consul) -> None:
    await check_record(*stack_instance, consul)


async def test_registers_again_when_the_agent_forgets_it(entry: topology.Service, owns: OwnInstances,
                                                        consul: Consul) -> None:
    own, _ = await owns.running()
    await check_registers_again(own.target, consul)
