"""A CA in memory for unit tests, issuing what Consul's issues: leaves whose only SAN is a
SPIFFE URI, plus, on request, a DNS name (so a test client with plain TLS credentials can check
a server by host name; mesh's own clients check the SPIFFE id through xDS instead)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mesh.consul_connect import Leaf, Roots
from mesh.identity import Credentials

TRUST_DOMAIN = "11111111-2222-3333-4444-555555555555.consul"
DAY = datetime.timedelta(days=1)


def spiffe(service: str, trust_domain: str = TRUST_DOMAIN) -> str:
    """The SPIFFE id Consul gives `service`."""
    return f"spiffe://{trust_domain}/ns/default/dc/dc1/svc/{service}"


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@dataclass
class FakeCa:
    """One root; `leaf()` signs a workload certificate."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    trust_domain: str = TRUST_DOMAIN
    serial: int = 1

    @classmethod
    def create(cls, name: str = "vidmesh test CA", trust_domain: str = TRUST_DOMAIN) -> FakeCa:
        """A new self-signed root."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - DAY).not_valid_after(now + DAY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return cls(key, cert, trust_domain)

    @property
    def pem(self) -> str:
        """The root certificate (PEM)."""
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def leaf(self, service: str, *, dns: str | None = None) -> Leaf:
        """A leaf for `service`, its only SAN the SPIFFE URI (and `dns`, when given)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self.serial += 1
        names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(spiffe(service, self.trust_domain))]
        if dns:
            names.append(x509.DNSName(dns))
        cert = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(self.cert.subject)
                .public_key(key.public_key()).serial_number(self.serial)
                .not_valid_before(now - DAY).not_valid_after(now + DAY)
                .add_extension(x509.SubjectAlternativeName(names), critical=True)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        return Leaf(service=service, uri=spiffe(service, self.trust_domain), serial=f"{self.serial:x}",
                    cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem=_pem(key),
                    valid_before=(now + DAY).isoformat())

    def roots(self, *others: FakeCa) -> Roots:
        """The roots as Consul lists them: this one active, `others` kept beside it."""
        return Roots(trust_domain=self.trust_domain, active_id=f"root-{self.cert.serial_number:x}",
                     pems=(self.pem, *(other.pem for other in others)))

    def credentials(self, service: str, *, dns: str | None = None) -> Credentials:
        """A leaf for `service` and these roots."""
        return Credentials(self.leaf(service, dns=dns), self.roots())
