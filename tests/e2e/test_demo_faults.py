"""`make demo`'s fault rehearsal, run as the tour runs it against the stack: the web home
answers 200 with notifications named degraded while notification is aborted, and is whole
again once the fault key is gone (which the step removes, whatever happens)."""

from __future__ import annotations

import consul
import pytest

from mesh.settings import Settings
from mesh.traffic.entries import FAULT_PREFIX
from scripts.demo import faults
from scripts.demo.world import connect, set_up


def test_the_fault_step_shows_the_home_degraded_then_recovered(settings: Settings,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    demo = connect()
    set_up(demo)
    note = faults.run(demo)
    shown = capsys.readouterr().out

    _, key = consul.Consul(host=settings.host, port=settings.consul_http_port).kv.get(f"{FAULT_PREFIX}notification")
    assert key is None, "the step left its fault behind"
    assert "FAILED" not in shown, shown
    under_fault, _, after = shown.partition("remove the fault")
    assert "degraded: ['notifications']" in under_fault, under_fault
    assert under_fault.count("HTTP 200") >= 2 and "HTTP 5" not in shown, shown
    assert after.rstrip().endswith("[ok] 200, nothing degraded: recovered"), after
    assert note.startswith("notification aborted: home 200 with 'notifications' degraded "), note
