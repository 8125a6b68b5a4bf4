"""The local backend streams: lazy until save_result, the same on every scheduler, and
never holding the whole season in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local import LocalBackend, LocalSettings
from hybrid.params import Workflow
from hybrid.sample import SEED_END, SEED_START
from hybrid.workflow_graph import build_graph


def _ndvi(settings: LocalSettings, graph: dict, out: Path) -> np.ndarray:
    result = LocalBackend(settings).execute(graph, out_dir=out)
    (nc,) = result.files
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        return np.asarray(ds["var"].values)


class _Computes:
    """dask callback recording every local computation: its graph size and the peak
    bytes of results held at once by the scheduler."""

    def __init__(self) -> None:
        from dask.callbacks import Callback

        self.graphs: list[int] = []
        self.peak_bytes = 0
        self.callback = Callback(start=self._start, posttask=self._posttask)

    def _start(self, dsk: Any) -> None:
        import dask

        from hybrid.backends.local.surviving_keys import PROBE

        # the loader's probes of its dates read a window of the load, nothing of the graph
        if not dask.config.get(PROBE, False):
            self.graphs.append(len(dsk))

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        held = sum(getattr(v, "nbytes", 0) for v in state["cache"].values())
        self.peak_bytes = max(self.peak_bytes, held)


@pytest.mark.slow
def test_two_worker_cluster_gives_bit_identical_ndvi(sample_catalog, seed_aoi, tmp_path):
    graph = build_graph(Workflow(aoi=seed_aoi, start=SEED_START, end=SEED_END))
    threaded = _ndvi(LocalSettings(stac=str(sample_catalog)), graph, tmp_path / "threads")
    cluster = _ndvi(LocalSettings(stac=str(sample_catalog), workers=2), graph, tmp_path / "w2")
    assert threaded.shape == cluster.shape
    assert np.isfinite(threaded).any()
    np.testing.assert_array_equal(threaded, cluster)  # NaN == NaN here, bit for bit


def test_graph_is_computed_only_by_save_result(sample_catalog, seed_aoi, tmp_path):
    graph = build_graph(Workflow(aoi=seed_aoi, start=SEED_START, end=SEED_END))
    computes = _Computes()
    with computes.callback:
        ndvi = _ndvi(LocalSettings(stac=str(sample_catalog)), graph, tmp_path)
    # save_result's streaming store computes its batches (one per output period here:
    # the seed AOI is one row of blocks, hybrid.io.streaming.row_batches) as one gated
    # graph (hybrid.io.batch_gates) and nothing else is computed: the mask branch, the
    # kernel, the comparisons and the temporal aggregation all stayed lazy until then
    assert ndvi.shape[0] > 1
    assert len(computes.graphs) == 1, computes.graphs
    assert computes.graphs[0] > 50 * ndvi.shape[0]


@pytest.fixture(scope="module")
def many_dates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    from benchmarks.scenes import SceneSpec, ensure_scene

    spec = SceneSpec(n_dates=36, size=256)
    return spec, ensure_scene(tmp_path_factory.mktemp("scenes"), spec)


def test_many_dates_are_not_held_at_once(many_dates, tmp_path):
    """36 dates (six months): the scheduler never holds more than a fraction of them."""
    from benchmarks.scenes import scene_graph

    spec, catalog = many_dates
    computes = _Computes()
    with computes.callback:
        ndvi = _ndvi(
            LocalSettings(stac=str(catalog), scheduler="synchronous"),
            scene_graph(spec),
            tmp_path,
        )
    assert ndvi.shape == (6, spec.size, spec.size)
    # what loading every date of the five loaded bands as float32 would take
    season = spec.n_dates * 5 * (spec.size + 12) ** 2 * 4
    assert computes.peak_bytes < season / 8, (computes.peak_bytes, season)


def test_save_results_crop_cuts_the_blocks_without_shuffling_them(tmp_path):
    """Copernicus crops the result to the requested extent at save_result; here that is
    a slice of each edge block. An index array (dask's ``take``) shuffled every block
    across its neighbours: a copy of the result, and each block waiting for the next
    row's (a batch's gate held them)."""
    from dask.callbacks import Callback

    from benchmarks.scenes import SceneSpec, ensure_scene, scene_graph

    spec = SceneSpec(n_dates=2, size=2048)
    catalog = ensure_scene(tmp_path / "scenes", spec)
    shuffled: list[list[str]] = []  # per computed graph, its shuffle tasks

    def start(dsk: Any) -> None:
        import dask

        from hybrid.backends.local.surviving_keys import PROBE

        if not dask.config.get(PROBE, False):  # the loader's probes of its dates
            shuffled.append([str(key) for key in dsk if "shuffle" in str(key)])

    with Callback(start=start):
        ndvi = _ndvi(LocalSettings(stac=str(catalog)), scene_graph(spec), tmp_path / "out")
    assert ndvi.shape[-2:] == (spec.size, spec.size)
    assert np.isfinite(ndvi).any()
    assert shuffled == [[]]  # one graph, no shuffle in it


def test_chunks_follow_the_cog_blocks_and_stay_balanced():
    from hybrid.backends.local.chunking import chunk_side

    assert chunk_side(300, 512) == 300  # one chunk when the area is small
    assert chunk_side(1036, 512) == 1036  # no 12-pixel sliver next to a 1024 chunk
    assert chunk_side(2060, 512) == 1030
    assert chunk_side(4108, 512) == 1027
    assert chunk_side(10980, 1024) == 999
    assert chunk_side(4108, 512, target=2048) == 2054
    sides = [chunk_side(n, 512) for n in range(16, 20000, 97)]
    assert all(s <= 1024 * 1.5 for s in sides)
