"""A small gRPC service that follows MESH.md, or breaks exactly one rule of it when told to.

    KIT_BREAKS=no-bad-request python -m tests.conformance.breaker

The conformance kit's own tests (tests/conformance/selftest) run each check against it twice:
conforming (the check must pass) and breaking the rule the check is about (it must fail). It
is deliberately not built on mesh/: grpcio, Consul's HTTP API and confluent-kafka only, so
no rule-breaking switch ever reaches the runtime the real services run on.

It serves vidmesh.video.v1's VideoCommandService (CreateVideo, with request ids) and
VideoQueryService (GetVideo, which waits for `min_version`), keeps videos in memory and
consumes `<prefix>video.v1.events` (VideoCreated) with a dead-letter topic. Every rule it can
break is in BREAKS, with what it then does.
"""

from __future__ import annotations

BREAKS = {
    "ignores-bad-setting": "a malformed VIDMESH_GRPC_PORT is taken as 0",
    "api-not-serving": "its API's services say NOT_SERVING (the server says SERVING)",
    "needs-kafka": "says SERVING only once Kafka answers (and exits if it never does)",
    "slow-exit-without-kafka": "exits drain + grace + 5 s after SIGTERM when it never reached Kafka",
    "unknown-is-serving": "Health/Check of an unknown service says SERVING",
    "no-health-in-reflection": "reflection does not list grpc.health.v1.Health",
    "id-format": "registers as <name>-<port>",
    "no-version-tag": "registers without the v<version> tag",
    "no-proto-package": "registers without the proto_package metadata",
    "name-as-address": "registers a host name (localhost), not an IP, as its address",
    "check-on-server": "its Consul check asks about the server (\"\"), not its API's service",
    "slow-check": "its Consul check runs every 10 s",
    "no-reregister": "never registers again once the agent forgot it",
    "no-bad-request": "a broken rule is INVALID_ARGUMENT without a google.rpc.BadRequest",
    "internal-on-bad-request": "a broken rule is INTERNAL",
    "nul-is-internal": "a NUL in a string field is INTERNAL, as the database refusing it would make it",
    "undecodable-is-internal": "a string field that is not UTF-8 is what grpc makes of a parser's exception",
    "ignores-deadline": "a waiting GetVideo waits its 2 s whatever the deadline, and logs how it ended then",
    "replay-applies-again": "a replayed request_id creates another video",
    "replay-ignores-body": "the same request_id with another body replays the first answer",
    "new-trace-id": "logs each call under a trace id of its own, not the caller's",
    "ignores-prefix": "consumes video.v1.events itself (harmless here: it only reads), not its prefixed topic",
    "skips-poison": "drops a poison record without dead-lettering it",
    "dlq-without-offset": "dead-letters without the dlq.offset header",
    "stops-at-poison": "its consumer stops once it has dead-lettered a poison record",
    "serving-until-exit": "never says NOT_SERVING on SIGTERM",
    "leaves-before-not-serving": "on SIGTERM leaves Consul, drains, and only then says NOT_SERVING",
    "stays-registered": "does not deregister on SIGTERM",
    "no-drain": "stops answering at once on SIGTERM",
    "drops-in-flight": "drains, then cancels the calls in flight",
    "slow-exit": "exits drain + grace + 5 s after SIGTERM",
    "plaintext-api": "serves its API in plaintext to anyone, without an identity",
    "allows-everyone": "answers any caller with a certificate of the mesh's CA, whatever the intentions say",
    "no-metrics-port": "serves /metrics but registers no metrics_port, so Prometheus cannot find it",
    "uncounted-calls": "serves /metrics, but counts no call in grpc_server_handled_total",
}
