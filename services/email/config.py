"""The email service's own settings (mesh.config has the ones every service shares).

VIDMESH_SMTP_ADDR       host:port of the mail server (default 127.0.0.1:1025, the dev sink)
VIDMESH_EMAIL_FROM      the From header (default "vidmesh <no-reply@vidmesh.local>")
VIDMESH_SMTP_TIMEOUT_SECONDS   connect and command timeout of one delivery (default 10)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from mesh.config import ConfigError


@dataclass(frozen=True)
class MailConfig:
    """Where and how mail is handed over."""

    smtp_host: str
    smtp_port: int
    sender: str
    timeout_s: float


def load(environ: Mapping[str, str] | None = None) -> MailConfig:
    """Read the settings once; ConfigError naming the variable when one is malformed."""
    env = os.environ if environ is None else environ
    addr = env.get("VIDMESH_SMTP_ADDR", "").strip() or "127.0.0.1:1025"
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"VIDMESH_SMTP_ADDR={addr!r} is not host:port")
    raw_timeout = env.get("VIDMESH_SMTP_TIMEOUT_SECONDS", "").strip() or "10"
    try:
        timeout = float(raw_timeout)
    except ValueError:
        raise ConfigError(f"VIDMESH_SMTP_TIMEOUT_SECONDS={raw_timeout!r} is not a number of seconds") from None
    if timeout <= 0:
        raise ConfigError(f"VIDMESH_SMTP_TIMEOUT_SECONDS={raw_timeout!r} must be positive")
    sender = env.get("VIDMESH_EMAIL_FROM", "").strip() or "vidmesh <no-reply@vidmesh.local>"
    return MailConfig(host.strip("[]"), int(port), sender, timeout)
