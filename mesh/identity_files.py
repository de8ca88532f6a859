"""An identity on disk: `cert.pem` (the leaf and its chain), `key.pem` and `ca.pem` (the roots),
replaced all three at once.

Readers take the files at any moment: grpc's file_watcher certificate provider every few
seconds, Envoy when the folder changes, grpcurl when it starts. A reader must never see the new
certificate beside the old key, so the files are written the way Kubernetes writes a mounted
secret: each version goes into a folder of its own, a `..data` link names the current one and
is replaced by a rename (atomic), and `cert.pem`, `key.pem`, `ca.pem` are links into `..data`.
The rename is also the one change a watcher of the folder sees (Envoy's `watched_directory`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

CERT, KEY, CA = "cert.pem", "key.pem", "ca.pem"
CURRENT = "..data"
VERSION_PREFIX = "..v-"
PRIVATE = 0o600  # the key; the certificates are public
PUBLIC = 0o644
FOLDER_MODE = 0o755


@dataclass(frozen=True)
class IdentityFolder:
    """The three files of one identity under `path`."""

    path: Path

    @property
    def cert(self) -> Path:
        """The leaf certificate followed by its intermediates (PEM)."""
        return self.path / CERT

    @property
    def key(self) -> Path:
        """The leaf's private key (PEM, readable by its owner only)."""
        return self.path / KEY

    @property
    def ca(self) -> Path:
        """Every root the CA trusts (PEM bundle)."""
        return self.path / CA

    def write(self, *, cert_pem: str, key_pem: str, ca_pem: str) -> None:
        """Make these the current files, all three in one atomic step."""
        self.path.mkdir(parents=True, exist_ok=True)
        version = Path(tempfile.mkdtemp(prefix=VERSION_PREFIX, dir=self.path))
        version.chmod(FOLDER_MODE)
        for name, text, mode in ((CERT, cert_pem, PUBLIC), (KEY, key_pem, PRIVATE), (CA, ca_pem, PUBLIC)):
            target = version / name
            target.write_text(text)
            target.chmod(mode)
        staged = self.path / f"{CURRENT}.{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()
        staged.symlink_to(version.name)
        staged.replace(self.path / CURRENT)
        for name in (CERT, KEY, CA):
            link = self.path / name
            if not link.is_symlink():
                with contextlib.suppress(FileNotFoundError):
                    link.unlink()
                link.symlink_to(f"{CURRENT}/{name}")
        self._remove_versions_except(version.name)

    def exists(self) -> bool:
        """Whether a complete identity has been written here."""
        return all(path.is_file() for path in (self.cert, self.key, self.ca))

    def remove(self) -> None:
        """Delete the folder and everything in it."""
        shutil.rmtree(self.path, ignore_errors=True)

    def _remove_versions_except(self, keep: str) -> None:
        for old in self.path.glob(f"{VERSION_PREFIX}*"):
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)
