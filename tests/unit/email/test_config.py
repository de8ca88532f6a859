"""The email service's own settings: SMTP address, sender, timeout."""

from __future__ import annotations

import pytest

from mesh.config import ConfigError
from services.email import config


def test_defaults_point_at_the_dev_sink() -> None:
    mail = config.load({})
    assert (mail.smtp_host, mail.smtp_port, mail.timeout_s) == ("127.0.0.1", 1025, 10.0)
    assert "no-reply@" in mail.sender


def test_smtp_addr_is_read() -> None:
    assert config.load({"VIDMESH_SMTP_ADDR": "mail.internal:2525"}).smtp_port == 2525


@pytest.mark.parametrize(("name", "value"), [("VIDMESH_SMTP_ADDR", "nohost"), ("VIDMESH_SMTP_ADDR", "h:99999"),
                                             ("VIDMESH_SMTP_TIMEOUT_SECONDS", "soon"),
                                             ("VIDMESH_SMTP_TIMEOUT_SECONDS", "0")])
def test_malformed_setting_is_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        config.load({name: value})
