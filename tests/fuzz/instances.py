"""How the fuzzers call one service instance straight, not through the gateway: over mutual
TLS as the operator (tests/fuzz/conftest.py), expecting the certificate of the service's name."""

from __future__ import annotations

import grpc

from mesh import topology
from mesh.settings import Settings
from mesh.xds.bootstrap import blocking_channel_to


def address_of(settings: Settings, service: topology.Service, instance: int = 0) -> str:
    """`host:port` of one instance of a service on the running stack."""
    return f"{settings.instance_address(service.key, instance)}:{settings.instance_ports(service.key)[instance]}"


def channel_to(settings: Settings, service: topology.Service, instance: int = 0) -> grpc.Channel:
    """A blocking channel to one instance of a service (close it: `with channel_to(...) as ch`)."""
    return blocking_channel_to(service.name, address_of(settings, service, instance))
