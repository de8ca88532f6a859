"""The breaker's identity (MESH.md §13): a leaf certificate of Consul's CA for the name the
topology lists it under, mutual TLS on its API port, and Consul's answer to whether a caller
may call it.

Like the rest of the breaker it uses Consul's HTTP API directly, not mesh/. The leaf is
fetched once: a breaker lives for one check, far shorter than the shortest leaf (1 h)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
import httpx

from tests.conformance.breaker.settings import NAME, Settings

AGENT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Identity:
    """A leaf and its key, and the roots a caller's certificate must chain to (PEM)."""

    cert: bytes
    key: bytes
    roots: bytes

    def server_credentials(self) -> grpc.ServerCredentials:
        """Mutual TLS: a caller without a certificate of the mesh's CA is refused in the handshake."""
        return grpc.ssl_server_credentials([(self.key, self.cert)], root_certificates=self.roots,
                                           require_client_auth=True)


def fetch(settings: Settings) -> Identity:
    """The leaf for NAME and the CA's roots, from the local agent."""
    with httpx.Client(base_url=f"http://{settings.consul}", timeout=AGENT_TIMEOUT_S) as http:
        leaf = http.get(f"/v1/agent/connect/ca/leaf/{NAME}").raise_for_status().json()
        roots = http.get("/v1/agent/connect/ca/roots").raise_for_status().json()
    return Identity(leaf["CertPEM"].encode(), leaf["PrivateKeyPEM"].encode(),
                    "".join(root["RootCert"] for root in roots["Roots"]).encode())


class Authorizer:
    """Whether the caller's certificate may call NAME, as the intentions say (asked once per
    caller), or everyone when told to break the rule."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self._allowed = settings, dict[str, bool]()
        self.http = httpx.AsyncClient(base_url=f"http://{settings.consul}", timeout=AGENT_TIMEOUT_S)

    async def check(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        """Abort with PERMISSION_DENIED naming the caller unless an intention allows it; with
        UNAVAILABLE when Consul cannot say (it fails closed)."""
        if self.settings.breaking("allows-everyone") or self.settings.breaking("plaintext-api"):
            return  # (in plaintext there is no certificate to ask about)
        ids = list(context.auth_context().get("peer_spiffe_id") or ())
        caller = ids[0].decode() if ids else ""
        if caller not in self._allowed:
            try:
                reply = await self.http.post("/v1/agent/connect/authorize",
                                             json={"Target": NAME, "ClientCertURI": caller})
                self._allowed[caller] = bool(reply.raise_for_status().json()["Authorized"])
            except httpx.HTTPError as error:
                await context.abort(grpc.StatusCode.UNAVAILABLE, f"cannot ask Consul whether {caller} may call "
                                                                 f"{NAME}: {error}")
        if not self._allowed[caller]:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{caller or 'a caller'} may not call {NAME}")
