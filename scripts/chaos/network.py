"""Network faults on the clients' link to the gateway, through toxiproxy (Shopify's v2.5.0,
built from its Go module by `make deps`).

The workload talks to the gateway through a proxy on loopback; a network fault puts one toxic
on the answers (the downstream side) for a while: a reset of every connection, answers that
never come (the connection hangs until the client gives up), or seconds of latency. The
request has reached the gateway each time, so these are the faults that leave a client not
knowing whether its write applied: the request_id retry is what makes them harmless.

Only this link is proxied: putting Kafka and Postgres behind it too needs a second port
setting for each (where it listens, and where clients dial), which the native stack and Compose
would share; that is left for a change of the settings themselves.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

TOXICS: dict[str, dict[str, Any]] = {
    "reset": {"type": "reset_peer", "attributes": {"timeout": 0}},
    "blackhole": {"type": "timeout", "attributes": {"timeout": 0}},
    "latency": {"type": "latency", "attributes": {"latency": 3000, "jitter": 1000}},
}
PROXY = "gateway"
READY_S = 20.0


def free_port(host: str) -> int:
    """A port free on `host` right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class Toxiproxy:
    """toxiproxy-server with one proxy in front of the gateway; a context manager."""

    def __init__(self, binary: str, host: str, upstream: str, log: Path) -> None:
        self._binary, self._host, self._upstream, self._log = binary, host, upstream, log
        self.api = f"http://{host}:{free_port(host)}"
        self.listen = f"{host}:{free_port(host)}"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        log = self._log.open("ab")
        port = self.api.rsplit(":", 1)[1]
        self._process = subprocess.Popen([self._binary, "-host", self._host, "-port", port], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + READY_S
        while not self._answers():
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise RuntimeError(f"toxiproxy did not start; see {self._log}")
            time.sleep(0.1)  # the polling interval of a bounded readiness wait
        httpx.post(f"{self.api}/proxies", json={"name": PROXY, "listen": self.listen, "upstream": self._upstream,
                                                "enabled": True}, timeout=5).raise_for_status()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.api}/version", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    @property
    def url(self) -> str:
        """Where the clients send their requests."""
        return f"http://{self.listen}"

    def hold(self, toxic: str, seconds: float, cut_short: threading.Event | None = None) -> None:
        """Put a toxic on the gateway's answers for `seconds` (or until `cut_short` is set), then take it off."""
        body = {"name": toxic, "stream": "downstream", "toxicity": 1.0, **TOXICS[toxic]}
        httpx.post(f"{self.api}/proxies/{PROXY}/toxics", json=body, timeout=5).raise_for_status()
        try:
            (cut_short or threading.Event()).wait(seconds)
        finally:
            httpx.delete(f"{self.api}/proxies/{PROXY}/toxics/{toxic}", timeout=5).raise_for_status()
