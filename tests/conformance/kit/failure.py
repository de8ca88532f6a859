"""How a check says a rule was broken: which section of MESH.md, what was expected, what was seen."""

from __future__ import annotations


class Nonconformance(AssertionError):
    """An instance broke a rule of MESH.md (or its topology entry lacks what the kit needs)."""


def expect(condition: object, where: object, section: str, what: str) -> None:
    """Raise Nonconformance naming the instance and the MESH.md section unless `condition` holds."""
    if not condition:
        raise Nonconformance(f"{where}: MESH.md {section}: {what}")
