"""`python -m mesh.health_probe HOST:PORT [SERVICE]`: exit 0 iff grpc.health.v1 says SERVING.

Docker healthchecks use it, so images need no grpc_health_probe binary. Exit codes: 0
serving, 1 answered but not serving (or unknown service), 2 no answer within the deadline.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import grpc
from grpc_health.v1 import health_pb2

SERVING, NOT_SERVING, NO_ANSWER = 0, 1, 2


def probe(address: str, service: str = "", timeout: float = 2.0) -> int:
    """Ask `address` for the health of `service` ("" = the whole server); an exit code."""
    with grpc.insecure_channel(address) as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        try:
            response = check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as error:
            code = error.code()
            sys.stderr.write(f"{address} {service or '(server)'}: {code.name}: {error.details()}\n")
            return NOT_SERVING if code == grpc.StatusCode.NOT_FOUND else NO_ANSWER
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    if response.status != health_pb2.HealthCheckResponse.SERVING:
        sys.stderr.write(f"{address} {service or '(server)'}: {status}\n")
        return NOT_SERVING
    return SERVING


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and probe once."""
    parser = argparse.ArgumentParser(prog="python -m mesh.health_probe", description=__doc__)
    parser.add_argument("address", help="host:port of the gRPC server")
    parser.add_argument("service", nargs="?", default="", help="service name; empty for the whole server")
    parser.add_argument("--timeout", type=float, default=2.0, help="deadline in seconds (default 2)")
    args = parser.parse_args(argv)
    return probe(args.address, args.service, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
