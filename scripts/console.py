"""What the stack's command line prints, and the signals that stop it.

Neither may leave a stack running. `make up | tee up.log` and then Ctrl-C: tee dies first, so
a plain print() raises BrokenPipeError halfway through stopping; a closed terminal answers
EIO. Output therefore never raises (once the reader is gone the rest goes to /dev/null), and
SIGINT, SIGTERM and SIGHUP all mean "stop everything", once: while stopping they are ignored,
so a second Ctrl-C cannot cut the ordered shutdown short.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import TextIO

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def say(message: str = "", *, stream: TextIO | None = None) -> None:
    """Print a line for the person at the terminal; never fails, whoever stopped reading."""
    target = stream or sys.stdout
    try:
        print(message, file=target, flush=True)
    except OSError:  # EPIPE from a closed pipe, EIO from a hung-up terminal
        _to_devnull(target)


def _to_devnull(stream: TextIO) -> None:
    # The stream's buffer may still hold the failed line: pointing the file descriptor at
    # /dev/null lets it (and the flush at exit) succeed instead of raising again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)


def _stop_requested(signum: int, _frame: FrameType | None) -> None:
    ignore_stop_signals()
    raise KeyboardInterrupt(signal.Signals(signum).name)


def stop_on_signals() -> None:
    """Turn SIGINT, SIGTERM and SIGHUP into KeyboardInterrupt, the one way to ask for a stop."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _stop_requested)


def ignore_stop_signals() -> None:
    """Let an ordered shutdown finish whatever the terminal sends meanwhile."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
