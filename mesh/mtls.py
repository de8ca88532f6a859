"""The identity of a runtime process and who may call it (MESH.md §13), set up before its
bootstrap runs:

1. its leaf certificate and the roots come from the local Consul agent (the start waits for
   them: nothing is served without an identity), are written to a folder of the process's
   own under VIDMESH_CERTS_DIR, and are renewed in the background (worker `identity`);
2. the intentions whose destination is its identity are followed (worker `intentions`); the
   instance is NOT_SERVING until the first answer, so nobody routes to a server that would
   refuse everyone;
3. the xDS bootstrap of the process names those files, so its proxyless channels present
   the same certificate (mesh/xds/bootstrap.py);
4. the server binds with mutual TLS and authorizes every call (mesh/server.py, mesh/authz.py).

Its identity is the topology entry's name (`video-query`), whatever Consul name it registers
under: an instance a test starts under a name of its own is still a video-query.
VIDMESH_MTLS=false skips all of it (plaintext, no authorization), to price what it costs.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from mesh.authz import Authorizer
from mesh.backoff import Backoff
from mesh.consul_connect import ConsulConnect, ConsulError
from mesh.identity import Identity
from mesh.identity_files import IdentityFolder
from mesh.intentions import Intentions
from mesh.server import DependencyCheck, Security
from mesh.tls import ServerTls
from mesh.xds.bootstrap import BOOTSTRAP_ENV, ensure_bootstrap

if TYPE_CHECKING:
    from mesh.runtime import Runtime

INTENTIONS_WAIT_S = 1.5  # below the readiness check's timeout: SERVING follows the first answer at once
log = structlog.get_logger(__name__)


async def secure(rt: Runtime) -> Security | None:
    """Give the process its identity and its authorizer; None when mutual TLS is off."""
    if not rt.config.mtls:
        log.warning("mutual TLS is off (VIDMESH_MTLS=false): calls are plaintext and nobody is authorized")
        return None
    name = rt.entry.name
    connect = ConsulConnect(rt.config.consul_http_addr)
    rt.stack.push_async_callback(connect.aclose)
    identity = Identity(connect, name, await _own_folder(rt, name))
    await fetch_until_it_works(identity)
    rt.worker("identity", identity.run, identity.stop)
    intentions = Intentions(connect, name)
    rt.worker("intentions", intentions.run, intentions.stop)
    rt.check(intentions_known(intentions))
    assert identity.folder is not None
    ensure_bootstrap(rt.config, identity.folder)
    authorizer = Authorizer(lambda: identity.current.roots.trust_domain, intentions)
    return Security(ServerTls(identity).credentials(), authorizer, identity)


async def _own_folder(rt: Runtime, name: str) -> IdentityFolder:
    root = Path(rt.config.certs_dir)
    root.mkdir(parents=True, exist_ok=True)
    folder = IdentityFolder(Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root)))
    rt.stack.callback(folder.remove)
    return folder


async def fetch_until_it_works(identity: Identity) -> None:
    """Fetch the identity, waiting (with backoff) while the agent cannot give it."""
    backoff = Backoff(initial=0.5, maximum=10.0)
    while True:
        try:
            await identity.fetch()
            return
        except ConsulError as error:
            delay = backoff.next()
            log.warning("waiting for consul's CA", identity=identity.service, retry_in_s=delay, error=str(error))
            await asyncio.sleep(delay)


def own_bootstrap() -> None:
    """A process of its own (`runtime.main`) presents its own identity: an xDS bootstrap it
    inherited (a test session's, naming the operator's files) would make its channels present
    someone else's certificate, so it is dropped and the process writes its own."""
    inherited = os.environ.pop(BOOTSTRAP_ENV, None)
    if inherited:
        log.info("inherited xDS bootstrap dropped: this process presents its own identity", bootstrap=inherited)


def intentions_known(intentions: Intentions) -> DependencyCheck:
    """Readiness: the intentions of this service are known (else every call would be refused)."""
    async def intentions_read() -> bool:
        try:
            return await asyncio.wait_for(intentions.wait_known(), INTENTIONS_WAIT_S)
        except TimeoutError:
            return False
    return intentions_read
