"""Which Consul names a BFF calls: the services' own, unless VIDMESH_UPSTREAM_* says otherwise."""

from __future__ import annotations

from bff.common.config import Upstreams, load_upstreams


def test_defaults_are_the_services_consul_names() -> None:
    assert load_upstreams({}) == Upstreams("video-query", "video-command", "users", "notification")


def test_each_upstream_can_be_renamed() -> None:
    upstreams = load_upstreams({"VIDMESH_UPSTREAM_VIDEO_QUERY": "video-query-canary",
                                "VIDMESH_UPSTREAM_NOTIFICATION": " notification-b ", "VIDMESH_UPSTREAM_USERS": ""})
    assert upstreams == Upstreams("video-query-canary", "video-command", "users", "notification-b")
