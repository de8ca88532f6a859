"""What a killed run left behind is stopped, and gone, before a new start checks its ports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil

from mesh.settings import load
from scripts.devstack.layout import Layout
from scripts.devstack.manager import stop_leftovers

# A leftover that holds a port and ignores SIGTERM, as a Kafka past its grace does.
STUBBORN = """
import signal, socket, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
held = socket.socket()
held.bind(("127.0.0.1", 0))
held.listen()
print(held.getsockname()[1], flush=True)
sys.stdin.read()
"""


def test_a_leftover_that_ignores_sigterm_is_killed_and_gone_when_stop_leftovers_returns(tmp_path: Path) -> None:
    layout = Layout(load(environ={"VIDMESH_DATA_DIR": str(tmp_path)}))
    layout.run.mkdir(parents=True)
    leftover = subprocess.Popen([sys.executable, "-c", STUBBORN], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
    try:
        assert leftover.stdout is not None
        port = int(leftover.stdout.readline())
        process = psutil.Process(leftover.pid)
        name = process.name()
        entry = {"name": "kafka", "pid": process.pid, "started": process.create_time()}
        layout.state_file.write_text(json.dumps([entry]))
        assert stop_leftovers(layout, grace=0.2) == [name]
        # Gone, not dying: no process (not even a zombie) and its port free.
        assert not psutil.pid_exists(leftover.pid)
        assert not any(c.laddr and c.laddr.port == port for c in psutil.net_connections("tcp") if c.status == "LISTEN")
        assert not layout.state_file.exists()
    finally:
        if leftover.poll() is None:
            leftover.kill()
