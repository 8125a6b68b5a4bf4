"""Live: the seed graph on Copernicus vs the local backend (needs the internet and credentials).

Enable with ``HYBRID_COPERNICUS_TESTS=1`` and the openeo client's client-credentials
variables (``OPENEO_AUTH_METHOD=client_credentials``, ``OPENEO_AUTH_CLIENT_ID``,
``OPENEO_AUTH_CLIENT_SECRET``, optionally ``OPENEO_AUTH_PROVIDER_ID``). Optional:
``HYBRID_LIVE_STAC`` (local data source, default ``earth-search``), ``HYBRID_LIVE_OUT``
(folder for the results, the JSON report and the difference maps; default a temp dir),
``HYBRID_LIVE_ATOL`` / ``HYBRID_LIVE_MIN_AGREEMENT`` (default 1e-3 / 0.99).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.copernicus, pytest.mark.network, pytest.mark.slow]


def _enabled() -> str | None:
    if os.environ.get("HYBRID_COPERNICUS_TESTS") != "1":
        return "set HYBRID_COPERNICUS_TESTS=1 to run the live Copernicus comparison"
    if not (
        os.environ.get("OPENEO_AUTH_CLIENT_ID") and os.environ.get("OPENEO_AUTH_CLIENT_SECRET")
    ):
        return "set OPENEO_AUTH_CLIENT_ID / OPENEO_AUTH_CLIENT_SECRET (client credentials)"
    return None


@pytest.mark.skipif(_enabled() is not None, reason=str(_enabled()))
def test_seed_graph_on_copernicus_matches_local(tmp_path):
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.backends.remote import RemoteBackend, RemoteSettings
    from hybrid.cli import build_parser
    from hybrid.cli.options import workflow_from_args
    from hybrid.comparison import compare
    from hybrid.plots import plot_comparison
    from hybrid.workflow_graph import build_graph

    os.environ.setdefault("OPENEO_AUTH_METHOD", "client_credentials")
    out = Path(os.environ.get("HYBRID_LIVE_OUT") or tmp_path)
    args = build_parser().parse_args(["record", "--backend", "copernicus", "--name", "live"])
    graph = build_graph(workflow_from_args(args))

    remote = RemoteBackend("copernicus", RemoteSettings(poll_interval=10.0, max_poll_interval=60.0))
    assert remote.availability() is None, remote.availability()
    remote_result = remote.execute(graph, out_dir=out / "copernicus")
    local = LocalBackend(LocalSettings(stac=os.environ.get("HYBRID_LIVE_STAC", "earth-search")))
    local_result = local.execute(graph, out_dir=out / "local")

    report = compare(
        remote_result.files[0],
        local_result.files[0],
        atol=float(os.environ.get("HYBRID_LIVE_ATOL", "1e-3")),
        min_agreement=float(os.environ.get("HYBRID_LIVE_MIN_AGREEMENT", "0.99")),
    )
    (out / "report.json").write_text(json.dumps(report.to_json(), indent=2) + "\n")
    (out / "provenance.json").write_text(json.dumps(dict(remote_result.provenance), indent=2))
    plot_comparison(remote_result.files[0], local_result.files[0], out / "plots" / "comparison.png")
    print(report.summary())
    assert report.equivalent, report.summary()
