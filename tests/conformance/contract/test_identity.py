"""MESH.md §13 Identity, on the stack's instance of each service."""

from __future__ import annotations

import pytest

from mesh import topology
from mesh.settings import Settings
from tests.conformance.kit.api import Api
from tests.conformance.kit.checks.identity import check_refuses_a_caller_no_intention_allows, check_refuses_plaintext
from tests.conformance.kit.target import Target


def test_its_api_port_refuses_plaintext(entry: topology.Service, stack_instance: tuple[Target, Api],
                                        settings: Settings) -> None:
    check_refuses_plaintext(stack_instance[0], settings)


def test_it_refuses_a_caller_no_intention_allows(entry: topology.Service, stack_instance: tuple[Target, Api],
                                                 settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> None:
    check_refuses_a_caller_no_intention_allows(stack_instance[0], settings, tmp_path_factory.mktemp("stranger"))
