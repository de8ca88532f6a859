"""`make test` lists the failed tests again at its very end, from the sessions' JUnit reports."""

import subprocess
import sys
from pathlib import Path

from scripts.run_tests import beside_too, failures


def test_a_failed_and_an_erroring_test_are_listed_with_why(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\n"
        "@pytest.fixture\n"
        "def broken():\n"
        "    raise RuntimeError('fixture broke')\n\n"
        "def test_passes():\n"
        "    pass\n\n"
        "def test_fails():\n"
        "    assert 1 == 2, 'one is not two'\n\n"
        "def test_errors(broken):\n"
        "    pass\n")
    report = tmp_path / "report.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                    "--rootdir", str(tmp_path), str(tmp_path)], cwd=tmp_path, capture_output=True, check=False)

    listed = failures(report)

    assert len(listed) == 2, listed
    assert "test_fails (failure): AssertionError: one is not two" in listed[0]
    assert "test_errors (error)" in listed[1] and "fixture broke" in listed[1]


def test_a_session_that_wrote_no_report_lists_nothing(tmp_path: Path) -> None:
    assert failures(tmp_path / "absent.xml") == []


def test_a_test_run_beside_is_taken_when_its_folder_or_itself_is_asked_for() -> None:
    new_service = "tests/integration/test_new_service.py"
    assert beside_too(["--durations=25", "tests/unit", "tests/integration/", "tests/stack"]) == [new_service]
    assert beside_too(["tests/conformance"]) == ["tests/conformance/selftest"]
    assert beside_too([new_service]) == [new_service]
    assert beside_too(["tests/unit", "tests/stack", "tests/integration/bff"]) == []
