"""SPIFFE ids as Consul's CA writes them: `spiffe://<trust domain>/ns/<namespace>/dc/<dc>/svc/<service>`.

Every certificate Consul issues carries exactly one of these as its only subject alternative
name (a URI); the service at the end is the workload's identity, the one intentions name.
The trust domain is Consul's cluster id (`<uuid>.consul`): a certificate from another Consul,
or from anywhere else, names another one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

_SERVICE_ID = re.compile(r"spiffe://(?P<trust_domain>[^/]+)/ns/(?P<namespace>[^/]+)/dc/(?P<datacenter>[^/]+)"
                         r"/svc/(?P<service>[^/]+)")


class NotAServiceId(ValueError):
    """A URI that is not a Consul service identity; the message quotes it."""


@dataclass(frozen=True, kw_only=True)
class SpiffeId:
    """One workload identity of one Consul CA."""

    trust_domain: str
    namespace: str
    datacenter: str
    service: str

    @classmethod
    def parse(cls, uri: str) -> SpiffeId:
        """The id in `uri`; NotAServiceId when it is not a Consul service's."""
        match = _SERVICE_ID.fullmatch(uri)
        if match is None:
            raise NotAServiceId(f"{uri!r} is not a Consul service identity (spiffe://<domain>/ns/.../svc/<name>)")
        return cls(**match.groupdict())

    @property
    def uri(self) -> str:
        """The URI, as it stands in the certificate's subject alternative name."""
        return f"spiffe://{self.trust_domain}/ns/{self.namespace}/dc/{self.datacenter}/svc/{self.service}"

    def of(self, service: str) -> SpiffeId:
        """The id `service` has in the same trust domain, namespace and datacenter."""
        return replace(self, service=service)

    def __str__(self) -> str:
        return self.uri
