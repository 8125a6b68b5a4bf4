"""Every reducer in the interval mode (aggregate_temporal with labels) against the
independent reference, the count band's type, and the median graph through the
emulator (``hybrid serve`` + the real openeo client) against the local backend.

tests/fidelity/test_local_vs_reference.py already covers each reducer with
aggregate_temporal_period and intervals without labels; this file does not repeat it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local import LocalBackend, LocalSettings
from hybrid.params import REDUCERS, Interval, Workflow
from hybrid.workflow_graph import build_graph
from tests.reference import reference_ndvi

START, END = "2023-05-01", "2023-08-01"
#: two stages with a gap (2023-06-15..2023-06-20 belongs to none), labelled by a date
#: inside each stage, not its start
STAGES = (
    Interval(dt.date(2023, 5, 1), dt.date(2023, 6, 15), "2023-05-20"),
    Interval(dt.date(2023, 6, 20), dt.date(2023, 8, 1), "2023-07-05"),
)


def _run_local(workflow: Workflow, catalog: Path, out: Path) -> xr.DataArray:
    result = LocalBackend(LocalSettings(stac=str(catalog))).execute(
        build_graph(workflow), out_dir=out
    )
    (nc,) = result.files
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        return ds["var"].load()


def _labels(cube: xr.DataArray) -> list[str]:
    return [np.datetime_as_string(t, unit="s") + "Z" for t in cube["t"].values]


def _reference(catalog: Path, aoi: dict, reducer: str):
    intervals = [(i.start, i.end, f"{i.label}T00:00:00Z") for i in STAGES]
    return reference_ndvi(catalog, aoi, START, END, reducer=reducer, intervals=intervals)


@pytest.mark.parametrize("reducer", REDUCERS)
def test_labelled_intervals_match_reference(reducer, sample_catalog, seed_aoi, tmp_path):
    workflow = Workflow(aoi=seed_aoi, start=START, end=END, intervals=STAGES, reducer=reducer)
    local = _run_local(workflow, sample_catalog, tmp_path)
    ref = _reference(sample_catalog, seed_aoi, reducer)
    assert _labels(local) == ref.labels == ["2023-05-20T00:00:00Z", "2023-07-05T00:00:00Z"]
    a = np.asarray(local.values, dtype=np.float64)
    b = np.asarray(ref.data, dtype=np.float64)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    valid = ~np.isnan(a)
    assert valid.any()
    assert np.max(np.abs(a[valid] - b[valid])) <= 1e-5
    if reducer == "sd":
        assert (a[valid] >= 0).all()
    elif reducer != "count":
        assert a[valid].min() >= -1 and a[valid].max() <= 1


def test_count_holds_whole_numbers_of_valid_observations(sample_catalog, seed_aoi, tmp_path):
    """count: how many of the stage's scenes had a valid (unmasked) NDVI at each pixel.

    The band's dtype is left to the engine (see the report: Copernicus' count reducer
    writes into the input's float cell type); the values must be whole counts.
    """
    workflow = Workflow(aoi=seed_aoi, start=START, end=END, intervals=STAGES, reducer="count")
    count = _run_local(workflow, sample_catalog, tmp_path)
    ref = _reference(sample_catalog, seed_aoi, "count")
    scenes_per_stage = [
        sum(1 for d in ref.dates if i.start <= dt.date.fromisoformat(d) < i.end) for i in STAGES
    ]
    values = np.asarray(count.values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    assert finite.size and np.array_equal(finite, np.round(finite))
    for k, n in enumerate(scenes_per_stage):
        stage = values[k][np.isfinite(values[k])]
        assert stage.min() >= 0 and stage.max() <= n
        assert stage.max() == n, "some pixel must be clear in every scene of the stage"
    assert (finite < max(scenes_per_stage)).any(), "clouds must mask some observations"


@pytest.mark.slow
def test_median_through_hybrid_serve_matches_the_local_backend(sample_catalog, seed_aoi,
                                                                tmp_path):  # fmt: skip
    """The same flat graph: POST /result on the emulator (openeo client) vs in process."""
    import openeo

    from tests.server_helpers import ServeProcess

    workflow = Workflow(aoi=seed_aoi, start=START, end=END, reducer="median", period="month")
    graph = build_graph(workflow)
    local = _run_local(workflow, sample_catalog, tmp_path / "local")
    served = tmp_path / "served.nc"
    with ServeProcess(data_dir=tmp_path / "serve-data", stac=sample_catalog) as server:
        connection = openeo.connect(server.url).authenticate_basic("hybrid", "hybrid")
        connection.download(graph, outputfile=served)
    with xr.open_dataset(served, engine="h5netcdf") as ds:
        remote = ds["var"].load()
    assert _labels(remote) == _labels(local) == [
        "2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z", "2023-07-01T00:00:00Z",
    ]  # fmt: skip
    np.testing.assert_array_equal(remote["x"].values, local["x"].values)
    np.testing.assert_array_equal(remote["y"].values, local["y"].values)
    np.testing.assert_array_equal(remote.values, local.values)
    ref = reference_ndvi(sample_catalog, seed_aoi, START, END, reducer="median")
    both = ~np.isnan(remote.values)
    np.testing.assert_array_equal(both, ~np.isnan(ref.data))
    assert np.max(np.abs(remote.values[both] - ref.data[both])) <= 1e-5
