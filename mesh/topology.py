"""The mesh in one table: every service, what it owns, the topics it writes and reads, whom it calls.

Everything that names a service, a settings key, a database, a role, a topic or an edge of
the call graph derives from here: the native stack (scripts/devstack), Compose's `.env`
(scripts/compose_env.py), the databases and roles (mesh/dbbootstrap.py), the BFFs' upstreams,
the topics each process ensures and the conformance kit's checks (tests/conformance). Adding
a service is one entry below plus its package (`make new-service NAME=...` writes both) and
its port and instance count in settings.env.

`samples` are the requests the conformance kit sends a service, and which of its checks
apply follows from them and from the entry (never from a skip): a service marked
`request_ids` needs a `write` (the kit replays it, then sends the same id with `other_body`),
one that `consumes` needs an `event` (the kit puts a poison record before it and watches the
event take effect: its `shows` call must answer differently once the event is applied, and
not before, whatever its `needs` do), and a `waits` call is what the deadline and in-flight
shutdown checks use.
Requests are proto3 JSON; `$name` in them stands for a fresh UUID per run, the same UUID
for the same name across one sample, so a run never collides with an earlier one.

Standard library only: `make deps` reads it (through mesh/settings.py) before any venv exists.
"""

from __future__ import annotations

from dataclasses import dataclass

# Event topics, one per bounded context that publishes; keyed by aggregate id, so one
# aggregate's events stay in order in one partition.
USERS_EVENTS = "users.v1.events"
VIDEO_EVENTS = "video.v1.events"
NOTIFICATION_EVENTS = "notification.v1.events"
EVENT_TOPICS = (USERS_EVENTS, VIDEO_EVENTS, NOTIFICATION_EVENTS)
EVENT_PARTITIONS = 3

# The two processes of the mesh that are not services in the table: the xDS control plane
# and the edge gateway (Envoy). They have identities too (who may call whom).
CONTROL_PLANE = "xds"
GATEWAY = "gateway"


@dataclass(frozen=True, kw_only=True)
class Database:
    """A service's own data: its database, the login role it connects as, the schema it owns."""

    name: str
    role: str
    schema: str


@dataclass(frozen=True, kw_only=True)
class Call:
    """One gRPC request: the full method name (`vidmesh.video.v1.VideoQueryService/GetVideo`)
    and the request in proto3 JSON."""

    method: str
    request: str


@dataclass(frozen=True, kw_only=True)
class Write(Call):
    """A mutating call that takes a request_id, and the same request_id with another body."""

    other_body: str


@dataclass(frozen=True, kw_only=True)
class Publish:
    """An event to put on a topic: its payload type and payload (proto3 JSON), and the
    aggregate id it is keyed by."""

    topic: str
    type: str  # the payload's full message name, e.g. vidmesh.video.v1.VideoCreated
    payload: str
    key: str


@dataclass(frozen=True, kw_only=True)
class Event(Publish):
    """An event a consumer applies, a call whose answer changes once it is applied, and the
    events it needs applied first (published before it, in order)."""

    shows: Call
    needs: tuple[Publish, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Samples:
    """The requests the conformance kit sends (see the module docstring)."""

    write: Write | None = None  # required when the service is marked request_ids
    waits: Call | None = None  # a call that waits (e.g. for a version) until its deadline ends it
    event: Event | None = None  # required when the service consumes


@dataclass(frozen=True, kw_only=True)
class Service:
    """One service of the mesh, as every tool that starts, wires or checks it sees it."""

    name: str  # the Consul name, kebab-case; also its consumer group and log `service`
    command: tuple[str, ...]  # one instance, run from the repository root
    database: Database | None = None
    produces: tuple[str, ...] = ()  # topics it writes (through its outbox)
    consumes: tuple[str, ...] = ()  # topics it reads (through its inbox)
    calls: tuple[str, ...] = ()  # services it calls
    edge: bool = False  # the gateway routes to it (the BFFs, users' public RPCs)
    request_ids: bool = False  # its mutating RPCs take a request_id and replay the first answer
    sends_mail: bool = False  # it needs the SMTP server
    samples: Samples = Samples()  # what the conformance kit sends it

    @property
    def key(self) -> str:
        """The snake_case part of its settings: VIDMESH_<KEY>_PORT, VIDMESH_<KEY>_INSTANCES."""
        return self.name.replace("-", "_")

    @property
    def port_setting(self) -> str:
        """The settings key of its first instance's gRPC port."""
        return f"VIDMESH_{self.key.upper()}_PORT"

    @property
    def instances_setting(self) -> str:
        """The settings key of how many instances the stacks start."""
        return f"VIDMESH_{self.key.upper()}_INSTANCES"


def python(module: str) -> tuple[str, ...]:
    """The command of a Python service: `python -m <module>`."""
    return ("python", "-m", module)


def _db(name: str, role: str, schema: str | None = None) -> Database:
    return Database(name=name, role=role, schema=schema or name)


DOMAIN = ("users", "video-command", "video-query", "notification", "recommendations")

_USERS, _VIDEO_COMMAND = "vidmesh.users.v1.UserService", "vidmesh.video.v1.VideoCommandService"
_VIDEO_QUERY, _NOTIFICATION = "vidmesh.video.v1.VideoQueryService", "vidmesh.notification.v1.NotificationService"
_EMAIL, _RECOMMENDATIONS = "vidmesh.email.v1.EmailService", "vidmesh.recommendations.v1.RecommendationService"

SERVICES: tuple[Service, ...] = (
    Service(name="users", command=python("services.users"), database=_db("users", "users"),
            produces=(USERS_EVENTS,), edge=True, request_ids=True, samples=Samples(
                write=Write(method=f"{_USERS}/Register",
                            request='{"request_id": "$request", "email": "kit-$user@example.test", '
                                    '"password": "kit password 1", "display_name": "Kit"}',
                            other_body='{"request_id": "$request", "email": "kit-$user@example.test", '
                                       '"password": "kit password 1", "display_name": "Kit again"}'))),
    Service(name="video-command", command=python("services.video_command"),
            database=_db("video", "video_command", "video_write"), produces=(VIDEO_EVENTS,), request_ids=True,
            samples=Samples(write=Write(
                method=f"{_VIDEO_COMMAND}/CreateVideo",
                request='{"request_id": "$request", "actor_id": "$actor", "title": "Kit", "duration_seconds": 1}',
                other_body='{"request_id": "$request", "actor_id": "$actor", "title": "Kit again", '
                           '"duration_seconds": 1}'))),
    Service(name="video-query", command=python("services.video_query"),
            database=_db("video", "video_query", "video_read"), consumes=(VIDEO_EVENTS, USERS_EVENTS),
            samples=Samples(
                waits=Call(method=f"{_VIDEO_QUERY}/GetVideo", request='{"video_id": "$video", "min_version": 1}'),
                event=Event(topic=VIDEO_EVENTS, type="vidmesh.video.v1.VideoCreated", key="$video",
                            payload='{"video_id": "$video", "owner_id": "$owner", "version": 1, "title": "Kit", '
                                    '"duration_seconds": 1}',
                            shows=Call(method=f"{_VIDEO_QUERY}/GetVideo",
                                       request='{"video_id": "$video", "viewer_id": "$owner"}')))),
    Service(name="notification", command=python("services.notification"),
            database=_db("notification", "notification"), produces=(NOTIFICATION_EVENTS,),
            consumes=(VIDEO_EVENTS, USERS_EVENTS), request_ids=True, samples=Samples(
                write=Write(method=f"{_NOTIFICATION}/MarkRead",
                            request='{"request_id": "$request", "user_id": "$user", "all": true}',
                            other_body='{"request_id": "$request", "user_id": "$other", "all": true}'),
                event=Event(topic=VIDEO_EVENTS, type="vidmesh.video.v1.CommentAdded", key="$video",
                            payload='{"video_id": "$video", "owner_id": "$owner", "version": 2, '
                                    '"comment_id": "$comment", "author_id": "$author", "body": "Kit", '
                                    '"comment_count": 1, "title": "Kit"}',
                            shows=Call(method=f"{_NOTIFICATION}/UnreadCount", request='{"user_id": "$owner"}')))),
    Service(name="email", command=python("services.email"), database=_db("email", "email"),
            consumes=(USERS_EVENTS, NOTIFICATION_EVENTS), sends_mail=True, samples=Samples(
                event=Event(topic=USERS_EVENTS, type="vidmesh.users.v1.UserRegistered", key="$user",
                            payload='{"user_id": "$user", "email": "kit-$user@example.test", "display_name": "Kit"}',
                            shows=Call(method=f"{_EMAIL}/ListSentEmails", request='{"recipient_id": "$user"}')))),
    Service(name="web-bff", command=python("bff.web"), calls=DOMAIN, edge=True, samples=Samples(
        waits=Call(method="vidmesh.webbff.v1.WebBffService/GetVideoPage",
                   request='{"video_id": "$video", "min_version": 1}'))),
    Service(name="mobile-bff", command=python("bff.mobile"), calls=DOMAIN, edge=True, samples=Samples(
        waits=Call(method="vidmesh.mobilebff.v1.MobileBffService/GetVideo",
                   request='{"video_id": "$video", "min_version": 1}'))),
    # Written in Go (services/recommendations, on gomesh/); `make codegen` builds the binary.
    Service(name="recommendations", command=("gen/bin/recommendations",),
            database=_db("recommendations", "recommendations"), consumes=(VIDEO_EVENTS, USERS_EVENTS),
            samples=Samples(event=Event(
                topic=VIDEO_EVENTS, type="vidmesh.video.v1.VideoPublished", key="$video",
                payload='{"video_id": "$video", "owner_id": "$channel", "version": 2, "title": "Kit"}',
                shows=Call(method=f"{_RECOMMENDATIONS}/ListForUser", request='{"user_id": "$user"}'),
                needs=(Publish(topic=USERS_EVENTS, type="vidmesh.users.v1.UserFollowed", key="$channel",
                               payload='{"follower_id": "$user", "channel_id": "$channel", "follower_count": 1}'),
                       Publish(topic=VIDEO_EVENTS, type="vidmesh.video.v1.VideoCreated", key="$video",
                               payload='{"video_id": "$video", "owner_id": "$channel", "version": 1, '
                                       '"title": "Kit", "duration_seconds": 1}'))))),
    # `make new-service NAME=...` adds its entries above this line.
)


class UnknownService(KeyError):
    """A name that is not in the table; the message lists the ones that are."""


def service(name: str) -> Service:
    """The entry of `name` (Consul name or settings key: `video-query`, `video_query`)."""
    for entry in SERVICES:
        if name in (entry.name, entry.key):
            return entry
    raise UnknownService(f"no service {name!r} in mesh/topology.py; known: {', '.join(s.name for s in SERVICES)}")


def databases() -> dict[str, Database]:
    """Every service role's database, by role."""
    return {entry.database.role: entry.database for entry in SERVICES if entry.database}


def callers_of(name: str) -> list[str]:
    """Who may call `name`: the services that list it, and the gateway when it is at the edge."""
    callers = [entry.name for entry in SERVICES if name in entry.calls]
    return [GATEWAY, *callers] if service(name).edge else callers
