"""``hybrid compare`` and ``assert_equivalent`` on vector cubes written as frames
(raster_to_vector's polygons as GeoJSON, Parquet, CSV): features matched by geometry
whatever their order (hybrid.frame_comparison); a changed value is named by column and
feature; a geometry only one result has is a problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes.vectorize import raster_to_vector
from hybrid.comparison import compare
from hybrid.errors import UsageError
from hybrid.io.registry import find_format, write_result
from hybrid.testing import assert_equivalent


@pytest.fixture
def zones() -> xr.DataArray:
    """raster_to_vector of two dates of a small classified raster (UTM)."""
    rng = np.random.default_rng(3)
    values = rng.integers(0, 3, (2, 1, 8, 9)).astype(np.float64)
    values[0, 0, 0, 0] = np.nan
    cube = xr.DataArray(
        values,
        dims=("t", "bands", "y", "x"),
        coords={"t": np.array(["2023-06-05", "2023-06-07"], "datetime64[ns]"),
                "bands": ["class"], "y": 5e6 - 5 - 10 * np.arange(8),
                "x": 5e5 + 5 + 10 * np.arange(9)},
        attrs={"epsg": 32631},
    )  # fmt: skip
    return raster_to_vector(cube)


def _written(cube: xr.DataArray, layout: str, root: Path) -> Path:
    (path,) = write_result(cube, find_format(layout), root / layout, options={})
    return path


def _shuffled(cube: xr.DataArray, seed: int = 1) -> xr.DataArray:
    """The same features in another order (as Copernicus's hash set gives them)."""
    order = np.random.default_rng(seed).permutation(cube.sizes["geometries"])
    out = cube.isel(geometries=order)
    out = out.assign_coords(geometries=np.arange(out.sizes["geometries"]))
    out.attrs = dict(cube.attrs)
    return out


@pytest.mark.parametrize("other", ["Parquet", "CSV", "GeoJSON"])
def test_the_same_zones_in_another_order_and_layout_are_equivalent(
    zones: xr.DataArray, other: str, tmp_path: Path
) -> None:
    a = _written(zones, "GeoJSON", tmp_path / "a")
    b = _written(_shuffled(zones), other, tmp_path / "b")
    report = assert_equivalent(a, b, atol=0)
    assert [r.label for r in report.rows] == [
        "2023-06-05T00:00:00Z~band0", "2023-06-07T00:00:00Z~band0"
    ]  # fmt: skip
    assert all(r.pixels == zones.sizes["geometries"] for r in report.rows)


def test_a_changed_value_is_named_by_column_and_feature(
    zones: xr.DataArray, tmp_path: Path
) -> None:
    doctored = zones.copy(data=zones.values.copy())
    first = int(np.flatnonzero(np.isfinite(doctored.values[:, 1, 0]))[0])
    doctored.values[first, 1, 0] += 1
    a = _written(zones, "GeoJSON", tmp_path / "a")
    report = compare(a, _written(_shuffled(doctored), "Parquet", tmp_path / "b"))
    assert not report.equivalent and not report.problems
    (row,) = [r for r in report.rows if not r.equivalent]
    assert row.label == "2023-06-07T00:00:00Z~band0" and row.features == (first,)


def test_a_geometry_only_one_result_has_is_a_problem(zones: xr.DataArray, tmp_path: Path) -> None:
    fewer = zones.isel(geometries=slice(1, None))
    fewer.attrs = {**zones.attrs, "vector_properties": [{}] * fewer.sizes["geometries"]}
    report = compare(
        _written(zones, "GeoJSON", tmp_path / "a"), _written(fewer, "CSV", tmp_path / "b")
    )
    assert not report.equivalent
    assert report.problems == ("geometries only in A: 1 (features 0)",)
    assert all(r.pixels == zones.sizes["geometries"] - 1 for r in report.rows)


def test_a_vector_cube_against_another_kind_and_plots_are_usage_errors(
    zones: xr.DataArray, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hybrid.cli import main

    a = _written(zones, "GeoJSON", tmp_path / "a")
    legacy = _written(zones, "JSON", tmp_path / "j")  # result.json: a plain value
    with pytest.raises(UsageError):
        compare(a, legacy)
    b = _written(_shuffled(zones), "Parquet", tmp_path / "b")
    assert main(["compare", str(a), str(b.parent)]) == 0  # the folder's vectorcube.*
    assert main(["compare", str(a), str(b), "--plots", str(tmp_path / "plots")]) == 2
    assert "drop --plots" in capsys.readouterr().err
    assert not (tmp_path / "plots").exists()
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    assert main(["compare", str(a), str(broken)]) == 2
