"""A taken port stops the start before anything runs, naming the component and the port."""

from __future__ import annotations

import socket

import pytest

from scripts.devstack.preflight import PortTaken, check_ports


def test_free_ports_pass() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    check_ports([("kafka", "VIDMESH_KAFKA_PORT", "127.0.0.1", free)])


def test_taken_port_names_component_port_and_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortTaken) as error:
            check_ports([("kafka", "VIDMESH_KAFKA_PORT", "127.0.0.1", port)])
    message = str(error.value)
    assert f"kafka cannot bind 127.0.0.1:{port}: already in use" in message
    assert "VIDMESH_KAFKA_PORT" in message
