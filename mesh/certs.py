"""Identities for what does not run on the runtime, as files: Envoy's (`gateway`) and the
developer's (`operator`, for grpcurl, ghz, the tests and the demo).

    python -m mesh.certs keep  .run/certs gateway operator   # write, then renew until SIGTERM (the stacks)
    python -m mesh.certs issue .run/certs operator           # write once and exit (`make certs`)

Each NAME gets `DIR/NAME/{cert.pem,key.pem,ca.pem}` (mesh/identity_files.py), from the local
Consul agent at VIDMESH_CONSUL_HTTP_ADDR. `operator` is a development identity: the topology's
intentions let it call every service (mesh/policy.py), and anyone who can reach Consul's HTTP
API can fetch it (vidmesh runs Consul without ACLs). Exit codes: 0 done (or stopped), 1 Consul
did not give a certificate (issue), 2 a bad command line.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import structlog

from mesh import config, log
from mesh.consul_connect import ConsulConnect, ConsulError
from mesh.identity import Identity
from mesh.identity_files import IdentityFolder
from mesh.mtls import fetch_until_it_works

logger = structlog.get_logger("mesh.certs")


def identities(connect: ConsulConnect, folder: Path, names: Sequence[str]) -> list[Identity]:
    """One identity per name, each written under `folder/<name>`."""
    return [Identity(connect, name, IdentityFolder(folder / name)) for name in names]


async def issue(consul_addr: str, folder: Path, names: Sequence[str]) -> None:
    """Write each identity once (ConsulError when the agent cannot give one)."""
    connect = ConsulConnect(consul_addr)
    try:
        await asyncio.gather(*(identity.fetch() for identity in identities(connect, folder, names)))
    finally:
        await connect.aclose()


async def keep(consul_addr: str, folder: Path, names: Sequence[str]) -> None:
    """Write each identity (waiting for Consul), then renew them all until SIGTERM or SIGINT."""
    connect = ConsulConnect(consul_addr)
    kept = identities(connect, folder, names)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await asyncio.gather(*(fetch_until_it_works(identity) for identity in kept))
        logger.info("identities written", folder=str(folder), names=list(names))
        renewing = [asyncio.create_task(identity.run()) for identity in kept]
        await stop.wait()
        for identity in kept:
            await identity.stop()
        await asyncio.gather(*renewing, return_exceptions=True)
    finally:
        await connect.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, then issue or keep."""
    parser = argparse.ArgumentParser(prog="python -m mesh.certs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["issue", "keep"])
    parser.add_argument("folder", type=Path, help="where each identity's folder goes")
    parser.add_argument("names", nargs="+", help="the service names to issue identities for")
    args = parser.parse_args(argv)
    cfg = config.load(service_name="certs")
    log.configure(cfg.service_name, cfg.log_level)
    if args.action == "keep":
        asyncio.run(keep(cfg.consul_http_addr, args.folder, args.names))
        return 0
    try:
        asyncio.run(issue(cfg.consul_http_addr, args.folder, args.names))
    except ConsulError as error:
        logger.error("no certificate from consul (is the stack running? make start)", error=str(error))
        return 1
    logger.info("identities written", folder=str(args.folder), names=args.names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
