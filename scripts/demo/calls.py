"""The tour's calls: REST through Envoy (printed as curl) and grpcurl (printed and run)."""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from mesh.settings import ROOT
from scripts.demo import show

GRPCURL_TIMEOUT_S = 10


class StepFailed(Exception):
    """A step did not behave as the tour says it should; the message says how."""


@dataclass(frozen=True)
class User:
    """A signed-in user of the tour; `var` is the shell variable its token is printed as."""

    user_id: str
    email: str
    name: str
    token: str
    var: str


def expect(passed: bool, what: str) -> None:
    """Print an expectation; stop the step if it did not hold."""
    if not show.check(passed, what):
        raise StepFailed(what)


class Rest:
    """REST/JSON through the gateway, each call printed as the curl command that does the same."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=15)

    def curl(self, method: str, path: str, body: dict[str, Any] | None = None, who: User | None = None,
             params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> str:
        """The curl command line of a call."""
        url = f"{self.base_url}{path}" + (f"?{urlencode(params)}" if params else "")
        parts = ["curl", "-s"] + (["-X", method] if method != "GET" else []) + [shlex.quote(url)]
        if body is not None:
            parts += ["-H", "'content-type: application/json'", "-d", shlex.quote(json.dumps(body))]
        if who is not None:
            parts += ["-H", f'"authorization: Bearer ${who.var}"']
        for name, value in (headers or {}).items():
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        return " ".join(parts)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, who: User | None = None,
             params: dict[str, Any] | None = None, quiet: bool = False,
             headers: dict[str, str] | None = None) -> httpx.Response:
        """Make the call (with extra `headers`); unless quiet, print its curl line, status and (cut) JSON answer."""
        sent = {**({"authorization": f"Bearer {who.token}"} if who else {}), **(headers or {})}
        response = self.http.request(method, path, json=body, params=params, headers=sent or None)
        if not quiet:
            show.command(self.curl(method, path, body, who, params, headers))
            show.result(f"HTTP {response.status_code}")
            show.json_result(response.json() if response.content else None)
        return response

    def ok(self, method: str, path: str, body: dict[str, Any] | None = None, who: User | None = None,
           params: dict[str, Any] | None = None, quiet: bool = False,
           headers: dict[str, str] | None = None) -> dict[str, Any]:
        """A call that must answer 200; its JSON object."""
        response = self.call(method, path, body, who, params, quiet, headers)
        if response.status_code != 200:
            raise StepFailed(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        answer: dict[str, Any] = response.json()
        return answer


class Grpcurl:
    """The real grpcurl: at a service (which serves reflection, over mutual TLS: as the
    operator, whose certificate the stack keeps in `operator`) or through the gateway (plain
    HTTP/2 at the edge, no reflection: the descriptor set `make protos` writes describes the
    API)."""

    def __init__(self, binary: Path, gateway: str, operator: Path) -> None:
        self.binary, self.gateway, self.operator = binary, gateway, operator
        self.protoset = ROOT / "gen" / "vidmesh.binpb"

    def call(self, address: str, method: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Print the command, run it, print and return its JSON answer."""
        done = self._run(address, method, data)
        if done.returncode != 0:
            raise StepFailed(f"grpcurl {method} at {address} failed: {done.stderr.strip()[:300]}")
        answer: dict[str, Any] = json.loads(done.stdout or "{}")
        show.json_result(answer)
        return answer

    def refused(self, address: str, method: str, data: dict[str, Any] | None = None) -> str:
        """Print the command, run it, print and return the error grpcurl reports; a call
        that succeeds fails the step."""
        done = self._run(address, method, data)
        if done.returncode == 0:
            raise StepFailed(f"grpcurl {method} at {address} answered: {done.stdout.strip()[:300]}")
        show.result(done.stderr.strip())
        return done.stderr

    def _run(self, address: str, method: str, data: dict[str, Any] | None) -> subprocess.CompletedProcess[str]:
        args = [str(self.binary), "-max-time", str(GRPCURL_TIMEOUT_S)]
        if address == self.gateway:
            args += ["-plaintext", "-protoset", str(self.protoset.relative_to(ROOT))]
        else:  # -insecure: grpcurl cannot check a SPIFFE id; the server checks the certificate
            args += ["-insecure", "-cert", str(self.operator / "cert.pem"), "-key", str(self.operator / "key.pem")]
        if data is not None:
            args += ["-d", json.dumps(data)]
        args += [address, method]
        show.command(" ".join(shlex.quote(a) for a in args).replace(str(Path.home()), "~"))
        return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=GRPCURL_TIMEOUT_S + 5)
