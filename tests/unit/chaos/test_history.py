"""What an op's attempts say about its effect: ok, refused or indeterminate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.chaos.history import Attempt, History, Op


def attempt(status: int | None, sent: bool = True) -> Attempt:
    return Attempt(began=1.0, ended=2.0, status=status, sent=sent)


def op(*attempts: Attempt, request_id: str = "r-1") -> Op:
    return Op(seq=0, kind="comment", actor="u", request_id=request_id, attempts=list(attempts))


@pytest.mark.parametrize(("attempts", "outcome"), [
    ((attempt(200),), "ok"),
    ((attempt(503), attempt(200)), "ok"),
    ((attempt(400),), "refused"),
    ((attempt(None, sent=False),), "refused"),  # no connection: nothing was sent
    ((attempt(429), attempt(429)), "refused"),  # the gateway turned every attempt away
    ((attempt(504),), "indeterminate"),
    ((attempt(None),), "indeterminate"),  # sent, no answer
    ((attempt(503), attempt(429)), "indeterminate"),  # the gateway's 429 says nothing of the 503
    ((attempt(503), attempt(404)), "refused"),  # with a request_id, the service would have replayed
])
def test_the_attempts_decide_the_outcome(attempts: tuple[Attempt, ...], outcome: str) -> None:
    assert op(*attempts).outcome == outcome


def test_without_a_request_id_a_later_refusal_does_not_clear_an_unknown_attempt() -> None:
    assert op(attempt(503), attempt(404), request_id="").outcome == "indeterminate"


def test_an_answer_after_an_unknown_attempt_is_the_replay_case() -> None:
    assert op(attempt(None), attempt(200)).uncertain_once
    assert not op(attempt(429), attempt(200)).uncertain_once


def test_the_history_reads_back_what_it_wrote(tmp_path: Path) -> None:
    history = History()
    written = history.new("view", "u", target="v", request_id="r")
    written.attempts.append(attempt(503))
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"history": history.to_json()}))
    [read] = History.load(path).ops
    assert read == written and read.outcome == "indeterminate"
