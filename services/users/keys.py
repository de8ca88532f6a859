"""The ES256 keys that sign access tokens: PEM files in one folder, shared by every instance.

The folder is VIDMESH_JWT_KEYS_DIR (default `<data_dir>/jwt`). Each file is `<kid>.pem`, an
unencrypted PKCS#8 P-256 private key; a kid starts with its UTC creation time, so the
greatest kid is the newest key. Instances publish every key in the folder at once, but a
new key signs only once it has been published for VIDMESH_JWT_SIGN_AFTER_SECONDS (default
90 s): the gateway caches the JWKS for 60 s, so by then it knows the key. Rotation needs no
downtime:

    python -m services.users.keys rotate     # published now, signs after the delay
    python -m services.users.keys list       # newest first, the signing key marked
    rm <folder>/<old kid>.pem                # once the old tokens have expired (1 h)

Running instances notice changes within REFRESH_S seconds. Files appear atomically (written
aside, then renamed), and creation happens under a lock file, so two instances starting at
once on an empty folder make one key, not two.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mesh import settings
from mesh.config import ConfigError

ENV_DIR = "VIDMESH_JWT_KEYS_DIR"
ENV_SIGN_AFTER = "VIDMESH_JWT_SIGN_AFTER_SECONDS"
SIGN_AFTER_S = 90.0  # longer than the gateway's JWKS cache_duration (60 s)
REFRESH_S = 5.0
LOCK_TIMEOUT_S = 10.0
_log = structlog.get_logger(__name__)


class KeysUnavailable(RuntimeError):
    """The keys cannot be read: no folder, no key, or a file that is not a P-256 private key."""


@dataclass(frozen=True)
class SigningKey:
    """One key: its id (the `kid` header) and the private key."""

    kid: str
    private_key: ec.EllipticCurvePrivateKey


def keys_dir(environ: Mapping[str, str] | None = None) -> Path:
    """VIDMESH_JWT_KEYS_DIR, else `jwt` inside the stack's data folder."""
    env = os.environ if environ is None else environ
    configured = env.get(ENV_DIR, "").strip()
    return Path(configured) if configured else settings.load(dict(env)).data_dir / "jwt"


def sign_after_s(environ: Mapping[str, str] | None = None) -> float:
    """How long a new key is published before it signs (VIDMESH_JWT_SIGN_AFTER_SECONDS)."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_SIGN_AFTER, "").strip()
    try:
        seconds = float(raw) if raw else SIGN_AFTER_S
    except ValueError:
        raise ConfigError(f"{ENV_SIGN_AFTER}={raw!r} is not a number of seconds") from None
    if seconds < 0:
        raise ConfigError(f"{ENV_SIGN_AFTER}={raw!r} must not be negative")
    return seconds


async def open_keyring(environ: Mapping[str, str]) -> KeyRing:
    """The keyring of the configured folder, with a first key made if the folder has none
    (the very first instance of a fresh stack creates it; the others find it)."""
    folder = keys_dir(environ)
    if kid := await asyncio.to_thread(ensure_key, folder):
        _log.info("signing key created", kid=kid, folder=str(folder))
    return KeyRing(folder, sign_after_s=sign_after_s(environ))


def created_at(kid: str) -> float:
    """The key's creation time (epoch seconds), read from the start of its kid."""
    return datetime.strptime(kid.split("-", 1)[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC).timestamp()


def new_kid(now: datetime | None = None) -> str:
    """A fresh key id that sorts after every earlier one (microsecond UTC time first)."""
    return f"{(now or datetime.now(UTC)):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(2)}"


def load(folder: Path) -> list[SigningKey]:
    """Every key in the folder, newest first."""
    return [_read(path) for path in sorted(folder.glob("*.pem"), reverse=True)]


def ensure_key(folder: Path) -> str | None:
    """Create the first key if the folder has none; returns its kid (None if keys existed)."""
    with _locked(folder):
        if any(folder.glob("*.pem")):
            return None
        return _write_new_key(folder)


def rotate(folder: Path) -> str:
    """Add a new key, published at once and signing after the delay; returns its kid."""
    with _locked(folder):
        return _write_new_key(folder)


def _write_new_key(folder: Path) -> str:
    kid = new_kid()
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # mkstemp creates the file 0600; the rename makes it appear whole or not at all.
    fd, partial = tempfile.mkstemp(dir=folder, prefix=".", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, folder / f"{kid}.pem")
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return kid


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(folder / ".lock", "a") as lock_file:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise KeysUnavailable(f"{folder / '.lock'} is held by another process") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _read(path: Path) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise KeysUnavailable(f"cannot read signing key {path}: {error}") from error
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise KeysUnavailable(f"{path} is not a P-256 (ES256) private key")
    return SigningKey(path.stem, key)


class KeyRing:
    """The folder's keys as this process sees them, re-read at most every `refresh_s`."""

    def __init__(self, folder: Path, refresh_s: float = REFRESH_S,
                 clock: Callable[[], float] = time.monotonic, sign_after_s: float = SIGN_AFTER_S,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.folder, self._refresh_s, self._clock = folder, refresh_s, clock
        self._sign_after_s, self._wall_clock = sign_after_s, wall_clock
        self._keys: list[SigningKey] = []
        self._loaded_at: float | None = None

    def keys(self) -> list[SigningKey]:
        """Every current key, newest first; KeysUnavailable when there is none or one is unreadable."""
        now = self._clock()
        if self._loaded_at is None or now - self._loaded_at >= self._refresh_s:
            self._keys = self._reload()
            self._loaded_at = now
        if not self._keys:
            raise KeysUnavailable(f"no signing key in {self.folder}")
        return self._keys

    def signing_key(self) -> SigningKey:
        """The newest key published for at least `sign_after_s`; the oldest when none is
        (the very first key signs at once: there is no earlier one)."""
        keys = self.keys()
        now = self._wall_clock()
        settled = [key for key in keys if now - created_at(key.kid) >= self._sign_after_s]
        return settled[0] if settled else keys[-1]

    def _reload(self) -> list[SigningKey]:
        # Keys are immutable once written: parse only the files not seen before. A file that
        # cannot be read is left out (and logged at every reload) rather than stopping the
        # good keys from signing.
        known = {key.kid: key for key in self._keys}
        found = []
        for path in sorted(self.folder.glob("*.pem"), reverse=True):
            try:
                found.append(known.get(path.stem) or _read(path))
            except KeysUnavailable as error:
                _log.warning("signing key skipped", error=str(error))
        return found


def main(argv: list[str] | None = None) -> int:
    """`python -m services.users.keys rotate|list`."""
    args = sys.argv[1:] if argv is None else argv
    folder = keys_dir()
    if args == ["rotate"]:
        print(f"{rotate(folder)} (new signing key in {folder})")  # a CLI's output, not a log
    elif args == ["list"]:
        signing = KeyRing(folder, sign_after_s=sign_after_s()).signing_key().kid
        for key in load(folder):
            print(f"{key.kid}{'  (signing)' if key.kid == signing else ''}")
    else:
        print("usage: python -m services.users.keys rotate|list", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
