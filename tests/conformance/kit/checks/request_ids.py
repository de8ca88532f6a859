"""MESH.md §8 Request ids: copies of a write get its first answer; the same id with another
body is INVALID_ARGUMENT naming `request_id`."""

from __future__ import annotations

import asyncio

import grpc
import grpc.aio

from tests.conformance.kit.api import Api, call
from tests.conformance.kit.checks.errors import check_status
from tests.conformance.kit.failure import Nonconformance, expect
from tests.conformance.kit.samples import fill
from tests.conformance.kit.target import Target

SECTION = "§8 Request ids"
TIMEOUT_S = 10.0
CONCURRENT_COPIES = 3


async def check_replays(target: Target, api: Api) -> None:
    """Concurrent copies and a later replay get one answer; another body with the id is refused."""
    write = target.entry.samples.write
    if write is None:
        raise Nonconformance(f"{target}: the topology marks it request_ids but gives no samples.write to check it")
    method = api.method(write.method)
    first_json, other_json = fill(write.request, write.other_body)
    request, other = api.request(write.method, first_json), api.request(write.method, other_json)
    async with grpc.aio.insecure_channel(target.address) as channel:
        copies = await asyncio.gather(*(call(channel, method, request, timeout=TIMEOUT_S)
                                        for _ in range(CONCURRENT_COPIES)))
        for outcome in copies:
            expect(outcome.code == grpc.StatusCode.OK, target, SECTION,
                   f"a copy of the write sample {write.method} {first_json} failed: {outcome}")
        answers = {outcome.response_json for outcome in copies}
        expect(len(answers) == 1, target, SECTION, f"{CONCURRENT_COPIES} concurrent copies of one request got "
                                                   f"{len(answers)} different answers: {sorted(answers)}")
        replay = await call(channel, method, request, timeout=TIMEOUT_S)
        expect(replay.code == grpc.StatusCode.OK and replay.response_json in answers, target, SECTION,
               f"a replay got {replay}, not the first answer {copies[0]}")
        clash = await call(channel, method, other, timeout=TIMEOUT_S)
    what = f"the same request_id with another body ({other_json})"
    check_status(target, clash, grpc.StatusCode.INVALID_ARGUMENT, what, SECTION)
    named = clash.field_violations() or []
    expect("request_id" in named, target, SECTION, f"{what}: the BadRequest names {named}, not request_id")
