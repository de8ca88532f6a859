"""An identity on disk: three files replaced together, the key readable by its owner alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mesh.identity_files import IdentityFolder


def test_the_three_files_are_written_with_the_key_private(tmp_path: Path) -> None:
    folder = IdentityFolder(tmp_path / "operator")
    folder.write(cert_pem="CERT 1", key_pem="KEY 1", ca_pem="CA 1")
    assert (folder.cert.read_text(), folder.key.read_text(), folder.ca.read_text()) == ("CERT 1", "KEY 1", "CA 1")
    assert stat.S_IMODE(folder.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.cert.stat().st_mode) == 0o644
    assert folder.exists()


def test_a_renewal_replaces_all_three_at_once_through_one_link(tmp_path: Path) -> None:
    folder = IdentityFolder(tmp_path / "gateway")
    folder.write(cert_pem="CERT 1", key_pem="KEY 1", ca_pem="CA 1")
    first = os.readlink(folder.path / "..data")
    folder.write(cert_pem="CERT 2", key_pem="KEY 2", ca_pem="CA 2")
    # The files are links into `..data`, whose one rename swaps every file.
    assert os.readlink(folder.cert) == "..data/cert.pem"
    assert os.readlink(folder.path / "..data") != first
    assert (folder.cert.read_text(), folder.key.read_text(), folder.ca.read_text()) == ("CERT 2", "KEY 2", "CA 2")
    assert sorted(p.name for p in folder.path.iterdir() if p.name.startswith("..v-")) == [
        os.readlink(folder.path / "..data")]


def test_remove_takes_the_whole_folder(tmp_path: Path) -> None:
    folder = IdentityFolder(tmp_path / "video-query-x")
    folder.write(cert_pem="C", key_pem="K", ca_pem="R")
    folder.remove()
    assert not folder.path.exists() and not folder.exists()
