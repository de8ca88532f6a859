"""Every API port of the running stack takes mutual TLS with a certificate of this mesh's CA
and nothing else, and then only from an identity an intention allows (MESH.md §13).

Each refusal has its control: the operator's certificate, over the same kind of connection,
gets in."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cryptography import x509

from mesh.identity_files import IdentityFolder
from mesh.settings import ROOT, Settings, load
from mesh.spiffe import SpiffeId
from tests.integration.identity.support import Target, accepts, foreign, grpcurl, issued, stack_targets


@pytest.fixture(scope="module")
def intruder(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> IdentityFolder:
    """A real leaf of the mesh's CA for a made-up service, which no intention names."""
    return issued(settings, f"intruder-{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("intruder"))


@pytest.fixture(params=[target.name for target in stack_targets(load())])
def target(request: pytest.FixtureRequest, settings: Settings) -> Target:
    [found] = [t for t in stack_targets(settings) if t.name == request.param]
    return found


def test_plaintext_is_refused_where_mutual_tls_gets_in(settings: Settings, operator: IdentityFolder,
                                                       target: Target) -> None:
    plaintext = grpcurl(settings, None, target.address, "list")
    assert plaintext.returncode != 0, plaintext.stdout
    assert accepts(target.address, operator, trust=operator), f"{target.name} refused the operator"
    listed = grpcurl(settings, operator, target.address, "list")
    assert listed.returncode == 0 and "grpc.health.v1.Health" in listed.stdout, listed.stderr


def test_a_certificate_of_another_ca_or_none_is_refused_in_the_handshake(
        settings: Settings, operator: IdentityFolder, target: Target, tmp_path: Path) -> None:
    # The same SPIFFE id the operator has, signed by a stranger: only the CA makes it count.
    stranger = foreign(tmp_path / "stranger", SpiffeId.parse(_uri(operator)).uri)
    assert stranger.cert.read_text() != operator.cert.read_text()
    assert not accepts(target.address, stranger, trust=operator)
    assert not accepts(target.address, None, trust=operator)
    assert accepts(target.address, operator, trust=operator)


def test_a_valid_identity_no_intention_allows_gets_permission_denied_naming_it(
        settings: Settings, intruder: IdentityFolder, target: Target) -> None:
    assert accepts(target.address, intruder, trust=intruder)  # the handshake is fine: it is the CA's
    refused = grpcurl(settings, intruder, target.address, "list")
    assert refused.returncode != 0
    assert "PermissionDenied" in refused.stderr, refused.stderr
    assert f"{_uri(intruder)} may not call {target.identity}" in refused.stderr


def test_video_command_refuses_a_made_up_service_with_permission_denied(
        settings: Settings, intruder: IdentityFolder) -> None:
    # The issue's own check: a leaf for a made-up name, an actual command of the API.
    [video_command] = [t for t in stack_targets(settings) if t.name == "video-command-0"]
    refused = grpcurl(settings, intruder, "-protoset", str(ROOT / "gen" / "vidmesh.binpb"), "-d", '{"title": "forged"}',
                      video_command.address, "vidmesh.video.v1.VideoCommandService/CreateVideo")
    assert "Code: PermissionDenied" in refused.stdout + refused.stderr, refused.stdout + refused.stderr


def _uri(folder: IdentityFolder) -> str:
    cert = x509.load_pem_x509_certificate(folder.cert.read_bytes())
    [uri] = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.UniformResourceIdentifier)
    return str(uri)
