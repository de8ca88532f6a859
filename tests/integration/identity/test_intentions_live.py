"""Intentions decide, and a change takes effect within seconds without a restart: a new
identity is refused by video-query, let in once an intention allows it, shut out again once
the intention is removed (each server follows its intentions with a blocking query)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mesh.consul_connect import ConsulConnect
from mesh.identity_files import IdentityFolder
from mesh.settings import Settings
from tests.integration.identity.support import grpcurl, issued, stack_targets

TAKES_EFFECT_S = 5.0  # a blocking query answers within about a second of the change


def _allowed(settings: Settings, caller: IdentityFolder, address: str) -> bool:
    answer = grpcurl(settings, caller, "-d", "{}", address, "grpc.health.v1.Health/Check")
    if answer.returncode == 0:
        return True
    assert "PermissionDenied" in answer.stderr, answer.stderr  # refused by the intentions, nothing else
    return False


def _until(wanted: bool, check: Callable[[], bool]) -> float:
    """Seconds until `check()` gives `wanted` (bounded)."""
    began = time.monotonic()
    while check() != wanted:
        assert time.monotonic() - began < TAKES_EFFECT_S, f"still {not wanted} after {TAKES_EFFECT_S}s"
        time.sleep(0.1)  # polling interval of a bounded wait
    return time.monotonic() - began


async def _edit(settings: Settings, destination: str, edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
                ) -> None:
    """Read-modify-write the destination's entry, with Consul's check-and-set."""
    connect = ConsulConnect(f"{settings.host}:{settings.consul_http_port}")
    try:
        for _ in range(10):
            [entry] = [e for e in await connect.intentions_entries() if e["Name"] == destination]
            if await connect.put_intentions(destination, edit(entry["Sources"]), cas=entry["ModifyIndex"]):
                return
        raise AssertionError(f"the intentions of {destination} kept changing under us")
    finally:
        await connect.aclose()


@pytest.fixture
def newcomer(settings: Settings, tmp_path: Path) -> Iterator[IdentityFolder]:
    name = f"newcomer-{uuid.uuid4().hex[:8]}"
    yield issued(settings, name, tmp_path)
    asyncio.run(_edit(settings, "video-query", lambda sources: [s for s in sources if s["Name"] != name]))


def test_an_added_intention_lets_a_caller_in_and_removing_it_shuts_it_out(
        settings: Settings, newcomer: IdentityFolder) -> None:
    name = newcomer.path.name
    [video_query] = [t for t in stack_targets(settings) if t.name == "video-query-0"]

    def check() -> bool:
        return _allowed(settings, newcomer, video_query.address)

    assert not check()
    asyncio.run(_edit(settings, "video-query", lambda sources: [*sources, {"Name": name, "Action": "allow"}]))
    let_in = _until(True, check)
    asyncio.run(_edit(settings, "video-query", lambda sources: [s for s in sources if s["Name"] != name]))
    shut_out = _until(False, check)
    print(f"intention added: allowed after {let_in:.2f} s; removed: refused after {shut_out:.2f} s")  # -s shows it
