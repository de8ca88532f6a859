"""Consul's entries and the fault key, read into a policy: what is translated, and a clear
refusal (entry and field named) of what is not."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mesh.traffic import canary
from mesh.traffic.entries import PolicyError, compile_policy, duration, fault
from mesh.traffic.policy import ALL_CALLS, Retry, Target

RESOLVER: dict[str, Any] = {"Kind": "service-resolver", "Name": "video-query", **canary.resolver(None, "2")}
SPLIT_90_10 = {"Kind": "service-splitter", "Splits": [
    {"Weight": 90, "ServiceSubset": "v1"}, {"Weight": 10, "ServiceSubset": "v2"}]}


def test_a_split_becomes_weights_in_basis_points() -> None:
    policy = compile_policy("video-query", resolver=RESOLVER, splitter=SPLIT_90_10)
    assert policy.default.targets == (Target("v1", 9000), Target("v2", 1000))
    assert policy.subsets_in_use() == {"v1", "v2"}
    assert policy.sources == ("service-resolver/video-query", "service-splitter/video-query")


def test_without_a_splitter_the_resolver_default_takes_every_call() -> None:
    policy = compile_policy("video-query", resolver=RESOLVER)
    assert policy.default.targets == (Target("v1", ALL_CALLS),)


def test_a_router_route_carries_its_timeout_and_retries() -> None:
    router = {"Routes": [{"Match": {"HTTP": {"PathPrefix": "/vidmesh.video.v1.VideoQueryService/"}},
                          "Destination": {"RequestTimeout": "500ms", "NumRetries": 2, "RetryOn": ["unavailable"]}}]}
    policy = compile_policy("video-query", resolver=RESOLVER, splitter=SPLIT_90_10, router=router)
    (route,) = policy.routes
    assert route.match.takes("/vidmesh.video.v1.VideoQueryService/GetVideo")
    assert route.destination.timeout_s == pytest.approx(0.5)
    assert route.destination.retry == Retry(2, ("unavailable",))
    assert route.destination.targets == policy.default.targets  # no subset named: the split applies


@pytest.mark.parametrize(("entries", "named"), [
    ({"splitter": {"Splits": [{"Weight": 90, "ServiceSubset": "v1"}, {"Weight": 5, "ServiceSubset": "v2"}]}},
     "add up to 95"),
    ({"splitter": {"Splits": [{"Weight": 100, "ServiceSubset": "v9"}]}}, "no subset 'v9'"),
    ({"splitter": {"Splits": [{"Weight": 100, "Service": "users"}]}}, "another service (users)"),
    ({"splitter": {"Splits": [{"Weight": 100}], "Failover": {}}}, "Failover is not translated"),
    ({"router": {"Routes": [{"Match": {"HTTP": {"Header": [{"Name": "x"}]}}}]}}, "Routes[0].Match.HTTP: Header"),
    ({"router": {"Routes": [{"Destination": {"RequestTimeout": "soon"}}]}}, "'soon' is not a duration"),
    ({"resolver": {"DefaultSubset": "v3", "Subsets": {"v1": {"Filter": 'Service.Meta.version == "1"'}}}},
     "DefaultSubset 'v3'"),
    ({"resolver": {"Subsets": {"v1": {"Filter": 'Service.Meta.version == "1" or v1 in Service.Tags'}}}},
     "Subsets.v1.Filter"),
])
def test_an_entry_that_cannot_be_translated_is_refused_naming_entry_and_field(
        entries: dict[str, Any], named: str) -> None:
    kinds = {"resolver": RESOLVER, **entries}
    with pytest.raises(PolicyError, match=re.escape(named)) as raised:
        compile_policy("video-query", **kinds)
    assert "video-query" in str(raised.value)


def test_go_durations() -> None:
    assert duration("1m30s", "x") == 90.0 and duration("250ms", "x") == pytest.approx(0.25)
    with pytest.raises(PolicyError, match="x: '5' is not a duration"):
        duration("5", "x")


def test_a_fault_key_reads_delay_and_abort() -> None:
    parsed = fault("notification", '{"delay": {"seconds": 2, "percent": 100}, '
                                   '"abort": {"code": "UNAVAILABLE", "percent": 30}}')
    assert (parsed.delay_s, parsed.delay_percent, parsed.abort_code, parsed.abort_percent) == (2.0, 100.0, 14, 30.0)


@pytest.mark.parametrize(("raw", "named"), [
    ("{", "not JSON"),
    ('{"slow": 1}', "expected"),
    ('{"abort": {"code": "UNAVAILABLE"}}', "abort needs exactly"),
    ('{"abort": {"code": "OK", "percent": 5}}', "gRPC status name"),
    ('{"abort": {"code": "UNAVAILABLE", "percent": 150}}', "0 to 100"),
    ('{"delay": {"seconds": 600, "percent": 5}}', "delay.seconds"),
])
def test_a_bad_fault_key_is_refused_saying_why(raw: str, named: str) -> None:
    with pytest.raises(PolicyError, match=f"kv vidmesh/faults/notification: .*{named}"):
        fault("notification", raw)
