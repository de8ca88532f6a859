"""video-query's own settings: the page token key and the longest min_version wait."""

from __future__ import annotations

import pytest

from mesh.config import ConfigError
from services.video_query.config import DEV_PAGE_TOKEN_KEY, load
from services.video_query.waiting import MAX_WAIT_S


def test_without_settings_it_signs_with_the_development_key_and_waits_the_default() -> None:
    settings = load({})
    assert (settings.page_token_key, settings.dev_key, settings.max_wait_s) == (DEV_PAGE_TOKEN_KEY, True, MAX_WAIT_S)


def test_the_settings_are_read() -> None:
    settings = load({"VIDMESH_PAGE_TOKEN_KEY": " s3cret ", "VIDMESH_VIDEO_QUERY_MAX_WAIT_SECONDS": "0.5"})
    assert (settings.page_token_key, settings.dev_key, settings.max_wait_s) == (b"s3cret", False, 0.5)


@pytest.mark.parametrize("bad", ["soon", "-1", "1,5"])
def test_a_bad_wait_is_refused_naming_the_setting(bad: str) -> None:
    with pytest.raises(ConfigError, match="VIDMESH_VIDEO_QUERY_MAX_WAIT_SECONDS"):
        load({"VIDMESH_VIDEO_QUERY_MAX_WAIT_SECONDS": bad})
