"""Optimistic concurrency decided by Postgres: of two writers of one version, one wins."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio
import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from vidmesh.video.v1 import video_command_service_pb2 as pb

from mesh.errors import Conflict
from services.video_command.adapters.postgres import PostgresUnitOfWork
from tests.integration.video_command.support import DEADLINE_S, create, new_id

if TYPE_CHECKING:  # the async stub class exists in the type stubs only
    from vidmesh.video.v1.video_command_service_pb2_grpc import VideoCommandServiceAsyncStub as Stub

ROUNDS = 5


async def _update(stub: Stub, owner: str, video_id: str, title: str, request_id: str | None = None) -> Any:
    request = pb.UpdateVideoRequest(request_id=request_id or new_id(), actor_id=owner, video_id=video_id,
                                    expected_version=1, title=title)
    try:
        return await stub.UpdateVideo(request, timeout=DEADLINE_S)
    except grpc.aio.AioRpcError as error:
        return error.code()


async def test_two_concurrent_updates_of_one_version_one_ok_one_aborted(stub: Stub) -> None:
    owner = new_id()
    for _ in range(ROUNDS):
        video_id = (await create(stub, owner)).video_id
        outcomes = await asyncio.gather(_update(stub, owner, video_id, "A"), _update(stub, owner, video_id, "B"))
        oks = [o for o in outcomes if isinstance(o, pb.UpdateVideoResponse)]
        assert len(oks) == 1 and oks[0].version == 2, outcomes
        assert grpc.StatusCode.ABORTED in outcomes, outcomes


async def test_the_same_request_sent_twice_at_once_applies_once(stub: Stub) -> None:
    owner, request_id = new_id(), new_id()
    video_id = (await create(stub, owner)).video_id
    outcomes = await asyncio.gather(*(_update(stub, owner, video_id, "Once", request_id) for _ in range(2)))
    assert outcomes[0] == outcomes[1] == pb.UpdateVideoResponse(version=2)


async def test_the_sql_guard_refuses_a_save_from_a_version_already_replaced(
        stub: Stub, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
    """Both writers pass every Python check (they read the same version); the UPDATE's
    `version = %s` condition alone turns the second one away."""
    owner = new_id()
    video_id = (await create(stub, owner)).video_id
    async with PostgresUnitOfWork(pool) as first, PostgresUnitOfWork(pool) as second:
        read_by_first, read_by_second = await first.videos.get(video_id), await second.videos.get(video_id)
        assert read_by_first is not None and read_by_second is not None
        first_change = read_by_first.update(owner, 1, title="first")
        second_change = read_by_second.update(owner, 1, title="second")
        assert first_change is not None and second_change is not None
        await first.videos.save(first_change.video, expected_version=1)
        await first.commit()
        with pytest.raises(Conflict):
            await second.videos.save(second_change.video, expected_version=1)

