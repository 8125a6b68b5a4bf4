"""filter_temporal as Copernicus runs it: [start, end) in general, the labels at exactly
that instant for the same start and end (openeo-geopyspark-driver geopysparkdatacube.py
L242-255), a 400 for an end before the start (openeo-python-driver
processgraph/process_implementations/cubes.py L38-60)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes.labels import filter_temporal
from hybrid.errors import HybridWarning, ProcessParameterInvalid

DAYS = ["2023-06-02", "2023-06-07", "2023-06-07T10:30:00", "2023-06-09"]


def _cube() -> xr.DataArray:
    t = np.array(DAYS, dtype="datetime64[ns]")
    return xr.DataArray(np.arange(8.0).reshape(4, 2), dims=("t", "x"), coords={"t": t})


def _days(cube: xr.DataArray) -> list[str]:
    return [str(v)[:19] for v in cube["t"].values]


def test_an_interval_excludes_its_end() -> None:
    out = filter_temporal(_cube(), ["2023-06-02", "2023-06-09"])
    assert _days(out) == ["2023-06-02T00:00:00", "2023-06-07T00:00:00", "2023-06-07T10:30:00"]
    assert out.values[:, 0].tolist() == [0.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("extent", "kept"),
    [
        (["2023-06-07", "2023-06-07"], ["2023-06-07T00:00:00"]),
        (["2023-06-07T10:30:00Z", "2023-06-07T10:30:00Z"], ["2023-06-07T10:30:00"]),
        (["2023-06-08", "2023-06-08"], []),
    ],
)
def test_the_same_start_and_end_keep_that_instant_with_a_warning(
    extent: list[str], kept: list[str]
) -> None:
    with pytest.warns(HybridWarning, match="same start and end"):
        out = filter_temporal(_cube(), extent)
    assert _days(out) == kept


def test_an_end_before_the_start_is_one_400() -> None:
    with pytest.raises(ProcessParameterInvalid, match="end '2023-06-07' is before start"):
        filter_temporal(_cube(), ["2023-06-08", "2023-06-07"])


def test_open_bounds_as_before() -> None:
    assert _days(filter_temporal(_cube(), [None, "2023-06-07"])) == ["2023-06-02T00:00:00"]
    assert len(filter_temporal(_cube(), ["2023-06-07T10:30:00Z", None])["t"]) == 2


@pytest.mark.slow
def test_a_bare_load_filtered_to_one_day_keeps_that_day(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """The dry run hands [d, d] to the load, which reads day d (run.py ``_whole_day``);
    the filter then keeps it: the values are those of a load of [d, d + 1)."""
    from openeo import DataCube

    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.io.reader import open_result
    from tests.server_helpers import SEED_BBOX

    def run(cube: Any, name: str) -> Any:
        graph = cube.save_result(format="netCDF").flat_graph()
        backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
        (path,) = backend.execute(graph, out_dir=tmp_path / name).files
        return open_result(path)

    def load(**extent: Any) -> Any:
        return DataCube.load_collection("SENTINEL2_L2A", bands=["B04"], connection=None, **extent)

    with pytest.warns(HybridWarning):
        got = run(load().filter_temporal("2023-06-07", "2023-06-07").filter_bbox(SEED_BBOX), "a")
    want = run(load(spatial_extent=SEED_BBOX, temporal_extent=["2023-06-07", "2023-06-08"]), "b")
    assert [str(t)[:10] for t in got["t"].values] == ["2023-06-07"]
    np.testing.assert_array_equal(got.values, want.values)


@pytest.mark.slow
def test_a_load_of_one_instant_reads_from_it_to_the_end_of_its_day(
    tmp_path: Path, sample_catalog: Path
) -> None:
    """[t, t] with a time of day: Copernicus reads from t to the end of t's day
    (geopyspark-driver load_stac.py ``_TemporalExtent`` L1134-1143, L230-235), so 10:00
    finds the 10:37 overpass of 2023-06-07 and 12:00 finds nothing; it read the whole
    day here."""
    from openeo import DataCube

    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.errors import NoDataAvailable
    from hybrid.io.reader import open_result
    from tests.server_helpers import SEED_BBOX

    def run(instant: str) -> Any:
        cube = DataCube.load_collection(
            "SENTINEL2_L2A", bands=["B04"], connection=None, spatial_extent=SEED_BBOX,
            temporal_extent=[instant, instant],
        )  # fmt: skip
        backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
        out = tmp_path / instant[11:13]
        graph = cube.save_result(format="netCDF").flat_graph()
        (path,) = backend.execute(graph, out_dir=out).files
        return open_result(path)

    with pytest.warns(HybridWarning, match="from 2023-06-07T10:00:00Z to the end of"):
        got = run("2023-06-07T10:00:00Z")
    assert [str(t)[:10] for t in got["t"].values] == ["2023-06-07"]
    with pytest.warns(HybridWarning), pytest.raises(NoDataAvailable):
        run("2023-06-07T12:00:00Z")
