"""The trending score: engagement and freshness in one stored, indexable number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.video_query.domain import TRENDING_HALF_DAY_S, VideoRow, trending_score

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_more_engagement_ranks_higher_at_the_same_age() -> None:
    assert trending_score(100, 10, 1, NOW) > trending_score(100, 5, 1, NOW) > trending_score(50, 5, 1, NOW)


def test_likes_weigh_more_than_views() -> None:
    assert trending_score(0, 10, 0, NOW) > trending_score(10, 0, 0, NOW)


def test_newer_ranks_higher_with_the_same_engagement() -> None:
    assert trending_score(10, 1, 0, NOW) > trending_score(10, 1, 0, NOW - timedelta(hours=1))


def test_ten_times_the_engagement_makes_up_for_half_a_day() -> None:
    older = trending_score(1000, 0, 0, NOW - timedelta(seconds=TRENDING_HALF_DAY_S))
    assert older == pytest.approx(trending_score(100, 0, 0, NOW))


def test_unpublished_videos_score_zero() -> None:
    assert trending_score(1000, 100, 10, None) == 0.0


def test_the_row_keeps_its_score_current_as_counters_change() -> None:
    row = VideoRow("v", "o")
    row.publish(3, NOW)
    row.set_likes(4, 7)
    row.set_views(5, 30)
    assert row.trending_score == trending_score(30, 7, 0, NOW)
