"""An in-memory request_id log that behaves like mesh.idempotency's table, for the fakes of
every service's unit of work (it lives in their copied tables, so a rollback forgets a claim)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mesh.idempotency import Recorded


class FakeRequestLog:
    """claim() and complete() over a dict the fake transaction owns."""

    def __init__(self, rows: dict[str, Recorded]) -> None:
        self.rows = rows

    async def claim(self, request_id: str, method: str, fingerprint: str) -> Recorded | None:
        if request_id in self.rows:
            return self.rows[request_id]
        self.rows[request_id] = Recorded(method, fingerprint, {})
        return None

    async def complete(self, request_id: str, response: dict[str, Any]) -> None:
        self.rows[request_id] = replace(self.rows[request_id], response=response)
