"""The intentions the stacks write, derived from the topology: default deny, the developer's
identity everywhere, and exactly the edges of the call graph."""

from __future__ import annotations

from mesh import policy, topology


def _sources(destination: str) -> dict[str, str]:
    return {source["Name"]: source["Action"] for source in policy.intentions()[destination]}


def test_the_default_is_deny_and_only_the_operator_is_allowed_everywhere() -> None:
    assert _sources("*") == {"*": "deny", "operator": "allow"}


def test_only_the_bffs_may_call_video_command() -> None:
    assert _sources("video-command") == {"web-bff": "allow", "mobile-bff": "allow"}


def test_the_gateway_may_call_the_edge_services_and_nothing_else() -> None:
    for service in topology.SERVICES:
        sources = _sources(service.name) if service.name in policy.intentions() else {}
        assert ("gateway" in sources) == service.edge, service.name


def test_every_edge_of_the_call_graph_is_allowed_and_nothing_more() -> None:
    granted = {(source, destination) for destination, sources in policy.intentions().items()
               for source in {s["Name"] for s in sources if s["Action"] == "allow"}}
    expected = {(caller, service.name) for service in topology.SERVICES for caller in topology.callers_of(service.name)}
    expected |= {("gateway", topology.CONTROL_PLANE), ("operator", "*")}
    assert granted == expected


def test_a_service_nobody_calls_gets_no_entry_of_its_own() -> None:
    assert "email" not in policy.intentions()  # only its consumers' events reach it
