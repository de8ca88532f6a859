"""mesh.log's batched writes: fewer writes to the pipe, and no line lost or held back for long."""

from __future__ import annotations

import io
import logging
import time

from mesh.log import FLUSH_EVERY_S, BatchedHandler

WAIT_S = 5.0  # the bound of a wait for the flushing thread; it writes every FLUSH_EVERY_S


class CountingStream(io.StringIO):
    """A stream that counts its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("test", level, __file__, 1, message, None, None)


def test_info_lines_wait_and_go_out_together_in_one_write() -> None:
    stream = CountingStream()
    handler = BatchedHandler(stream)
    try:
        for n in range(50):
            handler.handle(_record(logging.INFO, f"line {n}"))
        deadline = time.monotonic() + WAIT_S
        while "line 49" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(FLUSH_EVERY_S / 4)  # polling interval of a bounded wait for the flushing thread
        assert stream.getvalue().splitlines() == [f"line {n}" for n in range(50)]
        assert stream.writes < 50  # batched: in the common case one write for all 50
    finally:
        handler.close()


def test_a_warning_goes_out_at_once_with_every_line_before_it() -> None:
    stream = CountingStream()
    handler = BatchedHandler(stream)
    try:
        handler.handle(_record(logging.INFO, "before"))
        handler.handle(_record(logging.WARNING, "the warning"))
        assert stream.getvalue().splitlines() == ["before", "the warning"]  # no wait: written in handle()
    finally:
        handler.close()


def test_closing_writes_what_is_pending() -> None:
    stream = CountingStream()
    handler = BatchedHandler(stream)
    handler.handle(_record(logging.INFO, "last words"))
    handler.close()  # what logging.shutdown() does at exit
    assert stream.getvalue() == "last words\n"
