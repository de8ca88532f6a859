"""Which Consul names a BFF calls: the services its topology entry calls, by their own names
unless VIDMESH_UPSTREAM_* says otherwise."""

from __future__ import annotations

import pytest

from bff.common.config import load_upstreams
from mesh import topology
from mesh.config import ConfigError

WEB = topology.service("web-bff")


def test_each_called_service_is_reached_by_its_own_name_by_default() -> None:
    upstreams = load_upstreams(WEB, {})
    assert upstreams == {name: name for name in WEB.calls}
    assert "video-query" in upstreams


def test_a_setting_points_one_upstream_elsewhere() -> None:
    upstreams = load_upstreams(WEB, {"VIDMESH_UPSTREAM_VIDEO_QUERY": "video-query-canary",
                                     "VIDMESH_UPSTREAM_NOTIFICATION": " notification-b ", "VIDMESH_UPSTREAM_USERS": ""})
    assert upstreams["video-query"] == "video-query-canary"
    assert upstreams["notification"] == "notification-b"
    assert upstreams["users"] == "users"


@pytest.mark.parametrize("bad", ["Video_Query", "video query", "-video-query", "x" * 64])
def test_an_override_that_is_no_consul_name_is_refused_naming_the_setting(bad: str) -> None:
    with pytest.raises(ConfigError, match="VIDMESH_UPSTREAM_VIDEO_QUERY"):
        load_upstreams(WEB, {"VIDMESH_UPSTREAM_VIDEO_QUERY": bad})
