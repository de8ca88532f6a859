"""Fixtures of the end-to-end tests: the running stack, called only through its front door
(Envoy), plus the registry and the gateway's admin view to watch what happens inside."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from mesh.identity_files import IdentityFolder
from mesh.settings import Settings
from scripts.devstack.stack import Stack
from tests.e2e.support.registry import Consul, EnvoyAdmin
from tests.e2e.support.rest import Account, Gateway
from tests.e2e.support.waiting import eventually


@dataclass(frozen=True)
class World:
    """Two users, the second following the first, and a published video of the first."""

    owner: Account
    viewer: Account
    video_id: str
    version: int
    title: str


# The tests that leave the gateway's login bucket empty (it is shared by every client, and
# refills at VIDMESH_GATEWAY_LOGIN_BURST a minute): they run last, or every login after them
# waits for its refill, 6 s each (the forged-identity test alone waited 25 s more that way).
DRAIN_THE_LOGIN_BUCKET = {"test_login_burst_is_resource_exhausted_for_grpc_and_429_for_rest_then_logins_work_again",
                          "test_a_429_says_to_wait_and_retry"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that drain the login bucket after all others."""
    items.sort(key=lambda item: getattr(item, "originalname", item.name) in DRAIN_THE_LOGIN_BUCKET)


@pytest.fixture(autouse=True, scope="session")
def _running_stack(stack: Stack, operator: IdentityFolder) -> Stack:
    return stack


@pytest.fixture(scope="session")
def gateway(settings: Settings) -> Iterator[Gateway]:
    client = Gateway(f"http://{settings.host}:{settings.envoy_port}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def consul(settings: Settings) -> Consul:
    return Consul(settings)


@pytest.fixture(scope="session")
def envoy(settings: Settings) -> EnvoyAdmin:
    return EnvoyAdmin(settings)


@pytest.fixture(scope="session")
def world(gateway: Gateway) -> World:
    """Created once per session for the tests that need a video to read and write."""
    owner, viewer = gateway.sign_up("Ada"), gateway.sign_up("Bob")
    gateway.follow(viewer, owner)
    title = f"World tour {uuid.uuid4().hex[:8]}"
    video_id, version = gateway.create_video(owner, title)
    version = gateway.publish(owner, video_id, version)
    eventually(lambda: gateway.video_page(video_id, version, owner), "the published video readable")
    return World(owner, viewer, video_id, version, title)
