"""The ADS stream protocol (state of the world): versions, nonces, ACK, NACK, stale requests, pushes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.service.discovery.v3 import discovery_pb2

from mesh.xds import resources
from mesh.xds.ads import AdsStream
from mesh.xds.snapshot import Instance, SnapshotStore

A = Instance("127.0.0.1", 50001)
B = Instance("127.0.0.1", 50002)


def _store() -> SnapshotStore:
    store = SnapshotStore()
    store.set_instances("users", [A])
    store.set_instances("video-query", [A, B])
    store.mark_ready()
    return store


def _request(
    type_url: str,
    names: tuple[str, ...] = (),
    answering: discovery_pb2.DiscoveryResponse | None = None,
    error: str = "",
) -> discovery_pb2.DiscoveryRequest:
    request = discovery_pb2.DiscoveryRequest(type_url=type_url, resource_names=names)
    request.node.id = "test-node"
    if answering is not None:
        request.version_info, request.response_nonce = answering.version_info, answering.nonce
    if error:
        request.error_detail.code, request.error_detail.message = 3, error  # INVALID_ARGUMENT
    return request


def _names(response: discovery_pb2.DiscoveryResponse) -> list[str]:
    kinds = {
        resources.CLUSTER: cluster_pb2.Cluster,
        resources.ENDPOINT: endpoint_pb2.ClusterLoadAssignment,
        resources.LISTENER: listener_pb2.Listener,
        resources.ROUTE: route_pb2.RouteConfiguration,
    }
    names = []
    for packed in response.resources:
        item = kinds[response.type_url]()
        assert packed.Unpack(item)
        names.append(item.cluster_name if response.type_url == resources.ENDPOINT else item.name)
    return names


def test_wildcard_cds_gets_every_cluster_with_version_and_nonce() -> None:
    store = _store()
    stream = AdsStream(store, "peer")
    stream.on_request(_request(resources.CLUSTER))
    [response] = stream.due(store.current)
    assert response.type_url == resources.CLUSTER
    assert response.version_info and response.nonce
    assert _names(response) == ["users", "video-query"]
    assert all(packed.type_url == resources.CLUSTER for packed in response.resources)


def test_an_ack_is_not_answered_again() -> None:
    store = _store()
    stream = AdsStream(store, "peer")
    stream.on_request(_request(resources.CLUSTER))
    [response] = stream.due(store.current)
    stream.on_request(_request(resources.CLUSTER, answering=response))
    assert stream.due(store.current) == []


def test_eds_answers_only_the_named_clusters_and_follows_the_subscription() -> None:
    store = _store()
    stream = AdsStream(store, "peer")
    stream.on_request(_request(resources.ENDPOINT, ("users",)))
    [first] = stream.due(store.current)
    assert _names(first) == ["users"]
    stream.on_request(_request(resources.ENDPOINT, ("users", "video-query"), answering=first))
    [second] = stream.due(store.current)
    assert _names(second) == ["users", "video-query"]
    assert second.nonce != first.nonce and second.version_info != first.version_info


def test_a_request_with_a_stale_nonce_is_ignored() -> None:
    store = _store()
    stream = AdsStream(store, "peer")
    stream.on_request(_request(resources.ENDPOINT, ("users",)))
    [first] = stream.due(store.current)
    store.set_instances("users", [A, B])
    [second] = stream.due(store.current)
    stream.on_request(_request(resources.ENDPOINT, ("video-query",), answering=first))
    assert stream.due(store.current) == []
    stream.on_request(_request(resources.ENDPOINT, ("video-query",), answering=second))
    [third] = stream.due(store.current)
    assert _names(third) == ["video-query"]


def test_a_nacked_version_is_not_sent_again_but_the_next_one_is() -> None:
    store = _store()
    stream = AdsStream(store, "peer")
    stream.on_request(_request(resources.CLUSTER))
    [response] = stream.due(store.current)
    stream.on_request(_request(resources.CLUSTER, answering=response, error="bad cluster"))
    assert stream.due(store.current) == []
    store.set_instances("email", [])
    [retry] = stream.due(store.current)
    assert _names(retry) == ["email", "users", "video-query"]


def test_envoy_asking_lds_by_wildcard_gets_no_api_listeners() -> None:
    store = _store()
    stream = AdsStream(store, "peer")
    stream.on_request(_request(resources.LISTENER))
    stream.on_request(_request(resources.ROUTE, ("video-query",)))
    [listeners, routes] = sorted(stream.due(store.current), key=lambda r: r.type_url)
    assert listeners.type_url == resources.LISTENER and len(listeners.resources) == 0
    assert routes.type_url == resources.ROUTE and _names(routes) == ["video-query"]


def test_proxyless_client_naming_its_target_gets_that_listener() -> None:
    store = _store()
    stream = AdsStream(store, "peer")
    stream.on_request(_request(resources.LISTENER, ("video-query",)))
    [response] = stream.due(store.current)
    assert _names(response) == ["video-query"]


def test_an_endpoint_change_resends_endpoints_but_not_clusters() -> None:
    store = _store()
    stream = AdsStream(store, "peer")
    stream.on_request(_request(resources.CLUSTER))
    stream.on_request(_request(resources.ENDPOINT, ("video-query",)))
    sent = stream.due(store.current)
    assert [r.type_url for r in sent] == [resources.CLUSTER, resources.ENDPOINT]
    for response in sent:
        names = tuple(_names(response)) if response.type_url == resources.ENDPOINT else ()
        stream.on_request(_request(response.type_url, names, answering=response))
    store.set_instances("video-query", [B])
    [update] = stream.due(store.current)
    assert update.type_url == resources.ENDPOINT


async def test_every_open_stream_is_pushed_the_new_endpoints() -> None:
    store = _store()
    requests: asyncio.Queue[discovery_pb2.DiscoveryRequest | None] = asyncio.Queue()

    async def incoming() -> AsyncIterator[discovery_pb2.DiscoveryRequest]:
        while (request := await requests.get()) is not None:
            yield request

    responses = AdsStream(store, "peer").run(incoming())
    await requests.put(_request(resources.ENDPOINT, ("video-query",)))
    first = await asyncio.wait_for(anext(responses), timeout=2)
    store.set_instances("video-query", [B])
    pushed = await asyncio.wait_for(anext(responses), timeout=2)
    assert len(first.resources) == 1 and pushed.version_info != first.version_info
    await responses.aclose()


async def test_every_open_stream_ends_when_the_control_plane_is_closing() -> None:
    store, closing = _store(), asyncio.Event()
    requests: asyncio.Queue[discovery_pb2.DiscoveryRequest | None] = asyncio.Queue()

    async def incoming() -> AsyncIterator[discovery_pb2.DiscoveryRequest]:  # a client that never hangs up
        while (request := await requests.get()) is not None:
            yield request

    responses = AdsStream(store, "peer", closing).run(incoming())
    await requests.put(_request(resources.CLUSTER))
    await asyncio.wait_for(anext(responses), timeout=2)
    closing.set()
    assert await asyncio.wait_for(_drain(responses), timeout=2) == []


async def test_a_stream_opened_while_closing_ends_at_once() -> None:
    closing = asyncio.Event()
    closing.set()

    async def incoming() -> AsyncIterator[discovery_pb2.DiscoveryRequest]:
        yield _request(resources.CLUSTER)
        await asyncio.Event().wait()  # and then nothing, forever

    responses = AdsStream(_store(), "peer", closing).run(incoming())
    assert await asyncio.wait_for(_drain(responses), timeout=2) == []


async def _drain(responses: AsyncIterator[discovery_pb2.DiscoveryResponse]) -> list[discovery_pb2.DiscoveryResponse]:
    return [response async for response in responses]
