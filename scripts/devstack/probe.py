"""Readiness probes the process manager runs: exit 0 when the component answers for real."""

from __future__ import annotations

import smtplib
import sys


def kafka(address: str) -> bool:
    """The broker answers a metadata request and lists itself."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": address, "socket.timeout.ms": 2000, "log_level": 0})
    metadata = admin.list_topics(timeout=2)
    return bool(metadata.brokers)


def smtp(address: str) -> bool:
    """The sink greets and answers NOOP with 250."""
    host, port = address.rsplit(":", 1)
    with smtplib.SMTP(host, int(port), timeout=2) as client:
        return client.noop()[0] == 250


PROBES = {"kafka": kafka, "smtp": smtp}

if __name__ == "__main__":
    name, target = sys.argv[1], sys.argv[2]
    try:
        sys.exit(0 if PROBES[name](target) else 1)
    except Exception as error:  # any failure to answer means "not ready yet"
        print(f"{name} not ready: {error}", file=sys.stderr)
        sys.exit(1)
