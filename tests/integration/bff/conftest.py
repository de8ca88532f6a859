"""The four domain services and both BFFs as real processes against the shared stack, each
under a Consul name of this run's own; gRPC stubs to call them. Started once for the
package: the processes take seconds to start, the tests milliseconds to run."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from vidmesh.mobilebff.v1 import mobile_bff_service_pb2_grpc as mobile_grpc
from vidmesh.users.v1 import users_service_pb2_grpc as users_grpc
from vidmesh.webbff.v1 import web_bff_service_pb2_grpc as web_grpc

from mesh import dbbootstrap
from mesh.settings import Settings
from mesh.xds.bootstrap import channel_to
from tests.integration.bff.support import Instance, Mesh, Stubs, mesh

DOMAIN = {"users": "users", "video_command": "video-command", "video_query": "video-query",
          "notification": "notification"}


@dataclass
class Domain:
    """The running domain services: package -> instance."""

    mesh: Mesh
    instances: dict[str, Instance]

    def upstreams(self, **replaced: str) -> dict[str, str]:
        """VIDMESH_UPSTREAM_* values naming these instances (or the replaced ones)."""
        names = {package: instance.name for package, instance in self.instances.items()}
        return {**names, **replaced}


@pytest.fixture(scope="package")
def running_mesh(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    dbbootstrap.run(settings)
    with mesh(settings, tmp_path_factory.mktemp("bff-mesh"), uuid.uuid4().hex[:8]) as started:
        yield started


@pytest.fixture(scope="package")
def domain(running_mesh: Mesh) -> Domain:
    """users, video-command, video-query and notification, started side by side."""
    started = {package: running_mesh.start_service(package, running_mesh.name(name))
               for package, name in DOMAIN.items()}
    for instance in started.values():
        running_mesh.wait_passing(instance)
    return Domain(running_mesh, started)


def start_bffs(domain: Domain, suffix: str = "", **replaced: str) -> tuple[Instance, Instance]:
    """A web-bff and a mobile-bff calling the domain's instances (or the replaced ones)."""
    upstreams, started = domain.upstreams(**replaced), domain.mesh
    web = started.start_bff("web", started.name(f"web-bff{suffix}"), upstreams)
    mobile = started.start_bff("mobile", started.name(f"mobile-bff{suffix}"), upstreams)
    return started.wait_passing(web), started.wait_passing(mobile)


@asynccontextmanager
async def stubs(web: Instance, mobile: Instance, users: Instance) -> AsyncIterator[Stubs]:
    """Stubs on direct channels to the given instances."""
    async with channel_to("web-bff", web.address) as to_web, \
            channel_to("mobile-bff", mobile.address) as to_mobile, \
            channel_to("users", users.address) as to_users:
        yield Stubs(web_grpc.WebBffServiceStub(to_web), mobile_grpc.MobileBffServiceStub(to_mobile),
                    users_grpc.UserServiceStub(to_users))


@pytest.fixture(scope="package")
async def bff(domain: Domain) -> AsyncIterator[Stubs]:
    """Both BFFs over the module's domain services."""
    web, mobile = start_bffs(domain)
    async with stubs(web, mobile, domain.instances["users"]) as clients:
        yield clients
