"""A process's identity: fetched at start, renewed from blocking queries, written to its files,
and kept while Consul is away."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mesh.identity import Credentials, Identity
from mesh.identity_files import IdentityFolder
from tests.unit.fake_ca import FakeCa, spiffe
from tests.unit.identity.fake_agent import FakeAgent

WAIT_S = 2.0


async def _until(condition: object, what: str) -> None:
    async with asyncio.timeout(WAIT_S):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)  # polling interval of a bounded wait


async def test_fetch_gives_the_leaf_and_roots_and_writes_them(tmp_path: Path) -> None:
    agent = FakeAgent(FakeCa.create())
    identity = Identity(agent, "video-query", IdentityFolder(tmp_path / "vq"))
    credentials = await identity.fetch()
    assert identity.spiffe_id.uri == spiffe("video-query")
    assert identity.folder is not None
    assert identity.folder.cert.read_text() == credentials.leaf.cert_pem
    assert identity.folder.key.read_text() == credentials.leaf.key_pem
    assert identity.folder.ca.read_text() == agent.ca.pem.strip() + "\n"


async def test_a_rotated_root_brings_new_roots_and_a_new_leaf_to_files_and_listeners(tmp_path: Path) -> None:
    agent = FakeAgent(FakeCa.create())
    identity = Identity(agent, "web-bff", IdentityFolder(tmp_path / "web"))
    first = await identity.fetch()
    seen: list[Credentials] = []
    identity.subscribe(seen.append)
    renewing = asyncio.create_task(identity.run())
    try:
        new_root = await agent.rotate()
        await _until(lambda: identity.current.leaf.cert_pem != first.leaf.cert_pem
                     and identity.current.roots.active_id == new_root.roots().active_id, "renewal")
        assert identity.current.roots.pems == (new_root.pem, first.roots.pems[0])  # the old root stays trusted
        assert identity.folder is not None and identity.folder.cert.read_text() == identity.current.leaf.cert_pem
        assert seen[-1] == identity.current
    finally:
        await identity.stop()
        await renewing


async def test_with_consul_away_the_current_certificate_stays_and_renewal_resumes(tmp_path: Path) -> None:
    agent = FakeAgent(FakeCa.create())
    identity = Identity(agent, "users", IdentityFolder(tmp_path / "users"))
    first = await identity.fetch()
    renewing = asyncio.create_task(identity.run())
    try:
        await agent.set_down(True)
        await asyncio.sleep(0.2)
        assert identity.current == first and not renewing.done()
        await agent.set_down(False)
        new_root = await agent.rotate()
        await _until(lambda: identity.current.roots.active_id == new_root.roots().active_id, "renewal after the outage")
    finally:
        await identity.stop()
        await renewing
