"""Which checks apply to a service: read from its topology entry, never decided by a skip.

    @applies_to(consumes)
    async def test_poison_record_goes_to_the_dead_letter_topic(entry, ...): ...

A check that applies but lacks its sample (request_ids without samples.write, consumes
without samples.event) fails: the kit cannot check a rule it was not given the means to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from mesh import topology

Applies = Callable[[topology.Service], bool]
F = TypeVar("F", bound=Callable[..., object])
ATTRIBUTE = "conformance_applies_to"


def every(entry: topology.Service) -> bool:
    """Every service."""
    return True


def takes_request_ids(entry: topology.Service) -> bool:
    """Services whose mutating RPCs take a request_id."""
    return entry.request_ids


def consumes(entry: topology.Service) -> bool:
    """Services that read events."""
    return bool(entry.consumes)


def delays_events(entry: topology.Service) -> bool:
    """Services with something that only delays their events: Kafka, the mail server."""
    return bool(entry.produces or entry.consumes or entry.sends_mail)


def waits(entry: topology.Service) -> bool:
    """Services with a call that waits (for a version, say) until its deadline ends it."""
    return entry.samples.waits is not None


def applies_to(predicate: Applies) -> Callable[[F], F]:
    """Mark a test: it runs for the services `predicate` accepts (every service without a mark)."""
    def mark(test: F) -> F:
        setattr(test, ATTRIBUTE, predicate)
        return test
    return mark


def predicate_of(test: object) -> Applies:
    """The predicate a test was marked with."""
    found: Applies = getattr(test, ATTRIBUTE, every)
    return found
