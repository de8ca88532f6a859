"""A campaign stopped with Ctrl-C or SIGTERM undoes its faults before it ends (and so stops
its private stack): a frozen process is not left frozen."""

import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable

import psutil

from mesh.settings import ROOT

# A campaign's injector freezing one real process for a minute, in a process of its own so
# the test can signal it. The stack around it is only the process table (the injector asks
# it for the pid); nothing of the stack's behaviour is stood in for.
FREEZE_A_MINUTE = textwrap.dedent("""
    import sys, time
    from scripts.chaos.faults import Injector
    from scripts.chaos.private_stack import interrupt_on_signals
    from scripts.chaos.schedule import Fault
    from scripts.devstack.manager import ProcessState

    class ProcessTable:
        def __init__(self, pid): self.pid = pid
        def states(self): return {"frozen": ProcessState("frozen", self.pid, True, True, "Running", 0)}
        def ready(self, name): return True

    interrupt_on_signals()
    try:
        Injector(ProcessTable(int(sys.argv[1])), time.monotonic).run_all(
            (Fault(kind="freeze", target="frozen", hold_s=60.0),))
    except KeyboardInterrupt as why:
        print("interrupted by", why, flush=True)
        sys.exit(130)
""")


def _wait_until(condition: Callable[[], bool], within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)  # the polling interval of a bounded wait
    return condition()


def _interrupt_a_freeze(sig: signal.Signals, *, sigint_ignored: bool = False) -> tuple[int, str, str]:
    victim = subprocess.Popen(["sleep", "300"])
    try:
        campaign = subprocess.Popen(
            [sys.executable, "-c", FREEZE_A_MINUTE, str(victim.pid)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
            # what a shell without job control does to a job it starts in the background
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None)
        frozen = _wait_until(lambda: bool(psutil.Process(victim.pid).status() == psutil.STATUS_STOPPED), 20)
        assert frozen, "the injector never froze the process"
        campaign.send_signal(sig)
        out, _ = campaign.communicate(timeout=20)
        return campaign.returncode, out, str(psutil.Process(victim.pid).status())
    finally:
        victim.kill()
        victim.wait()


def test_sigterm_resumes_the_frozen_process_and_ends_the_run() -> None:
    code, out, status = _interrupt_a_freeze(signal.SIGTERM)

    assert code == 130 and "interrupted by SIGTERM" in out
    assert status != psutil.STATUS_STOPPED


def test_ctrl_c_works_even_when_the_shell_started_the_run_with_sigint_ignored() -> None:
    code, out, status = _interrupt_a_freeze(signal.SIGINT, sigint_ignored=True)

    assert code == 130 and "interrupted by SIGINT" in out
    assert status != psutil.STATUS_STOPPED
