"""Host names to IP addresses, the way every vidmesh process resolves them.

Envoy refuses a host name in an endpoint ("malformed IP address") and proxyless gRPC accepts
only IP literals (gRFC A27), so whatever reaches the registry or the xDS snapshot is an IP.
Under Compose an instance's name (`video-query-1`) resolves through Docker's DNS. The native
stack runs each instance on a loopback address of its own and names it the same way, but
/etc/hosts is machine-wide (a second stack would collide), so the stack writes its own map in
hosts-file format and points VIDMESH_HOSTS_FILE at it; names found there win over DNS.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

HOSTS_FILE_ENV = "VIDMESH_HOSTS_FILE"


class Unresolvable(LookupError):
    """A host name that neither the stack's map nor DNS knows; the message names it."""


def is_ip(host: str) -> bool:
    """Whether `host` is an IPv4 or IPv6 literal (brackets allowed)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def parse_hosts(text: str) -> dict[str, str]:
    """Name -> address from hosts-file text (`ADDRESS NAME [ALIAS...]`, `#` comments)."""
    names: dict[str, str] = {}
    for line in text.splitlines():
        address, *aliases = line.split("#", 1)[0].split() or [""]
        if address and is_ip(address):
            for name in aliases:
                names.setdefault(name, address)
    return names


def render_hosts(names: dict[str, str]) -> str:
    """Hosts-file text for name -> address, one line each."""
    return "".join(f"{address} {name}\n" for name, address in names.items())


@dataclass
class Resolver:
    """Resolves names with the stack's map first (re-read when the file changes), then DNS."""

    hosts_file: Path | None = None
    _mtime: float = field(default=-1.0, init=False)
    _names: dict[str, str] = field(default_factory=dict, init=False)

    @classmethod
    def from_env(cls) -> Resolver:
        """A resolver reading the map named by VIDMESH_HOSTS_FILE, if set."""
        path = os.environ.get(HOSTS_FILE_ENV, "").strip()
        return cls(Path(path) if path else None)

    def resolve(self, host: str) -> str:
        """The IP literal for `host` (an IP comes back as it is); Unresolvable if none."""
        if is_ip(host):
            return host.strip("[]")
        if (mapped := self._mapped().get(host)) is not None:
            return mapped
        try:
            found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            where = f"{self.hosts_file} or DNS" if self.hosts_file else "DNS"
            raise Unresolvable(f"host name {host!r} is not in {where}: {error}") from None
        # IPv4 first: every vidmesh listener binds an IPv4 address.
        found.sort(key=lambda entry: entry[0] != socket.AF_INET)
        return str(found[0][4][0])

    def _mapped(self) -> dict[str, str]:
        if self.hosts_file is None:
            return {}
        try:
            mtime = self.hosts_file.stat().st_mtime
        except FileNotFoundError:
            return {}
        if mtime != self._mtime:
            self._names, self._mtime = parse_hosts(self.hosts_file.read_text()), mtime
        return self._names
