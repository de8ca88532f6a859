"""Traces with OpenTelemetry: one provider per process, set up by the runtime (mesh/runtime.py).

What makes a span, everywhere in mesh/ (MESH.md section 11 says why):
- a server span per RPC (mesh/interceptors.py) and a client span per outgoing call
  (mesh/calls.py), continuing the W3C `traceparent` they receive and sending their own;
- a span per Postgres statement (the psycopg instrumentation) inside a request or an event;
- the outbox write (mesh/outbox.py), the relay's publish of that row and each consumer's
  processing of it (mesh/consumer.py), all in the trace of the request that wrote the row,
  whose context travels in the event envelope's `traceparent`.

Settings: the standard OTEL_EXPORTER_OTLP_ENDPOINT (http://127.0.0.1:4317, OTLP over gRPC)
and OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (parentbased_always_on), plus
VIDMESH_TRACING=false, which records and exports nothing while ids are still made and passed
on (log lines keep a trace id, a caller's trace goes on downstream).

A span only starts a trace at a server or a consumer: a statement or a call made outside any
request (health checks, the relay's polling, retention) records nothing, so Jaeger holds the
stories of requests and events, not of housekeeping.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_INSTANCE_ID, SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes, AttributeValue

from mesh.config import ConfigError

if TYPE_CHECKING:  # the generated code: mesh.log imports this, and tools that log run without gen/
    from vidmesh.events.v1.envelope_pb2 import EventEnvelope

TRACER_NAME = "vidmesh"
SHUTDOWN_FLUSH_MS = 1000  # spans not exported by then are dropped: a stop never waits on Jaeger
SHUTDOWN_S = 1.5
EXPORT_TIMEOUT_S = 2.0  # per export: a batch Jaeger does not take in time is dropped, not queued forever
_propagator = TraceContextTextMapPropagator()
SAMPLERS: dict[str, Callable[[float], Sampler]] = {
    "always_on": lambda ratio: ALWAYS_ON,
    "always_off": lambda ratio: ALWAYS_OFF,
    "traceidratio": TraceIdRatioBased,
    "parentbased_always_on": lambda ratio: ParentBased(ALWAYS_ON),
    "parentbased_always_off": lambda ratio: ParentBased(ALWAYS_OFF),
    "parentbased_traceidratio": lambda ratio: ParentBased(TraceIdRatioBased(ratio)),
}


class TracesStartAtServers(Sampler):
    """Drops a span that would begin a trace unless it serves an RPC or an event; the rest is
    `inner`'s decision."""

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str,
                      kind: SpanKind | None = None, attributes: Attributes = None,
                      links: Sequence[Link] | None = None, trace_state: TraceState | None = None) -> SamplingResult:
        """DROP for a root span that is neither SERVER nor CONSUMER."""
        parent = trace.get_current_span(parent_context).get_span_context()
        if not parent.is_valid and kind not in (SpanKind.SERVER, SpanKind.CONSUMER):
            return SamplingResult(Decision.DROP)
        return self.inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        """How Jaeger-style tools name this sampler."""
        return f"TracesStartAtServers{{{self.inner.get_description()}}}"


@dataclass(frozen=True)
class TracingSettings:
    """Where spans go and which are kept."""

    enabled: bool
    endpoint: str
    sampler: Sampler


def settings(environ: Mapping[str, str] | None = None) -> TracingSettings:
    """Read VIDMESH_TRACING and the OTEL_* variables; ConfigError names a bad one."""
    env = os.environ if environ is None else environ
    switch = env.get("VIDMESH_TRACING", "true").strip().lower()
    if switch not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"VIDMESH_TRACING={switch!r} is not true or false")
    name = env.get("OTEL_TRACES_SAMPLER", "parentbased_always_on").strip().lower()
    if name not in SAMPLERS:
        raise ConfigError(f"OTEL_TRACES_SAMPLER={name!r} is not one of {', '.join(SAMPLERS)}")
    raw_ratio = env.get("OTEL_TRACES_SAMPLER_ARG", "").strip() or "1.0"
    try:
        ratio = float(raw_ratio)
    except ValueError:
        raise ConfigError(f"OTEL_TRACES_SAMPLER_ARG={raw_ratio!r} is not a number between 0 and 1") from None
    if not 0.0 <= ratio <= 1.0:
        raise ConfigError(f"OTEL_TRACES_SAMPLER_ARG={raw_ratio!r} is not a number between 0 and 1")
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip() or \
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or "http://127.0.0.1:4317"
    return TracingSettings(enabled=switch in ("true", "1", "yes"), endpoint=endpoint,
                           sampler=SAMPLERS[name](ratio))


class _Tracing:
    """The process's provider and tracer."""

    provider: TracerProvider | None = None
    tracer: trace.Tracer | None = None
    configured = False


def configure(service_name: str, instance_id: str, environ: Mapping[str, str] | None = None, *,
              processor: SpanProcessor | None = None) -> TracerProvider:
    """Set up tracing for this process as `service_name` (the topology name); returns the provider.

    `processor` replaces the batching OTLP export (tests pass an in-memory one). Call it once per
    process: OpenTelemetry's global provider, which the psycopg instrumentation uses, can be
    set only once, so a second call is refused.
    """
    if _Tracing.configured:
        raise RuntimeError("tracing is configured already in this process")
    chosen = settings(environ)
    provider = _provider(service_name, instance_id, chosen.sampler if chosen.enabled else ALWAYS_OFF)
    if chosen.enabled:
        provider.add_span_processor(processor or BatchSpanProcessor(_otlp(chosen.endpoint)))
    _Tracing.provider, _Tracing.tracer, _Tracing.configured = provider, provider.get_tracer(TRACER_NAME), True
    trace.set_tracer_provider(provider)
    _instrument_psycopg()
    return provider


def configured() -> bool:
    """Whether `configure` ran in this process."""
    return _Tracing.configured


def _provider(service_name: str, instance_id: str, sampler: Sampler) -> TracerProvider:
    resource = Resource.create({SERVICE_NAME: service_name, SERVICE_INSTANCE_ID: instance_id})
    return TracerProvider(sampler=TracesStartAtServers(sampler), resource=resource)


def _otlp(endpoint: str) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint, insecure=endpoint.startswith("http://"), timeout=EXPORT_TIMEOUT_S)


def _instrument_psycopg() -> None:
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    PsycopgInstrumentor().instrument(skip_dep_check=True)


def tracer() -> trace.Tracer:
    """The tracer of mesh's spans. Before `configure` (a tool, a unit test), one of this module's
    own that records nothing but still makes ids, so traces are passed on all the same."""
    if _Tracing.tracer is None:
        _Tracing.provider = _provider("unconfigured", "unconfigured", ALWAYS_OFF)
        _Tracing.tracer = _Tracing.provider.get_tracer(TRACER_NAME)
    return _Tracing.tracer


def shutdown() -> None:
    """Export what is left and stop exporting, in at most SHUTDOWN_S: with Jaeger away the
    exporter would retry for its whole timeout, and a stop must not wait on it (MESH.md 5)."""
    provider = _Tracing.provider
    if provider is None:
        return

    def close() -> None:
        provider.force_flush(SHUTDOWN_FLUSH_MS)
        provider.shutdown()

    closing = threading.Thread(target=close, name="tracing-shutdown", daemon=True)
    closing.start()
    closing.join(SHUTDOWN_S)


def context_from(traceparent: str | None, tracestate: str = "") -> Context:
    """The context a W3C `traceparent` (and `tracestate`) names, to parent a span on; an empty
    or malformed one gives an empty context (the span starts a trace)."""
    carrier = {"traceparent": traceparent or ""}
    if tracestate:
        carrier["tracestate"] = tracestate
    return _propagator.extract(carrier)


def incoming(metadata: Mapping[str, str]) -> Context:
    """The caller's trace context from gRPC metadata (or any header mapping)."""
    return _propagator.extract(metadata)


def headers(span_context: Context | None = None) -> dict[str, str]:
    """`traceparent` (and `tracestate`) of the current span, or of `span_context`, to send on."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=span_context)
    return carrier


def current_traceparent() -> str | None:
    """The current span's W3C traceparent, or None outside any span."""
    return headers().get("traceparent")


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span in hex, or None outside any span."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return f"{span_context.trace_id:032x}", f"{span_context.span_id:016x}"


# --- the event path: the outbox write, the relay's publish, a consumer's processing ----------

def _event_attributes(envelope: EventEnvelope, topic: str, operation: str) -> dict[str, AttributeValue]:
    return {"messaging.system": "kafka", "messaging.operation.type": operation,
            "messaging.destination.name": topic, "messaging.message.id": envelope.id,
            "vidmesh.event.type": envelope.type}


def writing(envelope: EventEnvelope, topic: str) -> AbstractContextManager[Span]:
    """The span of an outbox write: a child of the current span, or of the trace the envelope
    names when no span is current (a caller outside any request passed its cause)."""
    current = trace.get_current_span().get_span_context()
    parent = None if current.is_valid else context_from(envelope.traceparent, envelope.tracestate)
    return tracer().start_as_current_span(f"outbox {topic}", context=parent, kind=SpanKind.PRODUCER,
                                          attributes=_event_attributes(envelope, topic, "create"))


def publishing(envelope: EventEnvelope, topic: str) -> Span:
    """The span of the relay's publish of an envelope, a child of the span that wrote it; the
    caller ends it when Kafka acknowledged the record (or refused it)."""
    return tracer().start_span(f"send {topic}", context=context_from(envelope.traceparent, envelope.tracestate),
                               kind=SpanKind.PRODUCER, attributes=_event_attributes(envelope, topic, "send"))


def processing(envelope: EventEnvelope | None, *, topic: str, partition: int, offset: int,
               group: str) -> AbstractContextManager[Span]:
    """A consumer's span for one record: a child of the span that wrote the event (MESH.md
    section 11), or a trace of its own for a record that is not an envelope."""
    attributes: dict[str, AttributeValue] = {
        "messaging.system": "kafka", "messaging.operation.type": "process", "messaging.destination.name": topic,
        "messaging.destination.partition.id": str(partition), "messaging.kafka.offset": offset,
        "messaging.consumer.group.name": group}
    if envelope is None:
        return tracer().start_as_current_span(f"process {topic}", kind=SpanKind.CONSUMER, attributes=attributes,
                                              record_exception=False)
    attributes.update(_event_attributes(envelope, topic, "process"))
    return tracer().start_as_current_span(f"process {envelope.type.rsplit('.', 1)[-1]}",
                                          context=context_from(envelope.traceparent, envelope.tracestate),
                                          kind=SpanKind.CONSUMER, attributes=attributes, record_exception=False)
