"""The chaos campaign's network faults, with the real toxiproxy in front of a small HTTP server
on loopback: answers pass, then each toxic does what the campaign counts on, then answers
pass again once it is taken off."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from mesh.settings import load
from scripts.chaos.network import Toxiproxy
from scripts.toolchain import Toolchain


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps the connection open, as Envoy does (a close would end a blackhole)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Toxiproxy]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    binary = str(Toolchain(load().cache_dir).go_binary("toxiproxy"))
    try:
        with Toxiproxy(binary, "127.0.0.1", f"127.0.0.1:{server.server_address[1]}", tmp_path / "toxiproxy.log") as p:
            yield p
    finally:
        server.shutdown()


def get(proxy: Toxiproxy, timeout: float = 2.0) -> str:
    with httpx.Client(timeout=timeout) as client:  # a new connection each time
        return client.get(f"{proxy.url}/").text


@pytest.mark.parametrize(("toxic", "error"), [("reset", httpx.RemoteProtocolError), ("blackhole", httpx.ReadTimeout)])
def test_a_toxic_takes_the_answers_away_while_it_holds(proxy: Toxiproxy, toxic: str, error: type[Exception]) -> None:
    assert get(proxy) == "hello"
    holding = threading.Thread(target=proxy.hold, args=(toxic, 4.0))  # outlasts the client's 1.5 s timeout
    holding.start()
    time.sleep(0.5)  # the toxic is on: the hold has begun
    try:
        with pytest.raises((error, httpx.ReadError)):
            get(proxy, timeout=1.5)
    finally:
        holding.join()
    assert get(proxy) == "hello"


def test_latency_slows_the_answers_down(proxy: Toxiproxy) -> None:
    holding = threading.Thread(target=proxy.hold, args=("latency", 3.0))
    holding.start()
    time.sleep(0.5)
    began = time.monotonic()
    assert get(proxy, timeout=10) == "hello"
    assert time.monotonic() - began > 1.5
    holding.join()
