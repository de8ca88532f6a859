"""The mesh in one table: every service, what it owns, the topics it writes and reads, whom it calls.

Everything that names a service, a settings key, a database, a role, a topic or an edge of
the call graph derives from here: the native stack (scripts/devstack), Compose's `.env`
(scripts/compose_env.py), the databases and roles (mesh/dbbootstrap.py), the BFFs' upstreams,
the topics each process ensures and the conformance kit's checks (tests/conformance). Adding
a service is one entry below plus its package (`make new-service NAME=...` writes both) and
its port and instance count in settings.env.

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

SERVICES: tuple[Service, ...] = (
    Service(name="users", command=python("services.users"), database=_db("users", "users"),
            produces=(USERS_EVENTS,), edge=True, request_ids=True),
    Service(name="video-command", command=python("services.video_command"),
            database=_db("video", "video_command", "video_write"), produces=(VIDEO_EVENTS,), request_ids=True),
    Service(name="video-query", command=python("services.video_query"),
            database=_db("video", "video_query", "video_read"), consumes=(VIDEO_EVENTS, USERS_EVENTS)),
    Service(name="notification", command=python("services.notification"),
            database=_db("notification", "notification"), produces=(NOTIFICATION_EVENTS,),
            consumes=(VIDEO_EVENTS, USERS_EVENTS), request_ids=True),
    Service(name="email", command=python("services.email"), database=_db("email", "email"),
            consumes=(USERS_EVENTS, NOTIFICATION_EVENTS), sends_mail=True),
    Service(name="web-bff", command=python("bff.web"), calls=DOMAIN, edge=True),
    Service(name="mobile-bff", command=python("bff.mobile"), calls=DOMAIN, edge=True),
    # Written in Go (services/recommendations, on gomesh/); `make codegen` builds the binary.
    Service(name="recommendations", command=("gen/bin/recommendations",),
            database=_db("recommendations", "recommendations"), consumes=(VIDEO_EVENTS, USERS_EVENTS)),
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
