"""The one settings file: defaults from the issue, environment overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mesh.settings import SETTINGS_FILE, SettingsError, load


def test_defaults_are_the_documented_loopback_ports() -> None:
    s = load(environ={})
    assert s.host == "127.0.0.1"
    assert (s.envoy_port, s.envoy_admin_port, s.consul_http_port) == (8080, 9901, 8500)
    assert (s.kafka_port, s.kafka_controller_port, s.postgres_port) == (9092, 9093, 5432)
    assert (s.xds_port, s.smtp_port) == (18000, 1025)
    assert s.instances["video_query"] == 2


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    s = load(environ={"VIDMESH_KAFKA_PORT": "19092", "VIDMESH_DATA_DIR": str(tmp_path),
                      "VIDMESH_USERS_INSTANCES": "3"})
    assert s.kafka_port == 19092
    assert s.data_dir == tmp_path
    assert s.instances["users"] == 3


def test_relative_folders_are_under_the_repository() -> None:
    s = load(environ={"VIDMESH_LOG_DIR": "somewhere/logs"})
    assert s.log_dir == SETTINGS_FILE.parent / "somewhere" / "logs"


def test_bad_port_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="VIDMESH_POSTGRES_PORT='99999' is not a port"):
        load(environ={"VIDMESH_POSTGRES_PORT": "99999"})


def test_missing_setting_is_named(tmp_path: Path) -> None:
    partial = tmp_path / "settings.env"
    partial.write_text(SETTINGS_FILE.read_text().replace("VIDMESH_SMTP_PORT=1025\n", ""))
    with pytest.raises(SettingsError, match="missing setting VIDMESH_SMTP_PORT"):
        load(environ={}, path=partial)


def test_every_address_is_listed_once() -> None:
    ports = load(environ={}).ports()
    addresses = [(host, port) for _, _, host, port in ports]
    assert len(addresses) == len(set(addresses))
    assert ("kafka", "VIDMESH_KAFKA_PORT", "127.0.0.1", 9092) in ports


def test_each_instance_has_a_loopback_address_and_name_of_its_own() -> None:
    settings = load(environ={"VIDMESH_VIDEO_QUERY_INSTANCES": "3"})
    names = settings.instance_names()
    assert names["users-0"] == "127.0.1.1"
    assert [names[f"video-query-{n}"] for n in range(3)] == ["127.0.3.1", "127.0.3.2", "127.0.3.3"]
    assert len(set(names.values())) == len(names)
    # Another instance of video-query moves no other instance.
    assert names["notification-0"] == load(environ={}).instance_names()["notification-0"]
