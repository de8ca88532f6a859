"""A process's identity: its leaf certificate and the CA's roots, from the local Consul agent,
kept current.

    identity = Identity(ConsulConnect(consul_addr), "video-query", IdentityFolder(path))
    await identity.fetch()          # at start: nothing is served without it
    rt.worker("identity", identity.run, identity.stop)   # then: renewed in the background

Renewal follows blocking queries: Consul answers the leaf query early, before the certificate
expires and whenever the roots rotate (a new leaf comes within about 30 s of a rotation), and
the roots query as soon as the roots change. Each change replaces the in-memory credentials
(what the server presents to the next connection, see mesh/tls.py), rewrites the files
(what grpc's xDS client and Envoy read, see mesh/identity_files.py) and tells the
subscribers (the control plane's SDS). With Consul away the current certificate stays in
use: it is valid for days (Consul's default leaf TTL is 72 h), and renewal resumes when the
agent answers again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import structlog

from mesh.backoff import Backoff
from mesh.consul_connect import Answer, ConsulConnect, ConsulError, Leaf, Roots
from mesh.identity_files import IdentityFolder
from mesh.spiffe import SpiffeId

T = TypeVar("T")
Listener = Callable[["Credentials"], None]
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Credentials:
    """What a process presents (its leaf and key) and whom it trusts (the roots), at one moment."""

    leaf: Leaf
    roots: Roots

    @property
    def spiffe_id(self) -> SpiffeId:
        """The identity the leaf certifies."""
        return SpiffeId.parse(self.leaf.uri)


class Identity:
    """One service's credentials from the agent at `connect`, renewed until `stop()`."""

    def __init__(self, connect: ConsulConnect, service: str, folder: IdentityFolder | None = None) -> None:
        self.service, self.folder = service, folder
        self._connect = connect
        self._current: Credentials | None = None
        self._listeners: list[Listener] = []
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def current(self) -> Credentials:
        """The credentials in use; only after `fetch()`."""
        if self._current is None:
            raise RuntimeError(f"the identity of {self.service} has not been fetched yet")
        return self._current

    @property
    def spiffe_id(self) -> SpiffeId:
        """This process's SPIFFE id."""
        return self.current.spiffe_id

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with the new credentials after every change."""
        self._listeners.append(listener)

    async def fetch(self) -> Credentials:
        """Get the leaf and the roots once (ConsulError when the agent cannot give them)."""
        leaf, roots = await asyncio.gather(self._connect.leaf(self.service), self._connect.roots())
        self._use(Credentials(leaf.value, roots.value), why="fetched")
        return self.current

    async def run(self) -> None:
        """Follow the leaf and the roots until `stop()`."""
        self._tasks = [asyncio.create_task(self._follow("leaf", self._leaf, self._new_leaf)),
                       asyncio.create_task(self._follow("roots", self._connect.roots, self._new_roots))]
        for outcome in await asyncio.gather(*self._tasks, return_exceptions=True):
            if isinstance(outcome, Exception):
                raise outcome

    async def stop(self) -> None:
        """End `run()` (its blocking queries are cancelled)."""
        for task in self._tasks:
            task.cancel()

    async def _leaf(self, index: int | None) -> Answer[Leaf]:
        return await self._connect.leaf(self.service, index)

    def _new_leaf(self, leaf: Leaf) -> None:
        if leaf.cert_pem != self.current.leaf.cert_pem:
            self._use(replace(self.current, leaf=leaf), why="leaf renewed")

    def _new_roots(self, roots: Roots) -> None:
        if roots != self.current.roots:
            self._use(replace(self.current, roots=roots), why="roots changed")

    def _use(self, credentials: Credentials, *, why: str) -> None:
        self._current = credentials
        if self.folder is not None:
            self.folder.write(cert_pem=credentials.leaf.cert_pem, key_pem=credentials.leaf.key_pem,
                              ca_pem=credentials.roots.bundle)
        log.info(f"identity {why}", identity=credentials.leaf.uri, serial=credentials.leaf.serial,
                 valid_before=credentials.leaf.valid_before, active_root=credentials.roots.active_id,
                 roots=len(credentials.roots.pems))
        for listener in self._listeners:
            listener(credentials)

    async def _follow(self, what: str, query: Callable[[int | None], Awaitable[Answer[Any]]],
                      apply: Callable[[Any], None]) -> None:
        index: int | None = None
        backoff = Backoff(initial=0.5, maximum=15.0)
        while True:
            try:
                answer = await query(index)
            except ConsulError as error:
                delay = backoff.next()
                log.warning("identity: consul did not answer; the current certificate stays in use",
                            query=what, retry_in_s=delay, error=str(error))
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            if index is not None and answer.index is None:
                await asyncio.sleep(0.1)  # Consul's index went back: start over, but not in a tight loop
            index = answer.index
            apply(answer.value)
