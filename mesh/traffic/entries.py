"""Consul's config entries (and a fault key) of one service, read into a ServicePolicy.

What is translated: service-resolver `Subsets` (filters, see subsets.py), `DefaultSubset`,
`ConnectTimeout`, `RequestTimeout`; service-splitter `Splits` to subsets of the same service;
service-router routes matched by `PathPrefix` or `PathExact` (gRPC paths), with
`ServiceSubset`, `RequestTimeout`, `NumRetries`, `RetryOn` and `RetryOnConnectFailure`. Consul
has no fault vocabulary, so faults come from the KV key `vidmesh/faults/<service>` (JSON, see
`fault`). Anything else is refused with PolicyError, whose message names the entry and the
field: serving half of an entry would route calls where nobody meant them to go.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import grpc

from mesh.traffic import subsets
from mesh.traffic.policy import ALL_CALLS, Destination, Fault, PathMatch, Retry, Route, ServicePolicy, Target

Entry = Mapping[str, Any]
FAULT_PREFIX = "vidmesh/faults/"
# Consul's own bookkeeping, and fields that change nothing about routing.
_BOOKKEEPING = {"Kind", "Name", "Partition", "Namespace", "Meta", "Hash", "CreateIndex", "ModifyIndex"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


class PolicyError(ValueError):
    """An entry the control plane cannot translate; the message names it and says why."""


def duration(text: str, where: str) -> float:
    """Seconds in a Go duration ("500ms", "1m30s")."""
    if text in ("0", ""):
        return 0.0
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise PolicyError(f"{where}: {text!r} is not a duration such as 500ms or 2s")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def _only(entry: Entry, where: str, allowed: set[str]) -> None:
    extra = sorted(set(entry) - allowed - _BOOKKEEPING)
    if extra:
        raise PolicyError(f"{where}: {', '.join(extra)} is not translated by the control plane")


def _subsets(resolver: Entry, where: str) -> dict[str, subsets.Filter]:
    found = {}
    for name, subset in (resolver.get("Subsets") or {}).items():
        _only(subset, f"{where}: Subsets.{name}", {"Filter", "OnlyPassing"})
        try:
            found[name] = subsets.parse(subset.get("Filter") or "")
        except subsets.FilterError as error:
            raise PolicyError(f"{where}: Subsets.{name}.Filter: {error}") from None
    return found


def _splits(splitter: Entry, service: str, known: Mapping[str, object], where: str) -> tuple[Target, ...]:
    targets = []
    for n, split in enumerate(splitter.get("Splits") or []):
        at = f"{where}: Splits[{n}]"
        _only(split, at, {"Weight", "Service", "ServiceSubset"})
        if split.get("Service", service) not in ("", service):
            raise PolicyError(f"{at}: splitting to another service ({split['Service']}) is not translated")
        subset = split.get("ServiceSubset") or None
        if subset is not None and subset not in known:
            raise PolicyError(f"{at}: no subset {subset!r} in the service-resolver")
        weight = round(float(split.get("Weight", 0)) * ALL_CALLS / 100)
        if weight > 0:
            targets.append(Target(subset, weight))
    if sum(t.weight for t in targets) != ALL_CALLS:
        raise PolicyError(f"{where}: the weights add up to {sum(t.weight for t in targets) / 100}, not 100")
    return tuple(targets)


def _match(route: Entry, where: str) -> PathMatch:
    http = (route.get("Match") or {}).get("HTTP") or {}
    _only(route.get("Match") or {}, f"{where}.Match", {"HTTP"})
    _only(http, f"{where}.Match.HTTP", {"PathPrefix", "PathExact"})
    return PathMatch(prefix=http.get("PathPrefix"), exact=http.get("PathExact"))


def _retry(destination: Entry) -> Retry | None:
    retry_on = list(destination.get("RetryOn") or [])
    if destination.get("RetryOnConnectFailure"):
        retry_on.append("connect-failure")
    if not retry_on and not destination.get("NumRetries"):
        return None
    # NumRetries without a condition: Consul (and Envoy) retry on connect failures and resets.
    return Retry(destination.get("NumRetries") or None, tuple(dict.fromkeys(retry_on or ["connect-failure"])))


def _destination(destination: Entry, service: str, default: Destination, known: Mapping[str, object],
                  where: str) -> Destination:
    _only(destination, where, {"Service", "ServiceSubset", "RequestTimeout", "NumRetries", "RetryOn",
                               "RetryOnConnectFailure"})
    if destination.get("Service", service) not in ("", service):
        raise PolicyError(f"{where}: routing to another service ({destination['Service']}) is not translated")
    subset = destination.get("ServiceSubset") or None
    if subset is not None and subset not in known:
        raise PolicyError(f"{where}: no subset {subset!r} in the service-resolver")
    timeout = destination.get("RequestTimeout")
    return Destination(targets=(Target(subset),) if subset else default.targets,
                       timeout_s=duration(timeout, f"{where}.RequestTimeout") if timeout else default.timeout_s,
                       retry=_retry(destination))


def _routes(router: Entry, service: str, default: Destination, known: Mapping[str, object],
            where: str) -> tuple[Route, ...]:
    routes = []
    for n, route in enumerate(router.get("Routes") or []):
        at = f"{where}: Routes[{n}]"
        _only(route, at, {"Match", "Destination"})
        routes.append(Route(_match(route, at),
                            _destination(route.get("Destination") or {}, service, default, known, f"{at}.Destination")))
    return tuple(routes)


def _resolved(service: str, resolver: Entry | None) -> tuple[dict[str, subsets.Filter], Destination, float | None]:
    if resolver is None:
        return {}, Destination(), None
    where = f"service-resolver {service}"
    _only(resolver, where, {"Subsets", "DefaultSubset", "ConnectTimeout", "RequestTimeout"})
    known = _subsets(resolver, where)
    default_subset = resolver.get("DefaultSubset") or None
    if default_subset is not None and default_subset not in known:
        raise PolicyError(f"{where}: DefaultSubset {default_subset!r} is not one of its Subsets")
    timeout = resolver.get("RequestTimeout")
    connect = resolver.get("ConnectTimeout")
    return (known, Destination(targets=(Target(default_subset),),
                               timeout_s=duration(timeout, f"{where}: RequestTimeout") if timeout else None),
            duration(connect, f"{where}: ConnectTimeout") if connect else None)


def compile_policy(service: str, *, resolver: Entry | None = None, splitter: Entry | None = None,
                   router: Entry | None = None, fault: Fault | None = None) -> ServicePolicy:
    """The policy of `service` from its entries (any may be missing); PolicyError when one
    cannot be translated."""
    known, default, connect_timeout = _resolved(service, resolver)
    if splitter is not None:
        where = f"service-splitter {service}"
        _only(splitter, where, {"Splits"})
        default = Destination(targets=_splits(splitter, service, known, where), timeout_s=default.timeout_s)
    routes = _routes(router, service, default, known, f"service-router {service}") if router else ()
    sources = [f"{kind}/{service}" for kind, entry in
               (("service-resolver", resolver), ("service-splitter", splitter), ("service-router", router)) if entry]
    return ServicePolicy(service=service, subsets=MappingProxyType(known), routes=routes, default=default,
                         fault=fault, connect_timeout_s=connect_timeout,
                         sources=(*sources, *((f"kv/{FAULT_PREFIX}{service}",) if fault else ())))


def _percent(value: Any, where: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 100:
        raise PolicyError(f"{where}: percent must be a number from 0 to 100, got {value!r}")
    return float(value)


def _code(value: Any, where: str) -> int:
    codes = {code.name: code.value[0] for code in grpc.StatusCode}
    if isinstance(value, str) and value.upper() in codes and value.upper() != "OK":
        return codes[value.upper()]
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 17:
        return value
    raise PolicyError(f"{where}: code must be a gRPC status name (UNAVAILABLE) or number 1-16, got {value!r}")


def fault(service: str, raw: bytes | str) -> Fault:
    """The fault of `vidmesh/faults/<service>`:

        {"delay": {"seconds": 2, "percent": 100}, "abort": {"code": "UNAVAILABLE", "percent": 30}}

    Either part may be left out; PolicyError says what is wrong."""
    where = f"kv {FAULT_PREFIX}{service}"
    try:
        spec = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise PolicyError(f"{where}: not JSON ({error})") from None
    if not isinstance(spec, dict) or not spec or set(spec) - {"delay", "abort"}:
        raise PolicyError(f'{where}: expected {{"delay": {{...}}, "abort": {{...}}}}, got {spec!r}')
    delay, abort = spec.get("delay") or {}, spec.get("abort") or {}
    for name, keys in (("delay", {"seconds", "percent"}), ("abort", {"code", "percent"})):
        part = spec.get(name)
        if name in spec and (not isinstance(part, dict) or set(part) != keys):
            raise PolicyError(f"{where}: {name} needs exactly {sorted(keys)}, got {part!r}")
    seconds = delay.get("seconds", 0)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds <= 60:
        raise PolicyError(f"{where}: delay.seconds must be a number from 0 to 60, got {seconds!r}")
    return Fault(delay_s=float(seconds), delay_percent=_percent(delay.get("percent", 0), f"{where}: delay"),
                 abort_code=_code(abort["code"], f"{where}: abort") if abort else 0,
                 abort_percent=_percent(abort.get("percent", 0), f"{where}: abort"))
