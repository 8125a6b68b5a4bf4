"""RemoteBackend against the emulator (``hybrid serve`` in a subprocess on 127.0.0.1), a real
openEO API with a real OIDC provider, through the unchanged openeo client.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybrid.comparison import compare
from hybrid.errors import AuthenticationError, RemoteBackendError
from hybrid.workflow_graph import graph_hash
from tests.cli.scripted_backend import (
    GRAPH,
    fast,
    isolated_openeo_config,  # noqa: F401 (autouse)
)

# --- against the emulator (`hybrid serve`), a real openEO API with a real OIDC provider ----


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> Iterator[str]:
    import os
    import subprocess

    pytest.importorskip("hybrid.server.app", reason="the emulator (hybrid serve) is not there")
    data = tmp_path_factory.mktemp("emulator")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hybrid", "serve", "--port", "0", "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=data,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on" not in line:
            proc.kill()
            pytest.fail(
                f"hybrid serve did not start: {line}{proc.stderr.read() if proc.stderr else ''}"
            )
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_emulator_client_credentials_and_failed_job_logs(emulator, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OPENEO_AUTH_METHOD", "client_credentials")
    monkeypatch.setenv("OPENEO_AUTH_CLIENT_ID", "hybrid-ci")
    monkeypatch.setenv("OPENEO_AUTH_CLIENT_SECRET", "hybrid-ci-secret")
    backend = fast(emulator, max_poll_interval=0.2)
    assert backend.availability() is None
    # valid when created (bounded), fails when it runs: the sample has no 1990 scenes
    bounded = {"west": 6.654, "south": 45.226, "east": 6.675, "north": 45.264}
    failing = json.loads(json.dumps(GRAPH))
    failing["load1"]["arguments"].update(
        spatial_extent=bounded, temporal_extent=["1990-01-01", "1990-02-01"]
    )
    with pytest.raises(RemoteBackendError, match="no data available") as info:
        backend.execute(failing, out_dir=tmp_path / "out")
    assert "ended with status 'error'" in str(info.value)
    assert "[error]" in capsys.readouterr().err


def test_emulator_rejects_wrong_credentials(emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENEO_AUTH_USERNAME", "hybrid")
    monkeypatch.setenv("OPENEO_AUTH_PASSWORD", "not-the-password")
    with pytest.raises(AuthenticationError, match="rejected the basic credentials"):
        fast(emulator).execute(GRAPH, out_dir=tmp_path / "out")
    monkeypatch.setenv("OPENEO_AUTH_METHOD", "client_credentials")
    monkeypatch.setenv("OPENEO_AUTH_CLIENT_ID", "hybrid-ci")
    monkeypatch.setenv("OPENEO_AUTH_CLIENT_SECRET", "wrong-secret")
    with pytest.raises(AuthenticationError, match="rejected the client_credentials"):
        fast(emulator, auth="client_credentials").execute(GRAPH, out_dir=tmp_path / "out")


@pytest.mark.slow
def test_emulator_seed_graph_equals_the_local_backend(emulator, emulator_user, tmp_path):
    sample = pytest.importorskip("hybrid.sample")
    if not hasattr(sample, "SEED_AOI"):
        pytest.skip("hybrid.sample has no seed workflow yet")
    from hybrid.backends.local import LocalBackend
    from hybrid.cli import build_parser
    from hybrid.cli.options import workflow_from_args
    from hybrid.workflow_graph import build_graph

    args = build_parser().parse_args(["record", "--backend", emulator, "--name", "seed"])
    graph = build_graph(workflow_from_args(args))
    remote = fast(emulator, max_poll_interval=1.0, timeout=600).execute(
        graph, out_dir=tmp_path / "remote"
    )
    local = LocalBackend().execute(graph, out_dir=tmp_path / "local")
    report = compare(remote.files[0], local.files[0])
    assert report.equivalent, report.summary()
    assert remote.provenance["graph_sha256"] == graph_hash(graph)


@pytest.fixture
def emulator_user(monkeypatch):
    """The emulator's default user (``hybrid serve`` without --users)."""
    monkeypatch.setenv("OPENEO_AUTH_USERNAME", "hybrid")
    monkeypatch.setenv("OPENEO_AUTH_PASSWORD", "hybrid")
