"""A mesh server with mutual TLS and intentions, on loopback, against the CA in memory: who
gets in, who is refused and how, and that a renewed certificate reaches the next connection.

The test clients use grpc's plain TLS credentials, which check the server by host name, so the
fake agent's leaves also carry `localhost`; mesh's own clients check the SPIFFE id over xDS."""

from __future__ import annotations

import asyncio
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
import pytest
import pytest_asyncio
from cryptography import x509
from google.rpc import status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from structlog.testing import capture_logs

from mesh import config
from mesh.authz import Authorizer
from mesh.consul_connect import Intention, Leaf
from mesh.identity import Identity
from mesh.intentions import Intentions
from mesh.server import Security, Server
from mesh.tls import ServerTls
from tests.support_server import EchoRequest, EchoResponse, echo_service
from tests.unit.fake_ca import FakeCa, spiffe
from tests.unit.identity.fake_agent import FakeAgent

SERVICE = "video-command"
ALLOWED = (Intention(source="web-bff", action="allow", precedence=9),
           Intention(source="*", action="deny", precedence=5))


@dataclass
class Mesh:
    """A running server with mutual TLS and what it trusts."""

    ca: FakeCa
    agent: FakeAgent
    identity: Identity
    intentions: Intentions
    server: Server

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def client(self, leaf: Leaf | None, roots: str | None = None) -> grpc.aio.Channel:
        """A channel presenting `leaf` (none: no client certificate), trusting this mesh's root."""
        creds = grpc.ssl_channel_credentials((roots or self.ca.pem).encode(), leaf.key_pem.encode() if leaf else None,
                                             leaf.cert_pem.encode() if leaf else None)
        return grpc.aio.secure_channel(self.address, creds, options=[("grpc.ssl_target_name_override", "localhost")])


@pytest_asyncio.fixture(loop_scope="session")
async def mesh() -> AsyncIterator[Mesh]:
    ca = FakeCa.create()
    agent = FakeAgent(ca, dns="localhost")
    identity = Identity(agent, SERVICE)
    await identity.fetch()
    intentions = Intentions(agent, SERVICE)
    security = Security(ServerTls(identity).credentials(),
                        Authorizer(lambda: identity.current.roots.trust_domain, intentions), identity)
    cfg = config.load({"VIDMESH_SERVICE_NAME": SERVICE, "VIDMESH_DRAIN_SECONDS": "0"})
    server = Server(cfg, [echo_service()], security=security, check_interval=0.05)
    await server.start()
    renewing = asyncio.create_task(identity.run())
    try:
        yield Mesh(ca, agent, identity, intentions, server)
    finally:
        await identity.stop()
        await renewing
        await server.stop(0)


async def echo(channel: grpc.aio.Channel) -> Any:
    async with channel:
        call = channel.unary_unary("/meshtest.v1.EchoService/Echo", request_serializer=EchoRequest.SerializeToString,
                                   response_deserializer=EchoResponse.FromString)
        return await call(EchoRequest(title="hello"), timeout=3)


async def _refused(channel: grpc.aio.Channel) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await echo(channel)
    return refused.value


async def test_a_caller_the_intentions_allow_gets_in_and_is_logged_by_its_identity(mesh: Mesh) -> None:
    mesh.intentions.use(ALLOWED)
    with capture_logs() as logs:
        answer = await echo(mesh.client(mesh.ca.leaf("web-bff")))
    assert answer.title == "hello"
    [line] = [entry for entry in logs if entry["event"] == "rpc"]
    assert line["caller"] == spiffe("web-bff") and line["code"] == "OK"


async def test_a_caller_no_intention_allows_gets_permission_denied_naming_it(mesh: Mesh) -> None:
    mesh.intentions.use(ALLOWED)
    with capture_logs() as logs:
        error = await _refused(mesh.client(mesh.ca.leaf("users")))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert spiffe("users") in (error.details() or "") and SERVICE in (error.details() or "")
    status = status_pb2.Status.FromString(dict(error.trailing_metadata() or ())["grpc-status-details-bin"])
    assert status.code == grpc.StatusCode.PERMISSION_DENIED.value[0]
    [refusal] = [entry for entry in logs if entry["event"] == "call refused"]
    assert refusal["caller"] == spiffe("users") and refusal["method"] == "/meshtest.v1.EchoService/Echo"
    assert refusal["reason"] == "intention * (precedence 5): deny"


async def test_removing_the_intention_shuts_the_caller_out_at_once(mesh: Mesh) -> None:
    mesh.intentions.use(ALLOWED)
    web = mesh.ca.leaf("web-bff")
    assert (await echo(mesh.client(web))).title == "hello"
    mesh.intentions.use(ALLOWED[1:])
    assert (await _refused(mesh.client(web))).code() == grpc.StatusCode.PERMISSION_DENIED


async def test_before_the_intentions_are_known_every_call_is_unavailable(mesh: Mesh) -> None:
    fresh = Intentions(mesh.agent, SERVICE)  # nothing read yet
    mesh.server.security.authorizer.intentions = fresh  # type: ignore[union-attr]
    try:
        error = await _refused(mesh.client(mesh.ca.leaf("web-bff")))
        assert error.code() == grpc.StatusCode.UNAVAILABLE and "not known yet" in (error.details() or "")
    finally:
        mesh.server.security.authorizer.intentions = mesh.intentions  # type: ignore[union-attr]


async def test_a_certificate_of_another_trust_domain_is_refused_even_from_the_same_ca(mesh: Mesh) -> None:
    mesh.intentions.use(ALLOWED)
    stranger = FakeCa(mesh.ca.key, mesh.ca.cert, trust_domain="99999999-0000-0000-0000-000000000000.consul")
    error = await _refused(mesh.client(stranger.leaf("web-bff")))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED and "trust domain" in (error.details() or "")


async def test_plaintext_no_certificate_and_another_ca_never_reach_a_handler(mesh: Mesh) -> None:
    mesh.intentions.use(((Intention(source="*", action="allow", precedence=5)),))  # everyone, if they got in
    other = FakeCa.create("another CA")
    for channel in (grpc.aio.insecure_channel(mesh.address), mesh.client(None), mesh.client(other.leaf("web-bff"))):
        assert (await _refused(channel)).code() == grpc.StatusCode.UNAVAILABLE


async def test_health_answers_in_plaintext_on_its_own_port_only(mesh: Mesh) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{mesh.server.health_port}") as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)
        answer = await stub.Check(health_pb2.HealthCheckRequest(), timeout=3)
    assert answer.status in (health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING)
    assert mesh.server.registration.check("127.0.0.1")["grpc"].startswith(f"127.0.0.1:{mesh.server.health_port}/")
    assert mesh.server.registration.meta["identity"] == SERVICE


def _served_leaf(mesh: Mesh, client: Leaf, roots: str) -> x509.Certificate:
    context = ssl.create_default_context(cadata=roots)
    context.check_hostname = False
    context.set_alpn_protocols(["h2"])
    key, cert = _files(client)
    context.load_cert_chain(cert, key)
    with socket.create_connection(("127.0.0.1", mesh.server.port), timeout=3) as raw, \
            context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _files(leaf: Leaf) -> tuple[str, str]:
    folder = tempfile.mkdtemp()
    key, cert = f"{folder}/key.pem", f"{folder}/cert.pem"
    with open(key, "w") as out:
        out.write(leaf.key_pem)
    with open(cert, "w") as out:
        out.write(leaf.cert_pem)
    return key, cert


async def test_a_renewed_certificate_is_served_to_the_next_connection_without_a_restart(mesh: Mesh) -> None:
    first = mesh.identity.current.leaf
    before = await asyncio.to_thread(_served_leaf, mesh, mesh.ca.leaf("web-bff"), mesh.ca.pem)
    assert before.serial_number == x509.load_pem_x509_certificate(first.cert_pem.encode()).serial_number
    new_root = await mesh.agent.rotate()
    async with asyncio.timeout(3):
        while mesh.identity.current.leaf.cert_pem == first.cert_pem:
            await asyncio.sleep(0.01)  # polling interval of a bounded wait
    after = await asyncio.to_thread(_served_leaf, mesh, new_root.leaf("web-bff"), new_root.pem + mesh.ca.pem)
    assert after.issuer == new_root.cert.subject
