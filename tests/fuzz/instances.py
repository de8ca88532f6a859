"""How the fuzzers call one service instance straight, not through the gateway: the one place
that says how such a channel is made, so the day services require mutual TLS only this
changes (the service's name is what its certificate will carry)."""

from __future__ import annotations

import grpc

from mesh import topology
from mesh.settings import Settings


def address_of(settings: Settings, service: topology.Service, instance: int = 0) -> str:
    """`host:port` of one instance of a service on the running stack."""
    return f"{settings.instance_address(service.key, instance)}:{settings.instance_ports(service.key)[instance]}"


def channel_to(settings: Settings, service: topology.Service, instance: int = 0) -> grpc.Channel:
    """A blocking channel to one instance of a service (close it: `with channel_to(...) as ch`)."""
    return grpc.insecure_channel(address_of(settings, service, instance))
