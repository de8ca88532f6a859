"""Page tokens: round trip, and every forgery is INVALID_ARGUMENT naming page_token."""

from __future__ import annotations

import base64

import pytest

from mesh.errors import InvalidArgument
from services.video_query.paging import MAX_PAGE_SIZE, PageTokens, page_size

TOKENS = PageTokens(b"unit-test-key")
KEY = (1767225600000000, "0b9d3c47-7d0c-4b55-9d0e-4a4ad6f0f7a1")


def _rejected(token: str, scope: str = "ListVideos|", tokens: PageTokens = TOKENS) -> None:
    with pytest.raises(InvalidArgument) as caught:
        tokens.read(token, scope)
    assert [v.field for v in caught.value.violations] == ["page_token"]


def test_a_token_carries_its_key_back() -> None:
    token = TOKENS.issue("ListVideos|", KEY)
    assert TOKENS.read(token, "ListVideos|") == KEY
    assert TOKENS.read(TOKENS.issue("Trending", (41234.56789012345, "id")), "Trending") == (41234.56789012345, "id")


def test_no_key_means_no_token_and_no_token_means_the_first_page() -> None:
    assert TOKENS.issue("Trending", None) == ""
    assert TOKENS.read("", "Trending") is None


def test_the_token_is_opaque_and_short() -> None:
    token = TOKENS.issue("SearchVideos|" + "long query " * 18, KEY)
    assert KEY[1] not in token and len(token) < 200


def test_every_changed_character_is_rejected() -> None:
    token = TOKENS.issue("ListVideos|", KEY)
    for index in range(len(token)):
        changed = "A" if token[index] != "A" else "B"
        forged = token[:index] + changed + token[index + 1:]
        if base64.urlsafe_b64decode(forged + "==") != base64.urlsafe_b64decode(token + "=="):
            _rejected(forged)


def test_a_forged_key_with_a_guessed_signature_is_rejected() -> None:
    raw = base64.urlsafe_b64decode(TOKENS.issue("ListVideos|", KEY) + "==")
    forged = raw[:33] + b'[0,"1\' OR 1=1 --"]'
    _rejected(base64.urlsafe_b64encode(forged).decode())


def test_a_token_from_another_query_is_rejected() -> None:
    _rejected(TOKENS.issue("SearchVideos|cats", KEY), "SearchVideos|dogs")
    _rejected(TOKENS.issue("ListChannelVideos|c|False", KEY), "ListChannelVideos|c|True")


def test_a_token_signed_with_another_key_is_rejected() -> None:
    _rejected(PageTokens(b"another-key").issue("ListVideos|", KEY))


@pytest.mark.parametrize("garbage", ["x", "!!!!", "é", "AAAA", "a" * 300, TOKENS.issue("ListVideos|", KEY)[:20]])
def test_garbage_is_rejected(garbage: str) -> None:
    _rejected(garbage)


def test_page_size_defaults_to_20_and_caps_at_100() -> None:
    assert (page_size(0), page_size(7), page_size(1000)) == (20, 7, MAX_PAGE_SIZE)
