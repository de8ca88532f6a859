"""Consul's service-mesh API, as the local agent serves it: the CA (leaf certificates, roots)
and the intentions.

Every read takes a blocking-query index: Consul answers at once without one, and with one as
soon as the answer changes (or after `wait`), so a loop that passes back the index it got
follows the CA and the intentions within about a second of a change. The leaf query also
returns early before the certificate expires and when the roots rotate. Asynchronous
(httpx): a process follows several of these at once without a thread each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

T = TypeVar("T")
DEFAULT_WAIT_S = 30.0
SLACK_S = 5.0  # beyond a blocking query's wait: how long Consul may take to answer
INTENTIONS = "service-intentions"


class ConsulError(RuntimeError):
    """Consul refused a request or is unreachable; the message says which and why."""


@dataclass(frozen=True, kw_only=True)
class Leaf:
    """A workload certificate: its chain (the leaf first, then any intermediate) and its key."""

    service: str
    uri: str  # the SPIFFE id in its subject alternative name
    serial: str
    cert_pem: str
    key_pem: str
    valid_before: str


@dataclass(frozen=True, kw_only=True)
class Roots:
    """Every root the CA trusts now: the active one and, after a rotation, the ones before it."""

    trust_domain: str
    active_id: str
    pems: tuple[str, ...]

    @property
    def bundle(self) -> str:
        """All roots in one PEM bundle: a peer's chain may end at any of them during a rotation."""
        return "".join(pem.strip() + "\n" for pem in self.pems)


@dataclass(frozen=True, kw_only=True)
class Intention:
    """One source's rule for a destination, as Consul's match query returns it."""

    source: str  # a service name or "*"
    action: str  # "allow" or "deny"; empty when the rule has per-request permissions
    precedence: int
    layer7: bool = False  # per-method permissions: vidmesh, like Consul's authorize, reads it as deny


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A blocking query's result and the index to pass to the next one."""

    value: T
    index: int | None


def next_index(previous: int | None, header: str | None) -> int | None:
    """The index for the next blocking query; None starts over (no index, or it went back)."""
    try:
        index = int(header or "")
    except ValueError:
        return None
    if index < 1 or (previous is not None and index < previous):
        return None
    return index


class ConsulConnect:
    """The agent's CA and intentions endpoints at `address` (`host:port`, `http://` optional)."""

    def __init__(self, address: str, *, wait_s: float = DEFAULT_WAIT_S) -> None:
        base = address if address.startswith(("http://", "https://")) else f"http://{address}"
        self.wait_s = wait_s
        self._http = httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(wait_s + SLACK_S, connect=2.0))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def leaf(self, service: str, index: int | None = None) -> Answer[Leaf]:
        """The agent's leaf certificate for `service` (any name: Consul runs without ACLs here)."""
        body, new_index = await self._get(f"/v1/agent/connect/ca/leaf/{service}", index)
        leaf = Leaf(service=body["Service"], uri=body["ServiceURI"], serial=body["SerialNumber"],
                    cert_pem=body["CertPEM"], key_pem=body["PrivateKeyPEM"], valid_before=body["ValidBefore"])
        return Answer(leaf, next_index(index, new_index))

    async def roots(self, index: int | None = None) -> Answer[Roots]:
        """The CA's roots and the trust domain they sign for."""
        body, new_index = await self._get("/v1/agent/connect/ca/roots", index)
        roots = Roots(trust_domain=body["TrustDomain"], active_id=body["ActiveRootID"],
                      pems=tuple(root["RootCert"] for root in body["Roots"]))
        return Answer(roots, next_index(index, new_index))

    async def intentions_to(self, destination: str, index: int | None = None) -> Answer[tuple[Intention, ...]]:
        """The intentions that apply to `destination`, most specific first (Consul's order)."""
        body, new_index = await self._get("/v1/connect/intentions/match", index,
                                          params={"by": "destination", "name": destination})
        rules = tuple(Intention(source=rule["SourceName"], action=rule.get("Action") or "",
                                precedence=int(rule["Precedence"]), layer7=bool(rule.get("Permissions")))
                      for rule in body.get(destination) or ())
        return Answer(rules, next_index(index, new_index))

    async def intentions_entries(self) -> list[dict[str, Any]]:
        """Every `service-intentions` config entry (one per destination)."""
        body, _ = await self._get(f"/v1/config/{INTENTIONS}", None)
        return list(body or [])

    async def put_intentions(self, destination: str, sources: list[dict[str, Any]], *, cas: int | None = None) -> bool:
        """Write the entry of `destination`; with `cas`, only if nobody changed it since that
        index (False then)."""
        entry = {"Kind": INTENTIONS, "Name": destination, "Sources": sources}
        response = await self._send("PUT", "/v1/config", json=entry,
                                    params={"cas": str(cas)} if cas is not None else None)
        return bool(response.json())

    async def delete_intentions(self, destination: str) -> None:
        """Remove the entry of `destination`."""
        await self._send("DELETE", f"/v1/config/{INTENTIONS}/{destination}")

    async def _get(self, path: str, index: int | None, params: dict[str, str] | None = None) -> tuple[Any, str | None]:
        query = dict(params or {})
        if index is not None:
            query.update(index=str(index), wait=f"{self.wait_s:g}s")
        response = await self._send("GET", path, params=query)
        return response.json(), response.headers.get("X-Consul-Index")

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ConsulError(f"consul {method} {path}: {error!r}") from error
        if response.status_code >= 400:
            raise ConsulError(f"consul {method} {path}: HTTP {response.status_code}: {response.text.strip()[:200]}")
        return response
