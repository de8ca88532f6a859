"""scripts/gateway.py's Compose command fails with a message that says what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import gateway


def test_compose_rendering_names_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gateway.main(["compose", str(tmp_path / "absent")]) == 1
    assert f"{tmp_path / 'absent'} is not a folder" in capsys.readouterr().err


def test_unknown_command_prints_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert gateway.main(["compse", "/tmp"]) == 2
    assert "python -m scripts.gateway compose DIR" in capsys.readouterr().err
