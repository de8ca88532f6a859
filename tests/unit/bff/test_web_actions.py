"""Web writes and the inbox: the actor from x-user-id, request ids, versions, error codes."""

from __future__ import annotations

import uuid

import grpc
import pytest
from vidmesh.webbff.v1 import web_bff_service_pb2 as web

from bff.web.actions import Actions
from bff.web.inbox import Inbox
from mesh import errors
from tests.unit.bff.fake_services import Fakes
from tests.unit.bff.fakes import deadlines

ACTOR = "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"
VIDEO = "6d1c1d36-5d43-4e0f-9a39-2a4f7e9f3b11"


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


def actions(fakes: Fakes) -> Actions:
    return Actions(fakes.downstreams, deadlines())


async def test_create_video_acts_as_the_signed_in_user(fakes: Fakes) -> None:
    created = await actions(fakes).create_video(ACTOR, web.CreateVideoRequest(
        title="Pasta", description="How", duration_seconds=90, tags=["food"], media_url="https://cdn.example/p.mp4"))
    assert created.version == 1 and created.video_id
    sent = fakes.video_command.calls[0].request
    assert (sent.actor_id, sent.title, sent.description, sent.duration_seconds, list(sent.tags), sent.media_url) == (
        ACTOR, "Pasta", "How", 90, ["food"], "https://cdn.example/p.mp4")
    assert str(uuid.UUID(sent.request_id)) == sent.request_id  # one made for the client


async def test_client_request_id_is_passed_on_for_retries(fakes: Fakes) -> None:
    request_id = str(uuid.uuid4())
    await actions(fakes).publish_video(ACTOR, web.PublishVideoRequest(
        request_id=request_id, video_id=VIDEO, expected_version=3))
    sent = fakes.video_command.calls[0].request
    assert (sent.request_id, sent.actor_id, sent.video_id, sent.expected_version) == (request_id, ACTOR, VIDEO, 3)


async def test_writes_return_the_new_version(fakes: Fakes) -> None:
    act = actions(fakes)
    published = await act.publish_video(ACTOR, web.PublishVideoRequest(video_id=VIDEO))
    liked = await act.like_video(ACTOR, web.LikeVideoRequest(video_id=VIDEO))
    commented = await act.add_comment(ACTOR, web.AddCommentRequest(video_id=VIDEO, body="Nice"))
    assert published.version < liked.version < commented.version
    assert liked.like_count == 1 and commented.comment_id
    assert [call.request.actor_id for call in fakes.video_command.calls] == [ACTOR] * 3


async def test_anonymous_view_has_no_actor(fakes: Fakes) -> None:
    viewed = await actions(fakes).record_view(None, web.RecordViewRequest(video_id=VIDEO))
    assert viewed.view_count == 1
    assert fakes.video_command.calls[0].request.actor_id == ""


async def test_follow_and_unfollow_copy_the_user_into_follower_id(fakes: Fakes) -> None:
    await actions(fakes).follow(ACTOR, web.FollowChannelRequest(user_id=VIDEO))
    await actions(fakes).unfollow(ACTOR, web.UnfollowChannelRequest(user_id=VIDEO))
    assert [(c.method, c.request.follower_id, c.request.channel_id) for c in fakes.users.calls] == [
        ("Follow", ACTOR, VIDEO), ("Unfollow", ACTOR, VIDEO)]


@pytest.mark.parametrize(("code", "error"), [
    (grpc.StatusCode.PERMISSION_DENIED, errors.PermissionDenied),
    (grpc.StatusCode.ABORTED, errors.Conflict),
    (grpc.StatusCode.NOT_FOUND, errors.NotFound),
    (grpc.StatusCode.FAILED_PRECONDITION, errors.FailedPrecondition),
    (grpc.StatusCode.UNAVAILABLE, errors.Unavailable),
])
async def test_command_errors_are_mapped(fakes: Fakes, code: grpc.StatusCode, error: type[Exception]) -> None:
    fakes.video_command.fail["PublishVideo"] = code
    with pytest.raises(error):
        await actions(fakes).publish_video(ACTOR, web.PublishVideoRequest(video_id=VIDEO, expected_version=1))


async def test_writes_get_the_write_budget(fakes: Fakes) -> None:
    await Actions(fakes.downstreams, deadlines(write_s=4.0)).unlike_video(ACTOR, web.UnlikeVideoRequest(video_id=VIDEO))
    assert fakes.video_command.calls[0].timeout == 4.0


async def test_inbox_lists_with_the_unread_count_and_marks_read(fakes: Fakes) -> None:
    fakes.notifications.inboxes.add(ACTOR, "first")
    fakes.notifications.inboxes.add(ACTOR, "second")
    inbox = Inbox(fakes.notifications, deadlines())
    listed = await inbox.list(ACTOR, web.ListNotificationsRequest(page_size=10))
    assert [entry.text for entry in listed.notifications] == ["second", "first"]
    assert listed.unread_count == 2
    marked = await inbox.mark_read(ACTOR, web.MarkNotificationsReadRequest(
        notification_ids=[listed.notifications[0].notification_id]))
    assert (marked.marked_count, marked.unread_count) == (1, 1)
    assert {call.request.user_id for call in fakes.notifications.calls} == {ACTOR}


async def test_inbox_without_notification_service_is_unavailable(fakes: Fakes) -> None:
    fakes.notifications.down = True
    with pytest.raises(errors.Unavailable, match="notifications"):
        await Inbox(fakes.notifications, deadlines()).list(ACTOR, web.ListNotificationsRequest())
