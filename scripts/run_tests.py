"""`make test`: start the stack (or reuse a healthy one), run pytest, the Go tests (with
their integration tests against the same stack) and the Go client, stop what was started.
`--pytest-only` first runs pytest alone (`make conformance`).

tests/stack runs in a pytest session of its own beside the others: its tests start, kill and
stop private stacks (own ports and folders) and spend most of their minutes waiting for them,
so on 2 cores the two sessions together take little more than the longer one (BESIDE_TOO
lists the few other tests that run there for the same reason). Its output is
printed when both are done (and is in .run/logs/test-stack.log).

The failed tests of both sessions are listed again as the very last lines, so that a log cut
to its tail (a CI summary) still says what failed.

The pytest session itself never stops the stack, so several sessions (or a developer's
`make start`) can share one; only this wrapper, which knows it started it, stops it.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from mesh.settings import load
from scripts import golang
from scripts.devstack.layout import Layout
from scripts.devstack.stack import Stack
from scripts.toolchain import Toolchain

BESIDE = "tests/stack"
# Tests elsewhere that also spend their minutes in processes of their own (a fresh clone's
# codegen and kit, the kit's breakers) under names of their own, touching no state that other
# tests read: they run in the session beside too, when their folder is asked for.
BESIDE_TOO = ("tests/integration/test_new_service.py", "tests/conformance/selftest")


def beside_too(pytest_args: list[str]) -> list[str]:
    """The BESIDE_TOO tests that `pytest_args` asks for (by their folder or themselves)."""
    asked = [arg.rstrip("/") for arg in pytest_args if not arg.startswith("-")]
    return [test for test in BESIDE_TOO if any(test == a or test.startswith(f"{a}/") for a in asked)]


def failures(report: Path) -> list[str]:
    """One line per failed or erroring test of a JUnit XML report: its id and the first line of why."""
    if not report.exists():
        return []
    lines = []
    for case in ElementTree.parse(report).iter("testcase"):
        for outcome in (*case.iter("failure"), *case.iter("error")):
            why = (outcome.get("message") or "").strip().splitlines()[:1]
            name = f"{case.get('classname')}::{case.get('name')}"
            lines.append(f"{name} ({outcome.tag}): {why[0][:200] if why else ''}")
    return lines


def pytest_in_two(pytest_args: list[str], logs: Path) -> tuple[int, list[Path]]:
    """pytest over `pytest_args`, with BESIDE (when asked for) in a second session at the same time.

    Returns the first non-zero exit code and the JUnit reports the sessions wrote."""
    options = [arg for arg in pytest_args if arg.startswith("-")]
    logs.mkdir(parents=True, exist_ok=True)
    main_report, beside_report = logs / "pytest.xml", logs / "pytest-stack.xml"
    for report in (main_report, beside_report):
        report.unlink(missing_ok=True)
    if BESIDE not in pytest_args:
        failed = subprocess.call([sys.executable, "-m", "pytest", f"--junitxml={main_report}", *pytest_args])
        return failed, [main_report]
    log = logs / "test-stack.log"
    extra = beside_too(pytest_args)
    with log.open("w") as out:
        beside = subprocess.Popen([sys.executable, "-m", "pytest", f"--junitxml={beside_report}", *options,
                                   BESIDE, *extra], stdout=out, stderr=subprocess.STDOUT)
    print(f"test: {' '.join([BESIDE, *extra])} run beside the others (their output follows)", flush=True)
    try:
        failed = subprocess.call([sys.executable, "-m", "pytest", f"--junitxml={main_report}",
                                  *[a for a in pytest_args if a != BESIDE], *[f"--ignore={t}" for t in extra]])
    finally:
        beside_failed = beside.wait()
    print(f"test: {' '.join([BESIDE, *extra])}, which ran beside them:", flush=True)
    sys.stdout.write(Path(log).read_text())
    sys.stdout.flush()
    return failed or beside_failed, [main_report, beside_report]


def main(pytest_args: list[str]) -> int:
    pytest_only = pytest_args[:1] == ["--pytest-only"]
    pytest_args = pytest_args[1:] if pytest_only else pytest_args
    stack = Stack()
    print("test: starting the stack (or reusing a running one) ...", flush=True)
    started = stack.ensure_started()
    reports: list[Path] = []
    try:
        failed, reports = pytest_in_two(pytest_args, Layout(load()).logs)
        if pytest_only:
            return failed
        print("test: go test ./... (unit and integration)", flush=True)
        go_failed = golang.test(Toolchain(load().cache_dir), integration=True)
        print("test: the Go client (vidmesh-cli check) through the gateway", flush=True)
        cli_failed = golang.cli()
        return failed or go_failed or cli_failed
    finally:
        if started:
            print("test: stopping the stack this run started", flush=True)
            stack.stop()
        failed_tests = [line for report in reports for line in failures(report)]
        if failed_tests:
            print(f"test: {len(failed_tests)} pytest test(s) failed:", *failed_tests, sep="\n  ", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
