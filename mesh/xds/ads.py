"""The AggregatedDiscoveryService: state of the world, one subscription per type on a stream.

Each response carries a version (a hash of exactly what it holds), a fresh nonce, the type
and the resources packed in Any. A request carrying the nonce of an older response is stale
and ignored (the client sends a fresh one for our latest); `error_detail` is a NACK: we log
it and do not send that content again. Every stream is woken when the snapshot changes, and
every stream ends when the control plane is closing (its clients keep their last config and
reconnect), so a shutdown never waits for streams that would otherwise last forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc
import structlog
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from google.protobuf import any_pb2
from google.protobuf.message import Message

from mesh.authz import peer_spiffe_id
from mesh.spiffe import NotAServiceId, SpiffeId
from mesh.xds import resources
from mesh.xds.security import MeshTls, Peer
from mesh.xds.snapshot import Snapshot, SnapshotStore

log = structlog.get_logger(__name__)

WILDCARD_TYPES = (resources.LISTENER, resources.CLUSTER)
_Context = grpc.aio.ServicerContext[discovery_pb2.DiscoveryRequest, discovery_pb2.DiscoveryResponse]


@dataclass
class _Watch:
    """What a stream subscribed to for one type, and what it was last sent."""

    names: frozenset[str] | None  # None: wildcard, everything of this type
    version: str = ""
    nonce: str = ""
    rejected: str = ""  # the version the client NACKed: never sent again
    due: bool = True  # the subscription changed: answer even if the content did not


def _names(request: discovery_pb2.DiscoveryRequest) -> frozenset[str] | None:
    names = frozenset(request.resource_names)
    if "*" in names or (not names and request.type_url in WILDCARD_TYPES):
        return None
    return names


def _version(items: list[Message]) -> str:
    digest = hashlib.sha256()
    for item in items:
        digest.update(item.SerializeToString(deterministic=True))
    return digest.hexdigest()[:16]


def _pack(item: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(item)
    return packed


def _client_identity(context: _Context) -> str | None:
    """The service the client's certificate names; None without one (the plaintext port)."""
    uri = peer_spiffe_id(context)
    try:
        return SpiffeId.parse(uri).service if uri else None
    except NotAServiceId:
        return None


class AdsStream:
    """One ADS stream: the client's subscriptions and what it was last sent, per type.

    `identity` is the service the client's certificate names (None on the plaintext port);
    what kind of client it is (Envoy or proxyless gRPC) its node says in its first request."""

    def __init__(self, store: SnapshotStore, peer: str, closing: asyncio.Event | None = None, *,
                 tls: MeshTls | None = None, identity: str | None = None) -> None:
        self._store = store
        self._peer = peer
        self._closing = closing or asyncio.Event()
        self._tls, self._identity = tls, identity
        self._agent = ""
        self._node = ""
        self._watches: dict[str, _Watch] = {}
        self._wake = asyncio.Event()

    def on_request(self, request: discovery_pb2.DiscoveryRequest) -> None:
        """Apply one request: subscribe, ACK, NACK, or ignore it when its nonce is stale."""
        self._node = request.node.id or self._node
        self._agent = request.node.user_agent_name or self._agent
        watch = self._watches.get(request.type_url)
        if watch is None or not request.response_nonce:
            self._watches[request.type_url] = _Watch(_names(request))
            return
        if request.response_nonce != watch.nonce:
            return  # stale: the client answers our newest response separately
        if request.HasField("error_detail"):
            watch.rejected = watch.version
            log.warning(
                "xds NACK",
                node=self._node,
                peer=self._peer,
                type_url=request.type_url,
                version=watch.version,
                error=request.error_detail.message,
            )
        names = _names(request)
        if names != watch.names:
            watch.names, watch.due = names, True

    def _resources(self, snapshot: Snapshot, type_url: str, names: frozenset[str] | None) -> list[Message]:
        # api_listeners are for proxyless gRPC clients, which always name their target; an
        # Envoy asking LDS by wildcard gets none (its own listeners are static).
        if type_url == resources.LISTENER and names is None:
            return []
        return resources.build(snapshot, type_url, names, peer=Peer.of(self._agent, self._identity), tls=self._tls)

    def due(self, snapshot: Snapshot) -> list[discovery_pb2.DiscoveryResponse]:
        """The responses this stream is owed for `snapshot`, secrets and clusters first."""
        owed = []
        known = [t for t in resources.TYPE_ORDER if t in self._watches]
        ordered = known + sorted(set(self._watches) - set(known))
        for type_url in ordered:
            watch = self._watches[type_url]
            items = self._resources(snapshot, type_url, watch.names)
            version = _version(items)
            if (watch.due or version != watch.version) and version != watch.rejected:
                watch.version, watch.nonce, watch.due = version, secrets.token_hex(8), False
                owed.append(
                    discovery_pb2.DiscoveryResponse(
                        version_info=version,
                        nonce=watch.nonce,
                        type_url=type_url,
                        resources=[_pack(item) for item in items],
                    )
                )
        return owed

    async def run(
        self, requests: AsyncIterator[discovery_pb2.DiscoveryRequest]
    ) -> AsyncGenerator[discovery_pb2.DiscoveryResponse, None]:
        """Answer requests and snapshot changes (once the first sync is done) until the client
        closes the stream or the control plane is closing."""
        unsubscribe = self._store.subscribe(lambda _: self._wake.set())
        reader = asyncio.create_task(self._read(requests))
        wakers = [asyncio.create_task(self._wake_after(self._store.wait_ready)),
                  asyncio.create_task(self._wake_after(self._closing.wait))]
        try:
            while not reader.done() and not self._closing.is_set():
                if self._store.is_ready:
                    for response in self.due(self._store.current):
                        yield response
                await self._wake.wait()
                self._wake.clear()
        finally:
            unsubscribe()
            # The reader must be finished before the RPC ends: a task still iterating a
            # finished call's requests touches freed grpc state (seen as a segfault in cygrpc).
            for task in (reader, *wakers):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, grpc.RpcError):
                await reader
            await asyncio.gather(*wakers, return_exceptions=True)

    async def _wake_after(self, wait: Callable[[], Awaitable[object]]) -> None:
        await wait()
        self._wake.set()

    async def _read(self, requests: AsyncIterator[discovery_pb2.DiscoveryRequest]) -> None:
        try:
            async for request in requests:
                self.on_request(request)
                self._wake.set()
        finally:
            self._wake.set()


class AggregatedDiscoveryService(ads_pb2_grpc.AggregatedDiscoveryServiceServicer):  # type: ignore[misc]
    """Serves the snapshot store to Envoy (SDS/CDS/EDS) and proxyless gRPC (LDS/RDS/CDS/EDS),
    with clusters over mutual TLS when `tls` is given; every stream ends once `closing` is set."""

    def __init__(self, store: SnapshotStore, closing: asyncio.Event | None = None, tls: MeshTls | None = None) -> None:
        self._store = store
        self._closing = closing or asyncio.Event()
        self._tls = tls

    async def StreamAggregatedResources(
        self, request_iterator: AsyncIterator[discovery_pb2.DiscoveryRequest], context: _Context
    ) -> AsyncIterator[discovery_pb2.DiscoveryResponse]:
        """State-of-the-world ADS: one stream carries every type a client asks for."""
        # Read the context while the call is alive: after the client has gone, grpc frees the
        # call, and context.peer() then dereferences freed memory (the control plane crashed
        # with SIGSEGV on every stream a client closed, in the finally below).
        identity, peer = _client_identity(context), context.peer()
        log.info("xds stream opened", peer=peer, identity=identity)
        stream = AdsStream(self._store, peer, self._closing, tls=self._tls, identity=identity)
        try:
            async for response in stream.run(request_iterator):
                yield response
        finally:
            log.info("xds stream closed", peer=peer)

    async def DeltaAggregatedResources(
        self, request_iterator: AsyncIterator[discovery_pb2.DeltaDiscoveryRequest], context: _Context
    ) -> None:
        """Incremental xDS is not offered: clients must use state of the world (api_type GRPC)."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "use state-of-the-world ADS (api_type: GRPC)")
