"""Checks made before anything starts, so a failure leaves nothing running."""

from __future__ import annotations

import errno
import socket


class PortTaken(RuntimeError):
    """A port the stack needs is in use; the message names the component and the port."""


def check_ports(ports: list[tuple[str, str, str, int]]) -> None:
    """Bind each address as the server would (SO_REUSEADDR, so TIME_WAIT is no conflict)."""
    for component, setting, host, port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                reason = "already in use" if error.errno == errno.EADDRINUSE else error.strerror
                raise PortTaken(f"{component} cannot bind {host}:{port}: {reason}. Stop what uses it, "
                                f"or set another port with {setting} (settings.env or the environment).") from None
