"""Readiness checks of the components that have no health endpoint of their own, run by the
stack's prober (scripts/devstack/prober.py): true when the component answers for real.
Standard library only: a check that loaded a Kafka client cost hundreds of milliseconds.
"""

from __future__ import annotations

import smtplib
import socket
import struct

TIMEOUT_S = 2.0
API_VERSIONS = 18  # Kafka's ApiVersions request; version 0 is kept by every broker for negotiation
CORRELATION_ID = 0x7664


def _split(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        data += chunk
    return data


def kafka(address: str) -> bool:
    """The broker answers an ApiVersions request without an error: it serves the protocol."""
    client_id = b"vidmesh-probe"
    body = struct.pack(">hhih", API_VERSIONS, 0, CORRELATION_ID, len(client_id)) + client_id
    with socket.create_connection(_split(address), timeout=TIMEOUT_S) as sock:
        sock.sendall(struct.pack(">i", len(body)) + body)
        (size,) = struct.unpack(">i", _read_exactly(sock, 4))
        correlation, error_code = struct.unpack(">ih", _read_exactly(sock, size)[:6])
    return bool(correlation == CORRELATION_ID and error_code == 0)


def smtp(address: str) -> bool:
    """The sink greets and answers NOOP with 250."""
    host, port = _split(address)
    with smtplib.SMTP(host, port, timeout=TIMEOUT_S) as client:
        return client.noop()[0] == 250
