"""A well-behaved client of the gateway's REST surface, recording every attempt in the history.

A write that carries a request_id is sent again, with the same id and body, whenever its
outcome is unknown (no answer, a reset, a 5xx) or the gateway turned it away for now (429,
401 while it cannot check tokens, no connection), with exponential backoff, until it gets
an answer that decides or its time budget runs out. A write without a request_id is sent
once: retrying it could apply it twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from mesh.backoff import Backoff
from scripts.chaos.history import SERVICE_REFUSALS, Attempt, Op

PASSWORD = "chaos monkey password 1"
TIMEOUT_S = 12.0  # above the gateway's 10 s route timeout, so the gateway's 504 is what we see
TOKEN_REFRESH_S = 3000.0  # tokens live an hour: sign in again well before


def new_id() -> str:
    """A fresh request_id (or token)."""
    return str(uuid.uuid4())


@dataclass(kw_only=True)
class Account:
    """A registered user and, once signed in, their token."""

    user_id: str
    email: str
    name: str
    token: str = ""
    signed_in_at: float = 0.0

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header."""
        return {"authorization": f"Bearer {self.token}"}


class Client:
    """One connection pool to the gateway; one per worker thread."""

    def __init__(self, base_url: str, clock: Callable[[], float], *, budget_s: float = 45.0) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=TIMEOUT_S)
        self._clock, self.budget_s = clock, budget_s

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def write(self, op: Op, path: str, who: Account | None = None) -> Op:
        """POST the op's body (with its request_id) until its outcome is known or the budget is spent."""
        body = {**op.body, **({"requestId": op.request_id} if op.request_id else {})}
        deadline, backoff = self._clock() + self.budget_s, Backoff(initial=0.25, maximum=2.0)
        while True:
            attempt, answer = self._attempt(path, body, who.auth if who else {})
            op.attempts.append(attempt)
            if attempt.outcome == "ok":
                op.answer = answer
                return op
            if not op.request_id or attempt.status in SERVICE_REFUSALS or self._clock() > deadline:
                return op
            time.sleep(backoff.next())

    def _attempt(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[Attempt, dict[str, Any]]:
        began = self._clock()
        try:
            response = self.http.post(path, json=body, headers=headers)
        except httpx.ConnectError as error:  # nothing was sent
            return Attempt(began=began, ended=self._clock(), status=None, error=repr(error), sent=False), {}
        except httpx.HTTPError as error:  # sent, and no answer: it may have applied
            return Attempt(began=began, ended=self._clock(), status=None, error=repr(error)), {}
        attempt = Attempt(began=began, ended=self._clock(), status=response.status_code,
                          error="" if response.is_success else response.text[:300])
        return attempt, _json(response) if response.is_success else {}

    def get(self, path: str, who: Account | None = None, **params: Any) -> dict[str, Any] | None:
        """A read: the JSON of a 200 answer, or None (reads are retried by whoever needs them)."""
        try:
            response = self.http.get(path, params=params, headers=who.auth if who else None)
        except httpx.HTTPError:
            return None
        return _json(response) if response.status_code == 200 else None

    def sign_in(self, account: Account, tries: int = 40) -> bool:
        """Log in (the login route is rate limited: wait for its bucket), bounded."""
        backoff = Backoff(initial=0.5, maximum=5.0)
        for _ in range(tries):
            try:
                response = self.http.post("/api/auth/v1/login", json={"email": account.email, "password": PASSWORD})
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code == 200:
                account.token, account.signed_in_at = _json(response)["accessToken"], self._clock()
                return True
            time.sleep(backoff.next())
        return False


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        parsed = response.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
