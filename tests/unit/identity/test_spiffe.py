"""SPIFFE ids as Consul writes them."""

from __future__ import annotations

import pytest

from mesh.spiffe import NotAServiceId, SpiffeId

URI = "spiffe://0a1b2c3d-1111-2222-3333-444455556666.consul/ns/default/dc/dc1/svc/video-query"


def test_a_consul_service_id_is_read_and_written_back_alike() -> None:
    spiffe = SpiffeId.parse(URI)
    assert (spiffe.trust_domain, spiffe.datacenter, spiffe.service) == (
        "0a1b2c3d-1111-2222-3333-444455556666.consul", "dc1", "video-query")
    assert spiffe.uri == URI == str(spiffe)


def test_another_service_of_the_same_mesh_keeps_domain_and_datacenter() -> None:
    assert SpiffeId.parse(URI).of("users").uri == URI.removesuffix("video-query") + "users"


@pytest.mark.parametrize("uri", ["", "https://example.com/svc/x", "spiffe://td/ns/default/dc/dc1/svc/",
                                 "spiffe://td/ns/default/dc/dc1/agent/client/dc/dc1/id/n1", URI + "/extra"])
def test_anything_else_is_not_a_service_id(uri: str) -> None:
    with pytest.raises(NotAServiceId):
        SpiffeId.parse(uri)
