"""Read every read model the checker judges, straight from the services that serve them
(gRPC, with deadlines), and the mails from the sink's Maildir.

video-query: cards (state and counts), each owner's videos (drafts too) and the comments;
users: follower counts; notification: every user's notifications; email: what it sent;
recommendations, when the mesh has it: each video's co-liked videos and their scores.
A read that fails raises: while the system converges, the caller just reads again.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any, TypeVar

import grpc

from mesh import topology
from mesh.identity_files import IdentityFolder
from mesh.settings import ROOT, Settings
from mesh.xds.bootstrap import BOOTSTRAP_ENV, blocking_channel_to, use_identity
from scripts.chaos.observed import Card, Comment, Mail, Notice, Observed, Scope, Sent

sys.path.insert(0, str(ROOT / "gen" / "python"))  # the generated stubs (`make protos`)
from vidmesh.email.v1 import email_service_pb2 as email_pb
from vidmesh.email.v1 import email_service_pb2_grpc as email_grpc
from vidmesh.notification.v1 import notification_pb2
from vidmesh.notification.v1 import notification_service_pb2 as notification_pb
from vidmesh.notification.v1 import notification_service_pb2_grpc as notification_grpc
from vidmesh.recommendations.v1 import recommendations_service_pb2 as recommendations_pb
from vidmesh.recommendations.v1 import recommendations_service_pb2_grpc as recommendations_grpc
from vidmesh.users.v1 import users_service_pb2 as users_pb
from vidmesh.users.v1 import users_service_pb2_grpc as users_grpc
from vidmesh.video.v1 import video_query_service_pb2 as query_pb
from vidmesh.video.v1 import video_query_service_pb2_grpc as query_grpc

DEADLINE_S = 5.0
PAGE = 100
T = TypeVar("T")


def address(settings: Settings, service: str) -> str:
    """The first instance of a service (snake_case key), as the native stack binds it."""
    return f"{settings.instance_address(service, 0)}:{settings.instance_ports(service)[0]}"


def pages(call: Callable[[str], Any], items: Callable[[Any], list[T]]) -> Iterator[T]:
    """Every item of a paged list RPC: `call(page_token)` until the last page."""
    token = ""
    while True:
        answer = call(token)
        yield from items(answer)
        token = answer.next_page_token
        if not token:
            return


class Observer:
    """gRPC channels to the read models (over mutual TLS, as the stack's operator) and the
    Maildir, kept open across reads."""

    def __init__(self, settings: Settings, maildir: Path) -> None:
        names = {service.key: service.name for service in topology.SERVICES}
        # This process calls the stack as its operator until close() (a test session that also
        # calls another stack gets its own identity back then).
        self._bootstrap = os.environ.get(BOOTSTRAP_ENV)
        use_identity(f"{settings.host}:{settings.xds_port}", IdentityFolder(settings.operator_certs), node="chaos")
        self._channels = {key: blocking_channel_to(names[key], address(settings, key))
                          for key in ("video_query", "users", "notification", "email", "recommendations")
                          if key in names}
        self.query = query_grpc.VideoQueryServiceStub(self._channels["video_query"])
        self.users = users_grpc.UserServiceStub(self._channels["users"])
        self.notifications = notification_grpc.NotificationServiceStub(self._channels["notification"])
        self.emails = email_grpc.EmailServiceStub(self._channels["email"])
        recommending = self._channels.get("recommendations")
        self.recommendations = recommendations_grpc.RecommendationServiceStub(recommending) if recommending else None
        self.maildir = Maildir(maildir)

    def close(self) -> None:
        """Close every channel; this process's identity is the one it had before."""
        for channel in self._channels.values():
            channel.close()
        if self._bootstrap is None:
            os.environ.pop(BOOTSTRAP_ENV, None)
        else:
            os.environ[BOOTSTRAP_ENV] = self._bootstrap

    def read(self, scope: Scope) -> Observed:
        """Everything in `scope`, read now."""
        seen = Observed(scope=scope, mails=self.maildir.mails(), related={} if self.recommendations else None)
        for video in scope.videos:
            self._video(video, seen)
            self._related(video, seen)
        for owner in scope.owners:
            seen.titles[owner] = [card.title for card in self._channel_videos(owner)]
        for user in scope.users:
            self._user(user, seen)
        return seen

    def _video(self, video_id: str, seen: Observed) -> None:
        try:
            card = self.query.GetVideo(query_pb.GetVideoRequest(video_id=video_id), timeout=DEADLINE_S).video
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return
            raise
        seen.cards[video_id] = Card(video_id=video_id, owner_id=card.owner_id, title=card.title,
                                    published=card.state == query_pb.VIDEO_STATE_PUBLISHED, views=card.view_count,
                                    likes=card.like_count, comments=card.comment_count)
        seen.comments[video_id] = [Comment(author_id=c.author_id, body=c.body) for c in pages(
            lambda t: self.query.ListComments(query_pb.ListCommentsRequest(video_id=video_id, page_size=PAGE,
                                                                           page_token=t), timeout=DEADLINE_S),
            lambda answer: list(answer.comments))]

    def _related(self, video_id: str, seen: Observed) -> None:
        if self.recommendations is None or seen.related is None:
            return
        stub = self.recommendations
        seen.related[video_id] = {v.video_id: v.score for v in pages(
            lambda t: stub.ListRelatedVideos(recommendations_pb.ListRelatedVideosRequest(
                video_id=video_id, page_size=PAGE, page_token=t), timeout=DEADLINE_S),
            lambda answer: list(answer.videos)) if v.reason == recommendations_pb.REASON_CO_LIKED}

    def _channel_videos(self, owner: str) -> Iterator[query_pb.VideoCard]:
        return pages(lambda t: self.query.ListChannelVideos(query_pb.ListChannelVideosRequest(
            channel_id=owner, page_size=PAGE, page_token=t, include_drafts=True), timeout=DEADLINE_S),
            lambda answer: list(answer.videos))

    def _user(self, user_id: str, seen: Observed) -> None:
        user = self.users.GetUser(users_pb.GetUserRequest(user_id=user_id), timeout=DEADLINE_S).user
        seen.followers[user_id] = user.follower_count
        seen.notices[user_id] = [Notice(
            notification_id=n.notification_id, kind=notification_pb2.NotificationKind.Name(n.kind).removeprefix(
                "NOTIFICATION_KIND_"), video_id=n.video_id, actor_id=n.actor_id, read=n.read) for n in pages(
            lambda t: self.notifications.ListNotifications(notification_pb.ListNotificationsRequest(
                user_id=user_id, page_size=PAGE, page_token=t), timeout=DEADLINE_S),
            lambda answer: list(answer.notifications))]
        seen.sent[user_id] = [Sent(kind=email_pb.EmailKind.Name(e.kind).removeprefix("EMAIL_KIND_"),
                                   subject=e.subject, body=e.body) for e in pages(
            lambda t: self.emails.ListSentEmails(email_pb.ListSentEmailsRequest(
                recipient_id=user_id, page_size=PAGE, page_token=t), timeout=DEADLINE_S),
            lambda answer: list(answer.emails))]


class Maildir:
    """The sink's Maildir, each file's headers parsed once however often it is read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._parsed: dict[str, Mail] = {}

    def mails(self) -> list[Mail]:
        """Every message delivered so far."""
        parser = BytesHeaderParser()
        for sub in ("new", "cur"):
            for path in sorted((self.folder / sub).glob("*")) if (self.folder / sub).exists() else ():
                if path.name not in self._parsed:
                    headers = parser.parsebytes(path.read_bytes())
                    self._parsed[path.name] = Mail(to=str(headers.get("To", "")),
                                                   subject=str(headers.get("Subject", "")),
                                                   message_id=str(headers.get("Message-ID", "")))
        return list(self._parsed.values())
