"""The control plane's process settings: it listens on VIDMESH_XDS_ADDR and stays out of Consul."""

from __future__ import annotations

import pytest

from mesh import config
from mesh.config import ConfigError
from mesh.xds.__main__ import ENTRY, control_plane_config


def _configured(**environ: str) -> config.ServiceConfig:
    return control_plane_config(config.load(environ, service_name=ENTRY.name))


def test_it_listens_on_the_xds_address_and_does_not_register() -> None:
    cfg = _configured(VIDMESH_XDS_ADDR="0.0.0.0:18000", VIDMESH_GRPC_HOST="127.0.9.9", VIDMESH_GRPC_PORT="7999")
    assert (cfg.grpc_host, cfg.grpc_port, cfg.register) == ("0.0.0.0", 18000, False)
    assert cfg.service_name == "xds"


def test_the_default_is_loopback() -> None:
    cfg = _configured()
    assert (cfg.grpc_host, cfg.grpc_port) == ("127.0.0.1", 18000)


@pytest.mark.parametrize("bad", ["18000", "127.0.0.1:", "127.0.0.1:port", "127.0.0.1:70000"])
def test_a_bad_xds_address_is_refused_naming_the_setting(bad: str) -> None:
    with pytest.raises(ConfigError, match="VIDMESH_XDS_ADDR"):
        _configured(VIDMESH_XDS_ADDR=bad)
