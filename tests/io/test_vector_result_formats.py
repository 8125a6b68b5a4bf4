"""aggregate_spatial results in the formats Copernicus writes them as JSON: CovJSON and
GeoJSON (openeo-python-driver 9e5b49b2 ``openeo_driver/save_result.py``
``AggregatePolygonResult``: ``to_covjson`` L515-597, ``write_assets`` L340-364;
``AggregatePolygonSpatialResult.write_assets`` L854-886), checked against the cube's own
values and the fields' corners reprojected here with pyproj."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import pytest
import xarray as xr

from hybrid.backends.local.processes.spatial_aggregation import aggregate_spatial
from hybrid.errors import FormatUnsuitable, NoDataAvailable
from hybrid.io.registry import find_format
from tests.engine.test_vector_cubes import (
    EPSG,
    RNG,
    collection,
    grid_cube,
    plain_mean,
    rect,
    spacetime,
    write_vector_cube,
)


def _lonlat(geometry: dict[str, Any]) -> list[list[list[float]]]:
    to_lonlat = pyproj.Transformer.from_crs(EPSG, 4326, always_xy=True).transform
    return [[list(to_lonlat(x, y)) for x, y in ring] for ring in geometry["coordinates"]]


@pytest.fixture()
def two_bands() -> xr.DataArray:
    data = spacetime()
    values = np.stack([data.values, data.values * 10], axis=-1)
    return grid_cube(values, ("t", "y", "x", "bands"), t=data["t"].values, bands=["B04", "B08"])


def test_covjson_is_a_multipolygon_series_band_by_band(
    two_bands: xr.DataArray, tmp_path: Path
) -> None:
    fields = [rect(1, 1, 5, 4), rect(3, 2, 7, 6), rect(50, 50, 60, 60)]
    cube = aggregate_spatial(two_bands, collection(*fields), plain_mean)
    path = write_vector_cube(cube, "CovJSON", tmp_path)
    assert path.name == "timeseries.json"
    doc = json.loads(path.read_text())
    assert (doc["type"], doc["domain"]["domainType"]) == ("Coverage", "MultiPolygonSeries")
    axes = doc["domain"]["axes"]
    assert axes["t"]["values"] == [
        "2023-06-02T00:00:00Z", "2023-06-07T00:00:00Z", "2023-06-12T00:00:00Z"
    ]  # fmt: skip
    for got, field in zip(axes["composite"]["values"], fields, strict=True):
        np.testing.assert_allclose(got, _lonlat(field), rtol=0, atol=1e-9)
    assert list(doc["parameters"]) == ["band0", "band1"]  # not the band names
    assert doc["parameters"]["band1"]["observedProperty"] == {"label": {"en": "Band 1"}}
    for b, name in enumerate(["band0", "band1"]):
        band = doc["ranges"][name]
        assert (band["axisNames"], band["shape"]) == (["t", "composite"], [3, 3])
        want = cube.isel(bands=b).transpose("t", "geometries").values.ravel()
        got = np.array([np.nan if v is None else v for v in band["values"]])
        np.testing.assert_array_equal(got, want)
        assert band["values"][2] is None  # the third field covers no pixel centre


def test_covjson_points_and_the_case_insensitive_alias(tmp_path: Path) -> None:
    point = {"type": "Point", "coordinates": [500025.0, 4999975.0]}
    data = spacetime()  # the pixel (row 2, column 2) holds the point
    cube = aggregate_spatial(data, collection(point), plain_mean)
    fmt = find_format("coveragejson", kind="vector")
    assert fmt is not None and fmt.name == "CovJSON"
    doc = json.loads(write_vector_cube(cube, "covjson", tmp_path).read_text())
    ((lon, lat),) = [doc["domain"]["axes"]["composite"]["values"][0]]
    want = pyproj.Transformer.from_crs(EPSG, 4326, always_xy=True).transform(500025, 4999975)
    np.testing.assert_allclose([lon, lat], want, atol=1e-9)
    values = data.values[:, 2, 2]  # the second date's is nodata: null
    assert doc["ranges"]["band0"]["values"] == [values[0], None, values[2]]


def test_covjson_refuses_what_copernicus_cannot_write(tmp_path: Path) -> None:
    spatial = grid_cube(RNG.uniform(size=(6, 6)), ("y", "x"))
    without_t = aggregate_spatial(spatial, collection(rect(0, 0, 3, 3)), plain_mean)
    with pytest.raises(FormatUnsuitable, match="time dimension only"):
        write_vector_cube(without_t, "CovJSON", tmp_path)
    nowhere = aggregate_spatial(spacetime(), collection(rect(50, 50, 60, 60)), plain_mean)
    with pytest.raises(NoDataAvailable, match="no geometry covers a pixel centre"):
        write_vector_cube(nowhere, "CovJSON", tmp_path)
    assert find_format("CovJSON", kind="raster") is None
    assert not list(tmp_path.iterdir())


def test_geojson_of_a_time_series_is_its_json_layout(tmp_path: Path) -> None:
    """Copernicus writes an aggregate_spatial result in any format but netCDF, CSV and
    Parquet as its JSON (save_result.py L340-364), and refuses the rest without ``t``."""
    cube = aggregate_spatial(spacetime(), collection(rect(1, 1, 5, 4)), plain_mean)
    as_geojson = write_vector_cube(cube, "GeoJSON", tmp_path / "g")
    as_json = write_vector_cube(cube, "JSON", tmp_path / "j")
    assert as_geojson.name == "timeseries.json"
    assert json.loads(as_geojson.read_text()) == json.loads(as_json.read_text())
    spatial = grid_cube(RNG.uniform(size=(6, 6)), ("y", "x"))
    without_t = aggregate_spatial(spatial, collection(rect(0, 0, 3, 3)), plain_mean)
    with pytest.raises(FormatUnsuitable, match="without a time dimension"):
        write_vector_cube(without_t, "GeoJSON", tmp_path / "s")


@pytest.mark.parametrize("name", ["GTiff", "PNG"])
def test_a_time_series_in_a_raster_format_is_json_as_on_copernicus(
    name: str, tmp_path: Path
) -> None:
    """AggregatePolygonResult.write_assets writes any format it does not know as JSON."""
    from hybrid.errors import HybridWarning
    from hybrid.io.registry import write_result

    cube = aggregate_spatial(spacetime(), collection(rect(1, 1, 5, 4)), plain_mean)
    fmt = find_format(name)
    assert fmt is not None
    with pytest.warns(HybridWarning, match=f"written as JSON, not {name}"):
        (path,) = write_result(cube, fmt, tmp_path / "a")
    as_json = write_vector_cube(cube, "JSON", tmp_path / "j")
    assert path.name == "timeseries.json" and path.read_text() == as_json.read_text()


def test_a_plain_value_in_any_format_is_result_json(tmp_path: Path) -> None:
    """JSONResult.write_assets ignores the format: ``result.json``."""
    from hybrid.errors import HybridWarning
    from hybrid.io.registry import write_result

    fmt = find_format("CSV")
    assert fmt is not None
    with pytest.warns(HybridWarning, match="written as JSON, not CSV"):
        (path,) = write_result({"a": [1, float("nan")]}, fmt, tmp_path)
    assert path.name == "result.json"
    assert json.loads(path.read_text()) == {"a": [1, None]}
