"""A canceled run stops at its next dask task and leaves no result (threaded scheduler;
the Dask cluster case is in tests/server/test_serve_cluster.py)."""

from __future__ import annotations

import threading

import pytest

from hybrid.backends.local import LocalBackend, LocalSettings
from hybrid.cancellation import cancellable
from hybrid.errors import RunCanceled
from hybrid.params import Workflow
from hybrid.sample import SEED_AOI
from hybrid.workflow_graph import build_graph


def test_a_canceled_threaded_run_raises_and_writes_nothing(sample_catalog, tmp_path):
    graph = build_graph(Workflow(aoi=SEED_AOI, start="2023-06-01", end="2023-06-15"))
    event = threading.Event()
    event.set()
    with cancellable(event), pytest.raises(RunCanceled, match="canceled"):
        LocalBackend(LocalSettings(stac=str(sample_catalog))).execute(graph, out_dir=tmp_path)
    assert not list(tmp_path.rglob("*.nc"))


def test_an_unset_event_changes_nothing(sample_catalog, tmp_path):
    graph = build_graph(Workflow(aoi=SEED_AOI, start="2023-06-01", end="2023-06-15"))
    with cancellable(threading.Event()):
        result = LocalBackend(LocalSettings(stac=str(sample_catalog))).execute(
            graph, out_dir=tmp_path
        )
    assert [f.name for f in result.files] == ["openEO.nc"]
