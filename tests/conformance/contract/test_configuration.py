"""MESH.md §1 Configuration: the topology's command with a malformed setting."""

from __future__ import annotations

from mesh import topology
from tests.conformance.kit.checks.configuration import check_bad_setting_stops_it
from tests.conformance.kit.owns import OwnInstances


async def test_a_malformed_setting_stops_it_naming_the_variable(entry: topology.Service, owns: OwnInstances) -> None:
    await check_bad_setting_stops_it(owns.spare())
