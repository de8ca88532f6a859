"""video-query's own settings, read by its bootstrap from the runtime's environment (mesh.config
has the common ones; the topics come from mesh/topology.py, VIDMESH_TOPIC_PREFIX puts a prefix
before them, and the consumer group is VIDMESH_SERVICE_NAME).

    VIDMESH_PAGE_TOKEN_KEY                 secret that signs page tokens; every instance must
                                           share it (default: a development key, logged)
    VIDMESH_VIDEO_QUERY_MAX_WAIT_SECONDS   how long a min_version query waits (default 2)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from mesh.config import ConfigError
from services.video_query.waiting import MAX_WAIT_S

DEV_PAGE_TOKEN_KEY = b"vidmesh-dev-page-token-key"
MAX_WAIT_SETTING = "VIDMESH_VIDEO_QUERY_MAX_WAIT_SECONDS"


@dataclass(frozen=True, kw_only=True)
class QueryConfig:
    """How queries page and how long they wait for a client's own write."""

    page_token_key: bytes = DEV_PAGE_TOKEN_KEY
    max_wait_s: float = MAX_WAIT_S

    @property
    def dev_key(self) -> bool:
        """True when page tokens are signed with the public development key."""
        return self.page_token_key == DEV_PAGE_TOKEN_KEY


def load(environ: Mapping[str, str] | None = None) -> QueryConfig:
    """Read the settings; ConfigError names a malformed one."""
    env = os.environ if environ is None else environ
    raw_wait = env.get(MAX_WAIT_SETTING, "").strip() or str(MAX_WAIT_S)
    try:
        max_wait = float(raw_wait)
    except ValueError:
        raise ConfigError(f"{MAX_WAIT_SETTING}={raw_wait!r} is not a number of seconds") from None
    if max_wait < 0:
        raise ConfigError(f"{MAX_WAIT_SETTING}={raw_wait!r} must not be negative")
    key = env.get("VIDMESH_PAGE_TOKEN_KEY", "").strip()
    return QueryConfig(page_token_key=key.encode() if key else DEV_PAGE_TOKEN_KEY, max_wait_s=max_wait)
