"""`make deps` reports a failure with the part, the command and its last lines."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mesh.settings import ROOT, load
from scripts import deps
from scripts.toolchain import GO_BINARIES, PROMETHEUS_MODULE_VERSION, GoBinary, Toolchain


def test_failed_step_keeps_command_and_output() -> None:
    with pytest.raises(deps.PartFailed) as failure:
        deps.run(["sh", "-c", "echo fetching; echo 'boom: not found' >&2; exit 3"])
    assert failure.value.command[0] == "sh"
    assert "boom: not found" in failure.value.output


def test_failure_report_names_the_part(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    broken = deps.Part("kafka", "Kafka jars", lambda: False, lambda: deps.run(["sh", "-c", "echo unreachable; exit 1"]))
    monkeypatch.setattr(deps, "parts", lambda _tools: [broken])
    assert deps.main([]) == 1
    err = capsys.readouterr().err
    assert "FAILED part 'kafka'" in err
    assert "command: sh -c echo unreachable; exit 1" in err
    assert "unreachable" in err


def test_the_python_part_installs_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # `make protos` runs `deps.py python`: the Go, Java and npm parts must not even be looked at.
    installed: set[str] = set()

    def part(name: str) -> deps.Part:
        return deps.Part(name, name, lambda: name in installed, lambda: installed.add(name))

    monkeypatch.setattr(deps, "parts", lambda _tools: [part("python"), part("kafka"), part("buf")])
    assert deps.main(["python"]) == 0
    assert installed == {"python"}


def test_an_unknown_part_is_refused_with_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert deps.main(["pyhton"]) == 2
    err = capsys.readouterr().err
    assert "no part named pyhton" in err and "python, envoy" in err


def test_default_cache_is_outside_the_clone() -> None:
    tools = Toolchain(load(environ={}).cache_dir)
    assert not str(tools.kafka_libs).startswith(str(ROOT))
    assert not str(tools.consul).startswith(str(ROOT))


def test_build_tags_are_part_of_a_go_binarys_cache_key() -> None:
    plain = GoBinary("prometheus", "example.test/p", "v1.0.0", "example.test/p/cmd/prometheus")
    tagged = replace(plain, tags=("remove_all_sd", "enable_consul_sd"))
    assert plain.cached_name == "prometheus-v1.0.0"
    assert tagged.cached_name != plain.cached_name  # an untagged binary in the cache is not reused
    assert replace(tagged, tags=("enable_consul_sd", "remove_all_sd")).cached_name == tagged.cached_name
    assert replace(tagged, tags=("remove_all_sd",)).cached_name != tagged.cached_name


def test_prometheus_is_built_with_consul_discovery_only() -> None:
    prometheus = next(binary for binary in GO_BINARIES if binary.name == "prometheus")
    assert deps.go_build_flags(prometheus) == ["-tags", "remove_all_sd,enable_consul_sd"]
    cached = Toolchain(load(environ={}).cache_dir).prometheus
    assert cached.name == f"prometheus-{PROMETHEUS_MODULE_VERSION}+enable_consul_sd,remove_all_sd"
    assert all(deps.go_build_flags(binary) == [] for binary in GO_BINARIES if not binary.tags)
