"""The checker's bookkeeping: per effect, how many were checked, right, lost, duplicated or
phantom, and a line for every one that was not right."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Wrong = Literal["lost", "duplicated", "phantom"]


@dataclass(frozen=True, kw_only=True)
class Violation:
    """One effect that is not what the history allows."""

    effect: str
    wrong: Wrong
    where: str  # the op or entity, e.g. "op 41 comment" or "video 5d1c..."
    detail: str


@dataclass(kw_only=True)
class Tally:
    """One row of the report."""

    effect: str
    checked: int = 0
    right: int = 0
    lost: int = 0
    duplicated: int = 0
    phantom: int = 0
    uncertain: int = 0  # checked against a range: an op in it ended indeterminate
    replayed: int = 0  # exactly once although an earlier attempt may have applied (request_id replay)


@dataclass(kw_only=True)
class Verdict:
    """Every tally and violation of one check."""

    tallies: dict[str, Tally] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    def tally(self, effect: str) -> Tally:
        """The row of `effect`, created on first use so the report lists effects in check order."""
        return self.tallies.setdefault(effect, Tally(effect=effect))

    def expect(self, effect: str, where: str, seen: int, low: int, high: int, *,
               excess: Wrong = "duplicated", replayed: bool = False) -> None:
        """`seen` effects were found where the history allows `low`..`high` of them."""
        row = self.tally(effect)
        row.checked += 1
        row.uncertain += low != high
        if low <= seen <= high:
            row.right += 1
            row.replayed += replayed
            return
        wrong: Wrong = "lost" if seen < low else excess
        count = low - seen if seen < low else seen - high
        setattr(row, wrong, getattr(row, wrong) + count)
        allowed = str(low) if low == high else f"{low}..{high}"
        self.violations.append(Violation(effect=effect, wrong=wrong, where=where,
                                         detail=f"found {seen}, the history allows {allowed}"))

    def totals(self) -> dict[str, int]:
        """lost, duplicated and phantom over every effect."""
        return {wrong: sum(getattr(row, wrong) for row in self.tallies.values())
                for wrong in ("lost", "duplicated", "phantom")}

    @property
    def clean(self) -> bool:
        """Nothing lost, duplicated or phantom."""
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        """The rows and violations, for the run's JSON file."""
        return {"tallies": [asdict(row) for row in self.tallies.values()],
                "violations": [asdict(violation) for violation in self.violations],
                "totals": self.totals()}
