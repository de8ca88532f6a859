"""The decision the intentions of a destination give one caller: the most precedent rule that
names it (or `*`) decides, and whatever no rule allows is denied."""

from __future__ import annotations

import pytest

from mesh.consul_connect import Intention
from mesh.intentions import Intentions, Undecided, decide

STACK = (  # what mesh/policy.py writes for video-command, as Consul's match query returns it
    Intention(source="web-bff", action="allow", precedence=9),
    Intention(source="mobile-bff", action="allow", precedence=9),
    Intention(source="operator", action="allow", precedence=6),
    Intention(source="*", action="deny", precedence=5),
)


@pytest.mark.parametrize("caller", ["web-bff", "mobile-bff", "operator"])
def test_the_callers_the_topology_names_are_allowed(caller: str) -> None:
    assert decide(STACK, caller).allowed


@pytest.mark.parametrize("caller", ["users", "gateway", "intruder"])
def test_everyone_else_meets_the_default_deny(caller: str) -> None:
    decision = decide(STACK, caller)
    assert not decision.allowed
    assert decision.reason == "intention * (precedence 5): deny"


def test_the_most_precedent_rule_wins_whatever_the_order_given() -> None:
    rules = (Intention(source="*", action="allow", precedence=5),
             Intention(source="web-bff", action="deny", precedence=9))
    assert not decide(rules, "web-bff").allowed
    assert decide(rules, "users").allowed


def test_without_any_rule_nobody_is_allowed() -> None:
    decision = decide((), "web-bff")
    assert not decision.allowed and "default deny" in decision.reason


def test_a_rule_with_per_method_permissions_denies() -> None:
    rules = (Intention(source="web-bff", action="", precedence=9, layer7=True), *STACK[2:])
    decision = decide(rules, "web-bff")
    assert not decision.allowed and "per-method permissions" in decision.reason


def test_nothing_is_decided_before_the_first_answer_and_the_answer_decides_after() -> None:
    intentions = Intentions(connect=None, destination="video-command")  # type: ignore[arg-type]
    with pytest.raises(Undecided):
        intentions.decide("web-bff")
    assert not intentions.known
    intentions.use(STACK)
    assert intentions.known and intentions.decide("web-bff").allowed and not intentions.decide("users").allowed
    intentions.use(STACK[2:])  # web-bff's intention removed
    assert not intentions.decide("web-bff").allowed
