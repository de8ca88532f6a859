"""What the workload asked for and what it heard back: the history the checker judges.

Every write is an `Op` with the attempts it took. An attempt ends in one of three ways:

- ok: a 2xx answer; the write took effect (its answer says how);
- refused: a definite no. Either the gateway turned it away before any service saw it
  (401, 413, 429, or no connection at all), or a service answered with a client error
  (400, 403, 404, 409) — which, for a write that carries a request_id, also says that no
  earlier attempt of it took effect: that attempt's answer would have been replayed;
- indeterminate: no answer, a reset, a 5xx (503 and 504 included): it may have applied.

An op's outcome follows from its attempts (`Op.outcome`): ok if one attempt was; refused if
the last attempt was a service's refusal and no earlier attempt may have applied without
a request_id to protect it, or if every attempt was turned away at the gateway; else
indeterminate. The checker holds ok ops to exactly once, refused ops to no effect at all,
and indeterminate ones to at most once.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["ok", "refused", "indeterminate"]

SERVICE_REFUSALS = frozenset({400, 403, 404, 409})  # the service answered: it did not apply
GATEWAY_REFUSALS = frozenset({401, 413, 429})  # Envoy answered: no service saw the request


@dataclass(kw_only=True)
class Attempt:
    """One try of a write: when it ran (seconds into the campaign) and what came back."""

    began: float
    ended: float
    status: int | None  # the HTTP status, None when no answer came
    error: str = ""  # why there was no answer (a timeout, a reset, no connection)
    sent: bool = True  # False when the connection could not even be opened

    @property
    def outcome(self) -> Outcome:
        """What this attempt says about the write's effect."""
        if self.status is not None and 200 <= self.status < 300:
            return "ok"
        if not self.sent or self.status in SERVICE_REFUSALS or self.status in GATEWAY_REFUSALS:
            return "refused"
        return "indeterminate"

    @property
    def reached_a_service(self) -> bool:
        """True unless the gateway (or the network) turned the attempt away."""
        return self.sent and self.status not in GATEWAY_REFUSALS


@dataclass(kw_only=True)
class Op:
    """One write of the workload, with every attempt it took."""

    seq: int
    kind: str  # register, follow, create, publish, like, unlike, comment, view, mark_read
    actor: str  # the acting user's id ("" for a registration)
    target: str = ""  # the video or channel it is about
    request_id: str = ""  # "" for a client that sends none (and so never retries)
    body: dict[str, Any] = field(default_factory=dict)
    token: str = ""  # a unique marker in the title, body or email, to find its effect by
    intent: str = "apply"  # "apply", or why it was meant to be refused ("too-long", "stale-version", ...)
    attempts: list[Attempt] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)  # the JSON of the first ok answer

    @property
    def outcome(self) -> Outcome:
        """ok, refused or indeterminate, from the attempts (see the module's docstring)."""
        outcomes = [attempt.outcome for attempt in self.attempts]
        if "ok" in outcomes:
            return "ok"
        if not self.attempts:
            return "indeterminate"
        last = self.attempts[-1]
        protected = bool(self.request_id) or "indeterminate" not in outcomes
        if last.reached_a_service and last.outcome == "refused" and protected:
            return "refused"
        return "indeterminate" if "indeterminate" in outcomes else "refused"

    @property
    def retried(self) -> bool:
        """Sent more than once (with the same request_id)."""
        return len(self.attempts) > 1

    @property
    def uncertain_once(self) -> bool:
        """An attempt may have applied before a later one answered: the replay case."""
        return self.outcome == "ok" and any(a.outcome == "indeterminate" for a in self.attempts)

    @property
    def began(self) -> float:
        """When its first attempt began."""
        return self.attempts[0].began if self.attempts else 0.0

    @property
    def acknowledged_at(self) -> float | None:
        """When its first ok answer came, if one did."""
        return next((a.ended for a in self.attempts if a.outcome == "ok"), None)


class History:
    """Every op of a run, appended from several worker threads."""

    def __init__(self) -> None:
        self._ops: list[Op] = []
        self._lock = threading.Lock()

    def new(self, kind: str, actor: str, **fields: Any) -> Op:
        """Start recording an op (its attempts are added as they happen)."""
        with self._lock:
            op = Op(seq=len(self._ops), kind=kind, actor=actor, **fields)
            self._ops.append(op)
            return op

    @property
    def ops(self) -> list[Op]:
        """A snapshot of every op so far."""
        with self._lock:
            return list(self._ops)

    def to_json(self) -> list[dict[str, Any]]:
        """The ops as JSON-ready dicts, outcome included."""
        return [{**asdict(op), "outcome": op.outcome} for op in self.ops]

    @staticmethod
    def load(path: Path) -> History:
        """Read the history back from a run's JSON file (its "history" list)."""
        history = History()
        for raw in json.loads(path.read_text())["history"]:
            raw.pop("outcome", None)
            raw["attempts"] = [Attempt(**attempt) for attempt in raw["attempts"]]
            history._ops.append(Op(**raw))
        return history
