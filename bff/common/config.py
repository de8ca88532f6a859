"""Which Consul services a BFF calls, read once from the environment.

Each defaults to the service's own Consul name; VIDMESH_UPSTREAM_<SERVICE> overrides it, so
a test (or a canary) can point a BFF at instances registered under another name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Upstreams:
    """The Consul names of the domain services, as the xDS target `xds:///<name>`."""

    video_query: str = "video-query"
    video_command: str = "video-command"
    users: str = "users"
    notification: str = "notification"
    recommendations: str = "recommendations"


def load_upstreams(environ: Mapping[str, str] | None = None) -> Upstreams:
    """Upstreams from VIDMESH_UPSTREAM_VIDEO_QUERY, _VIDEO_COMMAND, _USERS, _NOTIFICATION,
    _RECOMMENDATIONS."""
    env = os.environ if environ is None else environ
    defaults = Upstreams()

    def get(field: str) -> str:
        return env.get(f"VIDMESH_UPSTREAM_{field.upper()}", "").strip() or str(getattr(defaults, field))

    return Upstreams(*(get(name) for name in ("video_query", "video_command", "users", "notification",
                                               "recommendations")))
