"""The transport credentials of every vidmesh gRPC server and client.

A server requires a client certificate that chains to one of the CA's roots and presents its
own leaf (`server_credentials`). grpc asks for the certificate configuration before every TLS
handshake, on one of its own threads, so the answer is prepared when the identity changes and
handed over once; until the next change the answer is "no change", which costs nothing.

A client reaches services through xDS (`client_credentials`): the control plane says, per
cluster, which certificate to present, which roots to trust and which SPIFFE id the server
must have (gRFC A29), and grpc checks that id instead of a host name (a Consul certificate
has none). A cluster sent without TLS (mTLS off) falls back to plaintext, which a server
with mTLS on refuses.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
import grpc.experimental

from mesh.identity import Credentials, Identity


def _configuration(credentials: Credentials) -> grpc.ServerCertificateConfiguration:
    pair = (credentials.leaf.key_pem.encode(), credentials.leaf.cert_pem.encode())
    return grpc.ssl_server_certificate_configuration([pair], root_certificates=credentials.roots.bundle.encode())


class ServerTls:
    """Mutual TLS for one server, following its identity's renewals."""

    def __init__(self, identity: Identity) -> None:
        self._initial = _configuration(identity.current)
        self._next: grpc.ServerCertificateConfiguration | None = None
        identity.subscribe(self._renewed)

    def _renewed(self, credentials: Credentials) -> None:
        self._next = _configuration(credentials)

    def _fetch(self) -> grpc.ServerCertificateConfiguration | None:
        # Called by grpc before each handshake: hand a new configuration over once.
        renewed, self._next = self._next, None
        return renewed

    def credentials(self) -> grpc.ServerCredentials:
        """Server credentials that require and verify a client certificate from the CA."""
        # grpc's stub says the fetcher must return a configuration; grpc itself takes None as
        # "no change" (its docstring), which is what keeps the per-handshake call free.
        fetch: Callable[[], grpc.ServerCertificateConfiguration] = self._fetch  # type: ignore[assignment]
        return grpc.dynamic_ssl_server_credentials(self._initial, fetch, require_client_authentication=True)


def client_credentials() -> grpc.ChannelCredentials:
    """Channel credentials for xds:/// targets: mutual TLS as the control plane configures it."""
    plaintext: grpc.ChannelCredentials = grpc.experimental.insecure_channel_credentials()  # type: ignore[no-untyped-call]
    return grpc.xds_channel_credentials(plaintext)
