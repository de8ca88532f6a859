"""Callers of every kind for the identity tests: a raw TLS client that shows whether a server
accepts a certificate at all, grpcurl as any identity, and the stack's instances to aim at."""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mesh import topology
from mesh.certs import issue
from mesh.identity_files import IdentityFolder
from mesh.settings import Settings, instance_name
from scripts.toolchain import Toolchain

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS_FRAME = 0x4


@dataclass(frozen=True)
class Target:
    """One server of the stack: the identity its certificate names and where it listens."""

    name: str
    identity: str
    address: str


def stack_targets(settings: Settings) -> list[Target]:
    """Every API port of the stack (each instance of each service) and the control plane's."""
    targets = [Target(topology.CONTROL_PLANE, topology.CONTROL_PLANE, f"{settings.host}:{settings.xds_mtls_port}")]
    for service in topology.SERVICES:
        for n, port in enumerate(settings.instance_ports(service.key)):
            targets.append(Target(instance_name(service.key, n), service.name,
                                  f"{settings.instance_address(service.key, n)}:{port}"))
    return targets


def issued(settings: Settings, name: str, folder: Path) -> IdentityFolder:
    """A leaf the stack's Consul issues for `name` (any name: no ACLs), as files under `folder`."""
    asyncio.run(issue(f"{settings.host}:{settings.consul_http_port}", folder, [name]))
    return IdentityFolder(folder / name)


def foreign(folder: Path, uri: str) -> IdentityFolder:
    """A certificate for `uri` from a CA of its own, which this mesh has never seen."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "somebody else's CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(ca_name).public_key(key.public_key())
            .serial_number(2).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]), critical=True)
            .sign(ca_key, hashes.SHA256()))
    identity = IdentityFolder(folder)
    identity.write(cert_pem=leaf.public_bytes(serialization.Encoding.PEM).decode(),
                   key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode(),
                   ca_pem=ca.public_bytes(serialization.Encoding.PEM).decode())
    return identity


def accepts(address: str, client: IdentityFolder | None, trust: IdentityFolder) -> bool:
    """Whether the server at `address` takes a TLS connection presenting `client` (None: no
    certificate) far enough to speak HTTP/2: it answers our preface with its SETTINGS frame.
    The server's own certificate is checked against `trust`'s roots, not by host name."""
    context = ssl.create_default_context(cafile=str(trust.ca))
    context.check_hostname = False  # a Consul certificate names a SPIFFE id, no host
    context.set_alpn_protocols(["h2"])
    if client is not None:
        context.load_cert_chain(str(client.cert), str(client.key))
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=3) as raw, context.wrap_socket(raw) as tls:
            # TLS 1.3: the server checks the client's certificate after the client's side of the
            # handshake is done, so a refusal shows on the first read.
            tls.sendall(H2_PREFACE + bytes([0, 0, 0, SETTINGS_FRAME, 0, 0, 0, 0, 0]))
            frame = tls.recv(9)
    except (ssl.SSLError, ConnectionError, TimeoutError):
        return False
    return len(frame) == 9 and frame[3] == SETTINGS_FRAME


def served_leaf(address: str, client: IdentityFolder) -> x509.Certificate:
    """The leaf certificate the server at `address` presents to a new connection from `client`
    (checked against `client`'s roots)."""
    context = ssl.create_default_context(cafile=str(client.ca))
    context.check_hostname = False  # a Consul certificate names a SPIFFE id, no host
    context.set_alpn_protocols(["h2"])
    context.load_cert_chain(str(client.cert), str(client.key))
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=3) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None, f"{address} presented no certificate"
    return x509.load_der_x509_certificate(der)


def grpcurl(settings: Settings, caller: IdentityFolder | None, *args: str) -> subprocess.CompletedProcess[str]:
    """`grpcurl ARGS` as `caller` (None: plaintext); the server's name is not checked (grpcurl
    cannot check a SPIFFE id): `-insecure -cert -key`, as the README shows."""
    tls = ["-insecure", "-cert", str(caller.cert), "-key", str(caller.key)] if caller else ["-plaintext"]
    binary = Toolchain(settings.cache_dir).go_binary("grpcurl")
    return subprocess.run([str(binary), *tls, "-max-time", "5", *args], capture_output=True, text=True, timeout=30,
                          check=False)
