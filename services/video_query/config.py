"""video-query's own settings, read once from the environment (mesh.config has the common ones).

    VIDMESH_PAGE_TOKEN_KEY                 secret that signs page tokens; every instance must
                                           share it (default: a development key, logged)
    VIDMESH_VIDEO_QUERY_GROUP              the projector's Kafka consumer group (default
                                           video-query; tests run side by side with their own)
    VIDMESH_VIDEO_QUERY_MAX_WAIT_SECONDS   how long a min_version query waits (default 2)
    VIDMESH_VIDEO_QUERY_VIDEO_TOPIC        the topics the projector reads (defaults
    VIDMESH_VIDEO_QUERY_USERS_TOPIC        video.v1.events, users.v1.events)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from mesh.config import ConfigError

SERVICE_NAME = "video-query"
DEV_PAGE_TOKEN_KEY = b"vidmesh-dev-page-token-key"
VIDEO_TOPIC, USERS_TOPIC = "video.v1.events", "users.v1.events"


@dataclass(frozen=True)
class QueryConfig:
    """Where the projector reads from, and how queries page and wait."""

    page_token_key: bytes = DEV_PAGE_TOKEN_KEY
    consumer_group: str = SERVICE_NAME
    max_wait_s: float = 2.0
    video_topic: str = VIDEO_TOPIC
    users_topic: str = USERS_TOPIC

    @property
    def topics(self) -> list[str]:
        """The topics the projector consumes."""
        return [self.video_topic, self.users_topic]

    @property
    def dev_key(self) -> bool:
        """True when page tokens are signed with the public development key."""
        return self.page_token_key == DEV_PAGE_TOKEN_KEY


def load(environ: Mapping[str, str] | None = None) -> QueryConfig:
    """Read the settings; ConfigError names a malformed one."""
    env = os.environ if environ is None else environ
    raw_wait = env.get("VIDMESH_VIDEO_QUERY_MAX_WAIT_SECONDS", "").strip() or "2"
    try:
        max_wait = float(raw_wait)
    except ValueError:
        raise ConfigError(f"VIDMESH_VIDEO_QUERY_MAX_WAIT_SECONDS={raw_wait!r} is not a number of seconds") from None
    if max_wait < 0:
        raise ConfigError(f"VIDMESH_VIDEO_QUERY_MAX_WAIT_SECONDS={raw_wait!r} must not be negative")
    key = env.get("VIDMESH_PAGE_TOKEN_KEY", "").strip()
    return QueryConfig(
        page_token_key=key.encode() if key else DEV_PAGE_TOKEN_KEY,
        consumer_group=env.get("VIDMESH_VIDEO_QUERY_GROUP", "").strip() or SERVICE_NAME,
        max_wait_s=max_wait,
        video_topic=env.get("VIDMESH_VIDEO_QUERY_VIDEO_TOPIC", "").strip() or VIDEO_TOPIC,
        users_topic=env.get("VIDMESH_VIDEO_QUERY_USERS_TOPIC", "").strip() or USERS_TOPIC,
    )
