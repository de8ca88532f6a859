"""The control plane's process settings: its runtime server listens on VIDMESH_XDS_MTLS_ADDR
(VIDMESH_XDS_ADDR with mTLS off, where the proxyless clients' plaintext ADS is otherwise),
and it stays out of Consul."""

from __future__ import annotations

import pytest

from mesh import config
from mesh.config import ConfigError
from mesh.xds.__main__ import ENTRY, control_plane_config


def _configured(**environ: str) -> config.ServiceConfig:
    return control_plane_config(config.load(environ, service_name=ENTRY.name))


def test_with_mtls_it_listens_on_the_mtls_address_and_does_not_register() -> None:
    cfg = _configured(VIDMESH_XDS_MTLS_ADDR="0.0.0.0:18443", VIDMESH_XDS_ADDR="0.0.0.0:18000",
                      VIDMESH_GRPC_HOST="127.0.9.9", VIDMESH_GRPC_PORT="7999")
    assert (cfg.grpc_host, cfg.grpc_port, cfg.register) == ("0.0.0.0", 18443, False)
    assert cfg.service_name == "xds"


def test_without_mtls_it_listens_on_the_xds_address() -> None:
    cfg = _configured(VIDMESH_MTLS="false", VIDMESH_XDS_ADDR="0.0.0.0:18000", VIDMESH_XDS_MTLS_ADDR="0.0.0.0:18443")
    assert (cfg.grpc_host, cfg.grpc_port) == ("0.0.0.0", 18000)


def test_the_default_is_loopback() -> None:
    cfg = _configured()
    assert (cfg.grpc_host, cfg.grpc_port) == ("127.0.0.1", 18443)


@pytest.mark.parametrize("setting", ["VIDMESH_XDS_ADDR", "VIDMESH_XDS_MTLS_ADDR"])
@pytest.mark.parametrize("bad", ["18000", "127.0.0.1:", "127.0.0.1:port", "127.0.0.1:70000"])
def test_a_bad_xds_address_is_refused_naming_the_setting(setting: str, bad: str) -> None:
    with pytest.raises(ConfigError, match=setting):
        _configured(**{setting: bad})
