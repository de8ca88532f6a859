"""Follow, Unfollow and the profile reads through the handlers, with in-memory storage."""

from __future__ import annotations

import uuid

import pytest

from mesh.errors import InvalidArgument, NotFound
from services.users import domain, handlers
from services.users.handlers import Deps, Follow, Register, Unfollow
from tests.unit.users.fakes import State


async def user(deps: Deps, name: str) -> str:
    return await handlers.register(Register("", f"{name}-{uuid.uuid4().hex[:6]}@example.com", "hunter22x", name), deps)


def rid() -> str:
    return str(uuid.uuid4())


async def test_following_counts_the_follower_and_announces_it_keyed_by_channel(deps: Deps, state: State) -> None:
    ann, bob = await user(deps, "Ann"), await user(deps, "Bob")
    state.events.clear()
    assert await handlers.follow(Follow(rid(), bob, ann), deps) == 1
    assert state.events == [domain.UserFollowed(bob, ann, "Bob", 1)]
    assert state.events[0].aggregate_id == ann


async def test_following_twice_changes_nothing_and_answers_the_same(deps: Deps, state: State) -> None:
    ann, bob = await user(deps, "Ann"), await user(deps, "Bob")
    state.events.clear()
    assert await handlers.follow(Follow(rid(), bob, ann), deps) == 1
    assert await handlers.follow(Follow(rid(), bob, ann), deps) == 1
    assert len(state.events) == 1


async def test_a_replayed_follow_returns_the_first_answer_even_after_later_changes(deps: Deps, state: State) -> None:
    ann, bob, cat = await user(deps, "Ann"), await user(deps, "Bob"), await user(deps, "Cat")
    first = Follow(rid(), bob, ann)
    assert await handlers.follow(first, deps) == 1
    assert await handlers.follow(Follow(rid(), cat, ann), deps) == 2
    assert await handlers.follow(first, deps) == 1
    assert state.followers[ann] == 2


async def test_a_request_id_reused_for_another_channel_is_invalid(deps: Deps) -> None:
    ann, bob, cat = await user(deps, "Ann"), await user(deps, "Bob"), await user(deps, "Cat")
    request_id = rid()
    await handlers.follow(Follow(request_id, bob, ann), deps)
    with pytest.raises(InvalidArgument, match=r"request_id\.reused"):
        await handlers.follow(Follow(request_id, bob, cat), deps)


async def test_a_follows_request_id_replayed_to_unfollow_is_invalid_and_unfollows_nothing(
        deps: Deps, state: State) -> None:
    ann, bob = await user(deps, "Ann"), await user(deps, "Bob")
    request_id = rid()
    await handlers.follow(Follow(request_id, bob, ann), deps)
    with pytest.raises(InvalidArgument) as caught:
        await handlers.unfollow(Unfollow(request_id, bob, ann), deps)
    assert [v.field for v in caught.value.violations] == ["request_id"]
    assert (bob, ann) in state.follows and state.followers[ann] == 1


async def test_following_yourself_is_invalid_and_changes_nothing(deps: Deps, state: State) -> None:
    ann = await user(deps, "Ann")
    with pytest.raises(InvalidArgument, match=r"follow\.not_self"):
        await handlers.follow(Follow(rid(), ann, ann), deps)
    assert state.follows == set()


async def test_following_an_unknown_channel_is_not_found(deps: Deps, state: State) -> None:
    bob, request_id = await user(deps, "Bob"), rid()
    with pytest.raises(NotFound, match="channel"):
        await handlers.follow(Follow(request_id, bob, str(uuid.uuid4())), deps)
    assert request_id not in state.requests


async def test_unfollowing_uncounts_and_announces_once(deps: Deps, state: State) -> None:
    ann, bob = await user(deps, "Ann"), await user(deps, "Bob")
    await handlers.follow(Follow(rid(), bob, ann), deps)
    state.events.clear()
    assert await handlers.unfollow(Unfollow(rid(), bob, ann), deps) == 0
    assert await handlers.unfollow(Unfollow(rid(), bob, ann), deps) == 0
    assert state.events == [domain.UserUnfollowed(bob, ann, 0)]


async def test_unfollowing_an_unknown_channel_is_not_found(deps: Deps) -> None:
    bob = await user(deps, "Bob")
    with pytest.raises(NotFound):
        await handlers.unfollow(Unfollow(rid(), bob, str(uuid.uuid4())), deps)


async def test_get_user_tells_whether_the_viewer_follows(deps: Deps) -> None:
    ann, bob, cat = await user(deps, "Ann"), await user(deps, "Bob"), await user(deps, "Cat")
    await handlers.follow(Follow(rid(), bob, ann), deps)
    profile, follows = await handlers.get_user(ann, bob, deps)
    assert (profile.display_name, profile.follower_count, follows) == ("Ann", 1, True)
    assert (await handlers.get_user(ann, cat, deps))[1] is False
    assert (await handlers.get_user(ann, "", deps))[1] is False
    with pytest.raises(NotFound):
        await handlers.get_user(str(uuid.uuid4()), "", deps)


async def test_batch_get_keeps_the_order_asked_and_leaves_out_unknown_ids(deps: Deps) -> None:
    ann, bob = await user(deps, "Ann"), await user(deps, "Bob")
    profiles = await handlers.batch_get_users([bob, str(uuid.uuid4()), ann], deps)
    assert [p.display_name for p in profiles] == ["Bob", "Ann"]
