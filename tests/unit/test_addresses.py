"""Host names become IPs before anything reaches Consul or Envoy: the stack's own map first,
then DNS; a name that resolves nowhere is refused by name."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from mesh.addresses import Resolver, Unresolvable, is_ip, parse_hosts, render_hosts
from mesh.xds.snapshot import Instance
from mesh.xds.watcher import healthy_instances


def test_hosts_text_round_trips_and_ignores_comments() -> None:
    names = {"users-0": "127.0.1.1", "video-query-1": "127.0.3.2"}
    text = "# the stack's names\n" + render_hosts(names) + "not-an-ip somewhere\n\n127.0.9.9 # no name\n"
    assert parse_hosts(text) == names


def test_ip_literals_pass_untouched() -> None:
    resolver = Resolver()
    assert resolver.resolve("127.0.3.2") == "127.0.3.2"
    assert resolver.resolve("[::1]") == "::1"
    assert is_ip("10.0.0.5") and not is_ip("video-query-1")


def test_the_stacks_map_wins_and_a_changed_map_is_read_again(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text(render_hosts({"localhost": "127.0.5.5", "users-0": "127.0.1.1"}))
    resolver = Resolver(hosts)
    assert resolver.resolve("localhost") == "127.0.5.5"  # not what DNS says
    hosts.write_text(render_hosts({"users-0": "127.0.1.9"}))
    os.utime(hosts, (1, 1))  # a new mtime, even within the filesystem's timestamp granularity
    assert resolver.resolve("users-0") == "127.0.1.9"


def test_a_name_nobody_knows_is_refused_by_name(tmp_path: Path) -> None:
    resolver = Resolver(tmp_path / "hosts")  # the map need not exist yet
    with pytest.raises(Unresolvable, match=re.escape("'no-such-instance.invalid'")):
        resolver.resolve("no-such-instance.invalid")


def _entry(address: str, port: int, node: str = "127.0.0.1") -> dict[str, object]:
    return {"Node": {"Address": node}, "Service": {"ID": f"svc-{address}-{port}", "Address": address, "Port": port}}


def test_the_control_plane_resolves_names_and_leaves_out_what_does_not_resolve(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text(render_hosts({"video-query-1": "127.0.3.2"}))
    entries = [_entry("127.0.3.1", 7030), _entry("video-query-1", 7031), _entry("gone.invalid", 7032),
               _entry("", 7033, node="127.0.0.9")]
    assert healthy_instances(entries, Resolver(hosts)) == [
        Instance("127.0.3.1", 7030), Instance("127.0.3.2", 7031), Instance("127.0.0.9", 7033)]
