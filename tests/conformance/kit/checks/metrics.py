"""MESH.md §14 Metrics: the instance registers its metrics port, serves Prometheus's text
format there in plaintext, and counts a call it just answered under the grpc-ecosystem
names and labels."""

from __future__ import annotations

import asyncio
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mesh.xds.bootstrap import channel_to
from tests.conformance.kit.api import Api, call
from tests.conformance.kit.checks.errors import breaking
from tests.conformance.kit.failure import Nonconformance, expect
from tests.conformance.kit.target import Target

SECTION = "§14 Metrics"
TIMEOUT_S = 10.0
COUNTED_WITHIN_S = 5.0  # a server may count a call just after it answered it


def metrics_url(target: Target) -> str:
    """Its /metrics, at the metrics port of its Consul metadata on its registered address."""
    port = str((target.record.service.get("Meta") or {}).get("metrics_port", ""))
    expect(port.isdigit() and 0 < int(port) < 65536, target, SECTION,
           f"its Consul metadata has no metrics_port Prometheus could find it by (got {port!r})")
    return f"http://{target.address.rpartition(':')[0]}:{port}/metrics"


async def scrape(target: Target, url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample at `url`, by name and labels; a failure to answer or parse is nonconformance."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
            answer = await http.get(url)
        answer.raise_for_status()
        families = list(text_string_to_metric_families(answer.text))
    except (httpx.HTTPError, ValueError) as error:
        raise Nonconformance(f"{target}: MESH.md {SECTION}: {url} is not Prometheus metrics in plaintext: "
                             f"{type(error).__name__}: {error}") from None
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in families for sample in family.samples}


def _total(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(value for (sample, have), value in samples.items() if sample == name and wanted <= have)


async def check_metrics(target: Target, api: Api) -> None:
    """A request that breaks a rule is counted in grpc_server_handled_total with code
    InvalidArgument, and timed in grpc_server_handling_seconds, by service and method."""
    url = metrics_url(target)
    broken = breaking(target, api)
    rpc = {"grpc_type": "unary", "grpc_service": broken.method.containing_service.full_name,
           "grpc_method": broken.method.name}
    before = _total(await scrape(target, url), "grpc_server_handled_total", **rpc, grpc_code="InvalidArgument")
    async with channel_to(target.entry.name, target.address) as channel:
        await call(channel, broken.method, broken.request, timeout=TIMEOUT_S)
    deadline = time.monotonic() + COUNTED_WITHIN_S
    while True:
        samples = await scrape(target, url)
        handled = _total(samples, "grpc_server_handled_total", **rpc, grpc_code="InvalidArgument")
        if handled >= before + 1 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    expect(handled >= before + 1, target, SECTION,
           f"grpc_server_handled_total{rpc | {'grpc_code': 'InvalidArgument'}} did not count the call ({broken}): "
           f"{before:g} before, {handled:g} {COUNTED_WITHIN_S:g} s after")
    expect(_total(samples, "grpc_server_handling_seconds_count", **rpc) >= 1, target, SECTION,
           f"grpc_server_handling_seconds{rpc} has not timed a call")
