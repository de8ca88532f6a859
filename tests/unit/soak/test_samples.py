"""The soak's judgement of its samples: memory flat, tables bounded."""

from __future__ import annotations

from scripts.soak.samples import Series


def series(values: list[float]) -> Series:
    return Series(name="x", points=[(float(n * 30), v) for n, v in enumerate(values)])


def test_memory_that_settles_after_warm_up_is_flat() -> None:
    assert series([60, 90, 100, 101, 100, 102, 101, 103, 102]).flat()


def test_memory_that_keeps_growing_is_not_flat() -> None:
    assert not series([100, 110, 120, 135, 150, 165, 180, 195, 210]).flat()


def test_a_table_that_retention_prunes_is_bounded_and_one_that_grows_is_not() -> None:
    assert series([0, 400, 800, 900, 850, 900, 880, 910, 870]).bounded()
    assert not series([0, 400, 800, 1200, 1600, 2000, 2400, 2800, 3200]).bounded()
