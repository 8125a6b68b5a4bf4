"""filter_labels through the openeo client against ``hybrid serve``, where Copernicus
applies it: a condition on ``t`` in the load, to the scenes' dates, wherever it stands
(``backends/local/label_pushdown.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.workflows.raw import BBOX


def _monthly(cube: Any, path: Path) -> xr.Dataset:
    cube.download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def test_a_filter_on_t_after_the_monthly_mean_selects_the_scenes(
    connection: Any, tmp_path: Path
) -> None:
    """Behind aggregate_temporal_period the condition keeps the scenes of 15 May to
    14 June, as Copernicus's load does: May and June come out, from those scenes only,
    the same as with the filter right after the load. Filtering the monthly labels
    (1 May, 1 June) instead would have kept none."""
    from openeo.processes import date_between

    cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=BBOX,
        temporal_extent=["2023-05-01", "2023-07-01"],
        bands=["B04", "B08"],
    )

    def condition(t: Any) -> Any:
        return date_between(t, "2023-05-15T00:00:00Z", "2023-06-15T00:00:00Z")

    late = cube.ndvi().aggregate_temporal_period("month", "mean").filter_labels(condition, "t")
    early = cube.filter_labels(condition, "t").ndvi().aggregate_temporal_period("month", "mean")
    everything = cube.ndvi().aggregate_temporal_period("month", "mean")
    got = _monthly(late, tmp_path / "late.nc")
    want = _monthly(early, tmp_path / "early.nc")
    whole = _monthly(everything, tmp_path / "all.nc")
    months = np.array(["2023-05-01", "2023-06-01"], dtype="datetime64[ns]")
    np.testing.assert_array_equal(got["t"].values, months)
    np.testing.assert_array_equal(got["var"].values, want["var"].values)
    assert not np.array_equal(got["var"].values, whole["var"].values, equal_nan=True)


def test_a_second_filter_on_t_is_ignored_with_a_note_in_the_log(connection: Any) -> None:
    """Only the filter_labels nearest the load reaches Copernicus's load: the one behind
    it changes nothing, and the job's log says so."""
    from openeo.processes import date_between

    cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=BBOX,
        temporal_extent=["2023-05-01", "2023-07-01"],
        bands=["B04", "B08"],
    )
    june = cube.filter_labels(
        lambda t: date_between(t, "2023-06-01T00:00:00Z", "2023-07-01T00:00:00Z"), "t"
    )
    also_may = june.ndvi().filter_labels(
        lambda t: date_between(t, "2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z"), "t"
    )
    job = also_may.create_job(out_format="netCDF")
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    assert job.status() == "finished"
    (note,) = [e["message"] for e in job.logs() if "is ignored, as on Copernicus" in e["message"]]
    assert "nearest the load" in note
