"""Every check of the kit, how to run it against a breaker instance, and the rules that break it."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from mesh import topology
from tests.conformance.kit.checks import (
    configuration,
    errors,
    events,
    health,
    identity,
    metrics,
    readiness,
    registration,
    request_ids,
    shutdown,
    traces,
)
from tests.conformance.kit.consul import Consul
from tests.conformance.kit.kafka import Kafka
from tests.conformance.kit.owns import OwnInstances

_VIDEO_COMMAND, _VIDEO_QUERY = "vidmesh.video.v1.VideoCommandService", "vidmesh.video.v1.VideoQueryService"

# The breaker as the topology would list it: its samples are video-command's and video-query's.
BREAKER = topology.Service(
    name="kit-breaker", command=topology.python("tests.conformance.breaker"), consumes=(topology.VIDEO_EVENTS,),
    request_ids=True, samples=topology.Samples(
        write=topology.Write(
            method=f"{_VIDEO_COMMAND}/CreateVideo",
            request='{"request_id": "$request", "actor_id": "$actor", "title": "Kit", "duration_seconds": 1}',
            other_body='{"request_id": "$request", "actor_id": "$actor", "title": "Kit again", "duration_seconds": 1}'),
        waits=topology.Call(method=f"{_VIDEO_QUERY}/GetVideo", request='{"video_id": "$video", "min_version": 1}'),
        event=topology.Event(
            topic=topology.VIDEO_EVENTS, type="vidmesh.video.v1.VideoPublished", key="$video",
            payload='{"video_id": "$video", "owner_id": "$owner", "version": 2, "title": "Kit"}',
            shows=topology.Call(method=f"{_VIDEO_QUERY}/GetVideo", request='{"video_id": "$video"}'),
            needs=(topology.Publish(
                topic=topology.VIDEO_EVENTS, type="vidmesh.video.v1.VideoCreated", key="$video",
                payload='{"video_id": "$video", "owner_id": "$owner", "version": 1, "title": "Kit"}'),))))
EVENT_WAIT_S = 10.0  # the breaker consumes within a second or two; a real service gets 30 s


@dataclass(frozen=True)
class Case:
    """One check: how to run it on the breaker, and each rule that must fail it with the
    MESH.md section the failure must name."""

    run: Callable[[OwnInstances, Consul, Kafka], Awaitable[None]]
    broken_by: dict[str, str]


def case(run: Callable[[OwnInstances, Consul, Kafka], Awaitable[None]], section: str, *rules: str) -> Case:
    """A check whose breaking rules all fail it in one section."""
    return Case(run, dict.fromkeys(rules, section))


async def _configuration(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    await configuration.check_bad_setting_stops_it(owns.spare())


async def _health(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    own, api = await owns.running()
    await health.check_health(own.target, api)


async def _readiness(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    await readiness.check_ready_without_kafka(owns)


async def _reflection(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    own, api = await owns.running()
    health.check_reflection(own.target, api, (own.target.record.service.get("Meta") or {}).get("proto_package", ""))


async def _record(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    own, api = await owns.running()
    await registration.check_record(own.target, api, consul)


async def _registers_again(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    own, _ = await owns.running()
    await registration.check_registers_again(own.target, consul)


async def _bad_request(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    own, api = await owns.running()
    await errors.check_bad_request(own.target, api)


async def _strings(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    own, api = await owns.running()
    await errors.check_strings(own.target, api)


async def _replays(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    own, api = await owns.running()
    await request_ids.check_replays(own.target, api)


async def _access_log(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    await traces.check_access_log(*await owns.running())


async def _deadline(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    await traces.check_deadline(*await owns.running())


async def _events(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    own, api = await owns.running()
    await events.check_poison_then_good(own, api, kafka, wait_s=EVENT_WAIT_S)


async def _identity(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    own, _ = await owns.running()
    await asyncio.to_thread(identity.check_refuses_plaintext, own.target, owns.settings)
    folder = Path(tempfile.mkdtemp(prefix="kit-stranger-"))
    try:
        await asyncio.to_thread(identity.check_refuses_a_caller_no_intention_allows, own.target, owns.settings,
                                folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _metrics(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    own, api = await owns.running()
    await metrics.check_metrics(own.target, api)


async def _sigterm(owns: OwnInstances, consul: Consul, kafka: Kafka) -> None:
    own, api = await owns.running()
    await shutdown.check_sigterm(own, api, consul)


# In the order the contract runs them: SIGTERM last, since it ends the instance.
CASES: dict[str, Case] = {
    "configuration": case(_configuration, configuration.SECTION, "ignores-bad-setting"),
    "health": case(_health, "§3 Health", "api-not-serving", "unknown-is-serving"),
    "readiness": Case(_readiness, {"needs-kafka": readiness.SECTION, "slow-exit-without-kafka": shutdown.SECTION}),
    "reflection": case(_reflection, "§4 Reflection", "no-health-in-reflection"),
    "registration": case(_record, registration.SECTION, "id-format", "no-version-tag", "no-proto-package",
                         "name-as-address", "check-on-server", "slow-check"),
    "registers-again": case(_registers_again, registration.SECTION, "no-reregister"),
    "errors": case(_bad_request, errors.SECTION, "no-bad-request", "internal-on-bad-request"),
    "strings": case(_strings, errors.SECTION, "nul-is-internal", "undecodable-is-internal"),
    "request-ids": case(_replays, request_ids.SECTION, "replay-applies-again", "replay-ignores-body"),
    "logs": case(_access_log, traces.LOGS, "new-trace-id"),
    "deadlines": case(_deadline, traces.DEADLINES, "ignores-deadline"),
    "events": case(_events, events.SECTION, "ignores-prefix", "skips-poison", "dlq-without-offset",
                   "stops-at-poison"),
    "identity": case(_identity, identity.SECTION, "plaintext-api", "allows-everyone"),
    "metrics": case(_metrics, metrics.SECTION, "no-metrics-port", "uncounted-calls"),
    "shutdown": case(_sigterm, shutdown.SECTION, "serving-until-exit", "leaves-before-not-serving",
                     "stays-registered", "no-drain", "drops-in-flight", "slow-exit"),
}
