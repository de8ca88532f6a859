"""Signing keys in files and the tokens they sign: JWKS, rotation without downtime, races."""

from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import jwt
import pytest

from mesh.config import ConfigError
from mesh.errors import Unavailable
from services.users import keys, tokens
from services.users.keys import KeyRing
from services.users.tokens import TokenIssuer


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def issuer(folder: Path, clock: Clock | None = None) -> TokenIssuer:
    # Signs with the newest key at once; publish-before-sign has its own test below.
    return TokenIssuer(KeyRing(folder, refresh_s=0, sign_after_s=0), clock=clock or time.time)


def test_a_token_carries_the_agreed_claims_and_verifies_against_the_jwks(keys_folder: Path) -> None:
    now = int(time.time())
    signer = issuer(keys_folder, Clock(now))
    issued = signer.issue("3f1c1a3e-0000-4000-8000-000000000001")
    jwks = signer.jwks()
    claims = tokens.verify(issued.token, jwks)
    assert claims == {"iss": "vidmesh-users", "aud": "vidmesh", "sub": "3f1c1a3e-0000-4000-8000-000000000001",
                      "iat": now, "exp": now + 3600}
    assert issued.expires_in == 3600
    header = jwt.get_unverified_header(issued.token)
    assert header["alg"] == "ES256"
    assert header["kid"] == jwks[0]["kid"]
    assert set(jwks[0]) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
    assert (jwks[0]["kty"], jwks[0]["crv"], jwks[0]["use"]) == ("EC", "P-256", "sig")


def test_an_expired_token_is_refused(keys_folder: Path) -> None:
    signer = issuer(keys_folder, Clock(time.time() - 3601))
    with pytest.raises(jwt.ExpiredSignatureError):
        tokens.verify(signer.issue("someone").token, signer.jwks())


def test_a_token_signed_by_another_key_with_our_kid_is_refused(keys_folder: Path, tmp_path: Path) -> None:
    ours, theirs = issuer(keys_folder), tmp_path / "theirs"
    keys.ensure_key(theirs)
    forged_key = keys.load(theirs)[0]
    (theirs / f"{forged_key.kid}.pem").rename(theirs / f"{ours.jwks()[0]['kid']}.pem")
    forged = issuer(theirs).issue("someone")
    with pytest.raises(jwt.InvalidSignatureError):
        tokens.verify(forged.token, ours.jwks())


def test_rotation_signs_with_the_new_key_and_old_tokens_verify_until_their_file_goes(keys_folder: Path) -> None:
    signer = issuer(keys_folder)
    old_kid = signer.jwks()[0]["kid"]
    old_token = signer.issue("someone").token

    new_kid = keys.rotate(keys_folder)
    jwks = signer.jwks()
    assert [key["kid"] for key in jwks] == [new_kid, old_kid]  # newest first
    new_token = signer.issue("someone").token
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    for token in (old_token, new_token):
        assert tokens.verify(token, jwks)["sub"] == "someone"

    (keys_folder / f"{old_kid}.pem").unlink()
    assert [key["kid"] for key in signer.jwks()] == [new_kid]
    with pytest.raises(jwt.InvalidTokenError, match="no key"):
        tokens.verify(old_token, signer.jwks())


def test_a_new_key_is_published_before_it_signs(keys_folder: Path) -> None:
    wall = Clock(time.time())
    ring = KeyRing(keys_folder, refresh_s=0, sign_after_s=90, wall_clock=wall)
    wall.now += 3600  # the first key is an hour old
    first = ring.signing_key().kid
    second = keys.rotate(keys_folder)
    wall.now = keys.created_at(second) + 89
    assert [key.kid for key in ring.keys()] == [second, first]  # noqa: SIM118 -- in the JWKS at once
    assert ring.signing_key().kid == first  # the gateway may not know `second` yet
    wall.now += 1
    assert ring.signing_key().kid == second


def test_a_lone_new_key_signs_at_once(keys_folder: Path) -> None:
    ring = KeyRing(keys_folder, refresh_s=0, sign_after_s=90)
    assert ring.signing_key().kid == ring.keys()[0].kid


def test_a_running_instance_sees_a_rotation_after_its_refresh_interval(keys_folder: Path) -> None:
    clock = Clock(1000.0)
    ring = KeyRing(keys_folder, refresh_s=5, clock=clock, sign_after_s=0)
    first = ring.signing_key().kid
    second = keys.rotate(keys_folder)
    clock.now += 4
    assert ring.signing_key().kid == first
    clock.now += 1
    assert ring.signing_key().kid == second


def test_the_first_start_creates_one_key_and_later_starts_none(tmp_path: Path) -> None:
    folder = tmp_path / "jwt"
    kid = keys.ensure_key(folder)
    assert kid is not None
    assert keys.ensure_key(folder) is None
    assert [key.kid for key in keys.load(folder)] == [kid]
    assert stat.S_IMODE((folder / f"{kid}.pem").stat().st_mode) == 0o600
    assert [p.name for p in folder.iterdir() if p.name.endswith(".partial")] == []


def test_instances_starting_together_on_an_empty_folder_make_exactly_one_key(tmp_path: Path) -> None:
    folder, starters = tmp_path / "jwt", 8
    barrier = threading.Barrier(starters)
    created: list[str | None] = []

    def start() -> None:
        barrier.wait()
        created.append(keys.ensure_key(folder))

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len([kid for kid in created if kid]) == 1
    assert len(list(folder.glob("*.pem"))) == 1


def test_kids_sort_by_creation_time() -> None:
    from datetime import UTC, datetime, timedelta

    earlier = datetime(2030, 1, 1, 12, 0, 0, 999_999, tzinfo=UTC)
    assert keys.new_kid(earlier) < keys.new_kid(earlier + timedelta(microseconds=1))


def test_an_unreadable_key_file_is_skipped_and_no_key_at_all_is_unavailable(keys_folder: Path) -> None:
    good = issuer(keys_folder).jwks()[0]["kid"]
    (keys_folder / "99999999T000000000000Z-bad.pem").write_text("not a key")
    signer = issuer(keys_folder)
    assert [key["kid"] for key in signer.jwks()] == [good]
    for path in keys_folder.glob("*.pem"):
        path.unlink()
    with pytest.raises(Unavailable):
        signer.issue("someone")
    with pytest.raises(Unavailable):
        signer.jwks()


def test_the_rotate_command_adds_a_published_key(keys_folder: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(keys.ENV_DIR, str(keys_folder))
    before = [key.kid for key in keys.load(keys_folder)]
    assert keys.main(["rotate"]) == 0
    after = [key.kid for key in keys.load(keys_folder)]
    assert len(after) == 2
    assert after[1:] == before
    assert keys.main(["list"]) == 0
    # Both keys are seconds old: the new one is published, the old one still signs.
    assert capsys.readouterr().out.splitlines()[-2:] == [after[0], f"{before[0]}  (signing)"]
    assert keys.main(["bogus"]) == 2


def test_the_keys_folder_defaults_to_the_data_dir() -> None:
    assert keys.keys_dir({"VIDMESH_JWT_KEYS_DIR": "/srv/keys"}) == Path("/srv/keys")
    assert keys.keys_dir({}).parts[-2:] == ("data", "jwt")


async def test_readiness_needs_a_signing_key(keys_folder: Path) -> None:
    signer = issuer(keys_folder)
    assert await signer.can_sign()
    for path in keys_folder.glob("*.pem"):
        path.unlink()
    with pytest.raises(keys.KeysUnavailable):
        await signer.can_sign()


async def test_opening_the_keyring_makes_the_first_key_and_reads_the_settings(tmp_path: Path) -> None:
    folder = tmp_path / "jwt"
    ring = await keys.open_keyring({keys.ENV_DIR: str(folder), keys.ENV_SIGN_AFTER: "0"})
    assert ring.folder == folder and len(keys.load(folder)) == 1
    await keys.open_keyring({keys.ENV_DIR: str(folder)})
    assert len(keys.load(folder)) == 1  # a second instance finds the key


@pytest.mark.parametrize("value", ["soon", "-1"])
def test_a_malformed_sign_after_setting_is_named(value: str) -> None:
    with pytest.raises(ConfigError, match=keys.ENV_SIGN_AFTER):
        keys.sign_after_s({keys.ENV_SIGN_AFTER: value})
