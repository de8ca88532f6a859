"""What the control plane tells each client about mutual TLS: per cluster, which certificate to
present, which roots to trust and which SPIFFE ids the server may have; and, to Envoy alone,
the certificates themselves (SDS on the same ADS stream).

The two kinds of client read different dialects, so they get different clusters:
- proxyless gRPC (gRFC A29) presents and trusts the files its bootstrap names (the certificate
  provider `vidmesh`) and matches the server's SAN with the deprecated
  `match_subject_alt_names`: grpc 1.85 ignores the typed form and would then accept any
  certificate of the CA (a test shows it);
- Envoy takes its certificate and the roots as SDS secrets (`gateway`, `roots`) and matches
  `match_typed_subject_alt_names` (URI); a secret is served only to the identity it belongs
  to, so only a client holding the gateway's certificate gets the gateway's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from envoy.config.core.v3 import base_pb2, config_source_pb2
from envoy.extensions.transport_sockets.tls.v3 import common_pb2, secret_pb2, tls_pb2
from envoy.type.matcher.v3 import string_pb2
from google.protobuf import any_pb2

from mesh import topology
from mesh.identity import Credentials
from mesh.spiffe import SpiffeId

ENVOY, GRPC = "envoy", "grpc"
ENVOY_AGENT = "envoy"  # the node.user_agent_name Envoy sends (grpc sends "gRPC C-core ...")
CERTIFICATE_PROVIDER = "vidmesh"  # the name in the proxyless clients' bootstrap (mesh/xds/bootstrap.py)
ROOTS_SECRET = "roots"
TLS_SOCKET = "envoy.transport_sockets.tls"


@dataclass(frozen=True)
class Peer:
    """The client at the other end of an ADS stream."""

    flavour: str  # ENVOY or GRPC
    identity: str | None = None  # the service its client certificate names (None in plaintext)

    @classmethod
    def of(cls, user_agent_name: str, identity: str | None) -> Peer:
        """The peer of a stream, from its node's user agent and its certificate."""
        return cls(ENVOY if user_agent_name == ENVOY_AGENT else GRPC, identity)


def _ads() -> config_source_pb2.ConfigSource:
    return config_source_pb2.ConfigSource(ads=config_source_pb2.AggregatedConfigSource(),
                                          resource_api_version=config_source_pb2.V3)


def _sds(name: str) -> secret_pb2.SdsSecretConfig:
    return secret_pb2.SdsSecretConfig(name=name, sds_config=_ads())


def _grpc_context(sans: Sequence[str]) -> tls_pb2.CommonTlsContext:
    provider = common_pb2.CertificateProviderPluginInstance(instance_name=CERTIFICATE_PROVIDER)
    return tls_pb2.CommonTlsContext(
        tls_certificate_provider_instance=provider,
        validation_context=common_pb2.CertificateValidationContext(
            ca_certificate_provider_instance=provider,
            match_subject_alt_names=[string_pb2.StringMatcher(exact=san) for san in sans]))


def _envoy_context(sans: Sequence[str]) -> tls_pb2.CommonTlsContext:
    matchers = [common_pb2.SubjectAltNameMatcher(san_type=common_pb2.SubjectAltNameMatcher.URI,
                                                 matcher=string_pb2.StringMatcher(exact=san)) for san in sans]
    return tls_pb2.CommonTlsContext(
        tls_certificate_sds_secret_configs=[_sds(topology.GATEWAY)],
        combined_validation_context=tls_pb2.CommonTlsContext.CombinedCertificateValidationContext(
            default_validation_context=common_pb2.CertificateValidationContext(match_typed_subject_alt_names=matchers),
            validation_context_sds_secret_config=_sds(ROOTS_SECRET)),
        alpn_protocols=["h2"])


class HasCredentials(Protocol):
    """An identity that may renew (mesh.identity.Identity): read `current` each time."""

    @property
    def current(self) -> Credentials: ...


class MeshTls:
    """TLS for the clusters and secrets of one mesh, from the control plane's own identity (its
    trust domain, the roots) and the gateway's (Envoy's certificate)."""

    def __init__(self, own: HasCredentials, gateway: HasCredentials | None = None) -> None:
        self._own, self._gateway = own, gateway

    def spiffe_id(self, service: str) -> str:
        """The SPIFFE id a server of `service` presents (in this control plane's trust domain)."""
        return SpiffeId.parse(self._own.current.leaf.uri).of(service).uri

    def transport_socket(self, flavour: str, identities: Sequence[str]) -> base_pb2.TransportSocket:
        """Mutual TLS to servers whose certificate names one of `identities`."""
        sans = [self.spiffe_id(identity) for identity in sorted(set(identities))]
        common = _envoy_context(sans) if flavour == ENVOY else _grpc_context(sans)
        packed = any_pb2.Any()
        packed.Pack(tls_pb2.UpstreamTlsContext(common_tls_context=common))
        return base_pb2.TransportSocket(name=TLS_SOCKET, typed_config=packed)

    def secrets(self, peer: Peer) -> dict[str, secret_pb2.Secret]:
        """The secrets `peer` may have: the roots, and the gateway's certificate for the gateway."""
        roots = common_pb2.CertificateValidationContext(
            trusted_ca=base_pb2.DataSource(inline_string=self._own.current.roots.bundle))
        found = {ROOTS_SECRET: secret_pb2.Secret(name=ROOTS_SECRET, validation_context=roots)}
        if peer.identity == topology.GATEWAY and self._gateway is not None:
            leaf = self._gateway.current.leaf
            certificate = common_pb2.TlsCertificate(certificate_chain=base_pb2.DataSource(inline_string=leaf.cert_pem),
                                                    private_key=base_pb2.DataSource(inline_string=leaf.key_pem))
            found[topology.GATEWAY] = secret_pb2.Secret(name=topology.GATEWAY, tls_certificate=certificate)
        return found
