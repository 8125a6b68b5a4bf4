"""The local backend against the independent reference (tests/reference), on the sample."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local import LocalBackend, LocalSettings
from hybrid.params import Interval, Workflow
from hybrid.sample import SEED_END, SEED_START
from hybrid.workflow_graph import build_graph
from tests.reference import reference_ndvi

VARIANTS = {
    "seed": {},
    "no-cloud-filter": {"max_cloud_cover": 100.0},
    "kernel-7-std-1": {"kernel_size": 7, "kernel_std": 1.0, "threshold": 0.2},
    "classes-3-8-9-10": {"cloud_classes": (3, 8, 9, 10)},
    "dekad-median": {"period": "dekad", "reducer": "median"},
    "week-max": {"period": "week", "reducer": "max"},
    "season-sd": {"period": "season", "reducer": "sd"},
    "year-min": {"period": "year", "reducer": "min"},
    "tropical-season-count": {"period": "tropical-season", "reducer": "count"},
    "exclude-dates": {"exclude_dates": ("2023-06-01", "2023-07-01")},
}


def _local(graph: dict, catalog: Path, out: Path) -> xr.DataArray:
    result = LocalBackend(LocalSettings(stac=str(catalog))).execute(graph, out_dir=out)
    (nc,) = result.files
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        return ds["var"].load()


def _assert_matches_reference(local: xr.DataArray, ref, *, reducer: str = "mean") -> None:
    labels = [np.datetime_as_string(t, unit="s") + "Z" for t in local["t"].values]
    assert labels == ref.labels
    np.testing.assert_array_equal(local["x"].values, ref.x)
    np.testing.assert_array_equal(local["y"].values, ref.y)
    a = np.asarray(local.values, dtype=np.float64)
    b = np.asarray(ref.data, dtype=np.float64)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    both = ~np.isnan(a)
    assert both.any(), "no valid pixel at all: the comparison would be empty"
    assert np.max(np.abs(a[both] - b[both])) <= 1e-6


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.slow
def test_local_backend_matches_reference(variant, sample_catalog, seed_aoi, tmp_path):
    options = VARIANTS[variant]
    workflow = Workflow(aoi=seed_aoi, start=SEED_START, end=SEED_END, **options)
    local = _local(build_graph(workflow), sample_catalog, tmp_path)
    ref = reference_ndvi(
        sample_catalog,
        seed_aoi,
        SEED_START,
        SEED_END,
        **{k: v for k, v in options.items() if k != "exclude_dates"},
        exclude_dates=options.get("exclude_dates", ()),
    )
    _assert_matches_reference(local, ref, reducer=options.get("reducer", "mean"))


def test_intervals_match_reference(sample_catalog, seed_aoi, tmp_path):
    intervals = (
        Interval(dt.date(2023, 5, 1), dt.date(2023, 6, 15), None),
        Interval(dt.date(2023, 6, 15), dt.date(2023, 8, 1), None),
        Interval(dt.date(2023, 8, 1), dt.date(2023, 9, 30), None),
    )
    workflow = Workflow(aoi=seed_aoi, start=SEED_START, end=SEED_END, intervals=intervals)
    local = _local(build_graph(workflow), sample_catalog, tmp_path)
    ref = reference_ndvi(
        sample_catalog,
        seed_aoi,
        SEED_START,
        SEED_END,
        intervals=[(i.start, i.end) for i in intervals],
    )
    _assert_matches_reference(local, ref)


def test_seed_result_is_a_monthly_ndvi_series(sample_catalog, seed_aoi, tmp_path):
    workflow = Workflow(aoi=seed_aoi, start=SEED_START, end=SEED_END)
    local = _local(build_graph(workflow), sample_catalog, tmp_path)
    assert local.sizes["t"] == 5
    assert local.dtype == np.float32
    values = local.values[np.isfinite(local.values)]
    assert values.size and values.min() >= -1 and values.max() <= 1


@pytest.mark.slow
def test_cloud_pixels_are_nan(sample_catalog, seed_aoi, tmp_path):
    """Per date, every pixel whose SCL says cloud (8, 9) is masked in the NDVI."""
    from hybrid.aoi import geometry_bbox
    from hybrid.backends.local.loader import LoadRequest, load_s2

    workflow = Workflow(aoi=seed_aoi, start=SEED_START, end=SEED_END, period="day")
    daily = _local(build_graph(workflow), sample_catalog, tmp_path)
    request = LoadRequest(geometry_bbox(seed_aoi), SEED_START, SEED_END, ("SCL",), 20.0)
    scl = load_s2(str(sample_catalog), request).cube.sel(bands="SCL").compute()
    assert list(scl["t"].values) == list(daily["t"].values)
    cloud = scl.isin([8, 9]).values
    assert cloud.any(), "the sample must have clouds over the AOI"
    assert np.isnan(daily.values[cloud]).all()
    clear = ~np.isnan(daily.values)
    assert clear.any()
