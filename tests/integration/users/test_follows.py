"""Follow, Unfollow, GetUser and BatchGetUsers over gRPC against the real users database."""

from __future__ import annotations

import asyncio

import grpc
from vidmesh.users.v1 import users_service_pb2 as pb
from vidmesh.users.v1 import users_service_pb2_grpc as pb_grpc

from tests.integration.users.support import DEADLINE_S, fails_with, field_violations, new_id, register


def follow(follower: str, channel: str, request_id: str | None = None) -> pb.FollowRequest:
    return pb.FollowRequest(request_id=request_id or new_id(), follower_id=follower, channel_id=channel)


def unfollow(follower: str, channel: str) -> pb.UnfollowRequest:
    return pb.UnfollowRequest(request_id=new_id(), follower_id=follower, channel_id=channel)


async def test_follow_and_unfollow_show_in_the_profiles(stub: pb_grpc.UserServiceAsyncStub) -> None:
    ann, bob = await register(stub, "Ann"), await register(stub, "Bob")
    assert (await stub.Follow(follow(bob.user_id, ann.user_id), timeout=DEADLINE_S)).follower_count == 1
    seen = await stub.GetUser(pb.GetUserRequest(user_id=ann.user_id, viewer_id=bob.user_id), timeout=DEADLINE_S)
    assert (seen.user.display_name, seen.user.follower_count, seen.viewer_follows) == ("Ann", 1, True)
    assert seen.user.create_time.seconds > 0

    assert (await stub.Unfollow(unfollow(bob.user_id, ann.user_id), timeout=DEADLINE_S)).follower_count == 0
    seen = await stub.GetUser(pb.GetUserRequest(user_id=ann.user_id, viewer_id=bob.user_id), timeout=DEADLINE_S)
    assert (seen.user.follower_count, seen.viewer_follows) == (0, False)


async def test_following_twice_is_idempotent_and_a_replay_returns_the_first_result(
        stub: pb_grpc.UserServiceAsyncStub) -> None:
    ann, bob, cat = await register(stub, "Ann"), await register(stub, "Bob"), await register(stub, "Cat")
    first = follow(bob.user_id, ann.user_id)
    assert (await stub.Follow(first, timeout=DEADLINE_S)).follower_count == 1
    assert (await stub.Follow(follow(bob.user_id, ann.user_id), timeout=DEADLINE_S)).follower_count == 1
    assert (await stub.Follow(follow(cat.user_id, ann.user_id), timeout=DEADLINE_S)).follower_count == 2
    assert (await stub.Follow(first, timeout=DEADLINE_S)).follower_count == 1  # the first answer, replayed


async def test_a_follows_request_id_replayed_for_another_channel_is_invalid_argument(
        stub: pb_grpc.UserServiceAsyncStub) -> None:
    ann, bob, cat = await register(stub, "Ann"), await register(stub, "Bob"), await register(stub, "Cat")
    request_id = new_id()
    await stub.Follow(follow(bob.user_id, ann.user_id, request_id), timeout=DEADLINE_S)
    error = await fails_with(grpc.StatusCode.INVALID_ARGUMENT,
                             stub.Follow(follow(bob.user_id, cat.user_id, request_id), timeout=DEADLINE_S))
    assert [field for field, _ in field_violations(error)] == ["request_id"]
    seen = await stub.GetUser(pb.GetUserRequest(user_id=cat.user_id, viewer_id=bob.user_id), timeout=DEADLINE_S)
    assert (seen.user.follower_count, seen.viewer_follows) == (0, False)


async def test_concurrent_follows_of_one_channel_are_all_counted(stub: pb_grpc.UserServiceAsyncStub) -> None:
    channel = await register(stub, "Star")
    fans = await asyncio.gather(*(register(stub, f"Fan{n}") for n in range(4)))
    replies = await asyncio.gather(*(stub.Follow(follow(fan.user_id, channel.user_id), timeout=DEADLINE_S)
                                     for fan in fans))
    assert sorted(reply.follower_count for reply in replies) == [1, 2, 3, 4]


async def test_following_yourself_is_invalid_argument(stub: pb_grpc.UserServiceAsyncStub) -> None:
    ann = await register(stub, "Ann")
    error = await fails_with(grpc.StatusCode.INVALID_ARGUMENT,
                             stub.Follow(follow(ann.user_id, ann.user_id), timeout=DEADLINE_S))
    assert [field for field, _ in field_violations(error)] == ["channel_id"]


async def test_following_or_unfollowing_an_unknown_channel_is_not_found(stub: pb_grpc.UserServiceAsyncStub) -> None:
    bob = await register(stub, "Bob")
    await fails_with(grpc.StatusCode.NOT_FOUND, stub.Follow(follow(bob.user_id, new_id()), timeout=DEADLINE_S))
    await fails_with(grpc.StatusCode.NOT_FOUND, stub.Unfollow(unfollow(bob.user_id, new_id()), timeout=DEADLINE_S))


async def test_get_user_of_an_unknown_id_is_not_found(stub: pb_grpc.UserServiceAsyncStub) -> None:
    await fails_with(grpc.StatusCode.NOT_FOUND, stub.GetUser(pb.GetUserRequest(user_id=new_id()), timeout=DEADLINE_S))


async def test_batch_get_users_keeps_the_order_and_leaves_out_unknown_ids(stub: pb_grpc.UserServiceAsyncStub) -> None:
    ann, bob = await register(stub, "Ann"), await register(stub, "Bob")
    reply = await stub.BatchGetUsers(pb.BatchGetUsersRequest(user_ids=[bob.user_id, new_id(), ann.user_id]),
                                     timeout=DEADLINE_S)
    assert [user.user_id for user in reply.users] == [bob.user_id, ann.user_id]


async def test_batch_get_users_without_ids_is_invalid_argument(stub: pb_grpc.UserServiceAsyncStub) -> None:
    await fails_with(grpc.StatusCode.INVALID_ARGUMENT, stub.BatchGetUsers(pb.BatchGetUsersRequest(),
                                                                          timeout=DEADLINE_S))
