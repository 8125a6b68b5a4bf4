"""The vector-cube result layouts (JSON, CSV, netCDF, GeoParquet) of an aggregate_spatial
time series, as Copernicus writes them.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hybrid.backends.local.processes.spatial_aggregation import aggregate_spatial
from hybrid.errors import FormatUnsuitable
from tests.engine.vector_grid import (
    RNG,
    collection,
    grid_cube,
    plain_mean,
    rect,
    reducer,
    spacetime,
    write_vector_cube,
)

# ---------------------------------------------------------------- result layouts


@pytest.fixture()
def timeseries() -> xr.DataArray:
    data = spacetime()
    fields = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6), rect(50, 50, 60, 60))
    return aggregate_spatial(data, fields, plain_mean)


def test_json_layout_date_to_features_to_bands(timeseries: xr.DataArray, tmp_path: Path) -> None:
    doc = json.loads(write_vector_cube(timeseries, "JSON", tmp_path).read_text())
    assert list(doc) == ["2023-06-02T00:00:00Z", "2023-06-07T00:00:00Z", "2023-06-12T00:00:00Z"]
    first = doc["2023-06-02T00:00:00Z"]
    assert len(first) == 3 and all(len(feature) == 1 for feature in first)
    assert first[0][0] == pytest.approx(float(timeseries.values[0, 0]))
    assert first[2] == [None]


def test_csv_reads_as_the_cdse_notebook_reads_it(timeseries: xr.DataArray, tmp_path: Path) -> None:
    path = write_vector_cube(timeseries, "CSV", tmp_path)
    assert path.name == "timeseries.csv"
    assert path.read_text().splitlines()[0] == "date,feature_index,band_unnamed"
    # NDVI_Timeseries.ipynb (eu-cdse/notebook-samples): read_csv(index_col=0), to_datetime
    df = pd.read_csv(path, index_col=0)
    df.index = pd.to_datetime(df.index)
    series = df.sort_index().groupby("feature_index")["band_unnamed"]
    np.testing.assert_allclose(series.get_group(1).values, timeseries.values[1])
    assert df.index[0] == pd.Timestamp("2023-06-02", tz="UTC")
    # field 2 covers no pixel centre: no row, as Spark aggregates only rasterised pixels
    # (AggregatePolygonProcess.scala L270-277); JSON and GeoParquet have it as null
    assert sorted(set(df["feature_index"])) == [0, 1] and len(df) == 6


def test_geometries_covering_no_pixel_centre(tmp_path: Path) -> None:
    """Copernicus: no CSV row for them, null in JSON; no dates at all in JSON when no
    geometry covers a pixel centre (save_result.py ``get_data`` takes the CSV's dates)."""
    data = spacetime()
    between = rect(2.2, 2.2, 2.4, 2.4)  # inside pixel (2, 2), around no centre
    some = aggregate_spatial(data, collection(between, rect(1, 1, 3, 3)), plain_mean)
    assert some.attrs["uncovered"] == [0]
    doc = json.loads(write_vector_cube(some, "JSON", tmp_path / "a").read_text())
    assert [features[0] for features in doc.values()] == [[None]] * 3
    assert all(f[1][0] is not None for f in doc.values())
    csv = write_vector_cube(some, "CSV", tmp_path / "a").read_text().splitlines()
    assert [line.split(",")[1] for line in csv[1:]] == ["1", "1", "1"]
    none = aggregate_spatial(data, collection(between, rect(50, 50, 60, 60)), plain_mean)
    assert json.loads(write_vector_cube(none, "JSON", tmp_path / "b").read_text()) == {}
    csv = write_vector_cube(none, "CSV", tmp_path / "b").read_text()
    assert csv == "date,feature_index,band_unnamed\n"


def test_without_t_json_lists_only_the_geometries_covering_a_pixel_centre(
    tmp_path: Path,
) -> None:
    """Copernicus's spatial JSON is its CSV's rows sorted by feature index, not
    reindexed (python-driver save_result.py ``_band_values_by_geometry`` L797-800): a
    geometry around no pixel centre has no entry and the next one moves up."""
    data = spacetime().isel(t=0, drop=True)
    between = rect(2.2, 2.2, 2.4, 2.4)  # inside pixel (2, 2), around no centre
    fields = collection(rect(1, 1, 3, 3), between, rect(3, 2, 7, 6))
    result = aggregate_spatial(data, fields, plain_mean)
    assert result.attrs["uncovered"] == [1]
    doc = json.loads(write_vector_cube(result, "JSON", tmp_path).read_text())
    expected = [float(result.values[0]), float(result.values[2])]
    assert [row[0] for row in doc] == pytest.approx(expected)
    csv = write_vector_cube(result, "CSV", tmp_path).read_text().splitlines()
    assert [line.split(",")[0] for line in csv[1:]] == ["0", "2"]


def test_netcdf_layout(timeseries: xr.DataArray, tmp_path: Path) -> None:
    path = write_vector_cube(timeseries, "netCDF", tmp_path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert dict(ds.sizes) == {"feature": 3, "t": 3}
        assert list(ds.data_vars) == ["band_0"]
        assert list(ds["feature_names"].values) == ["feature_0", "feature_1", "feature_2"]
        np.testing.assert_allclose(ds["band_0"].values, timeseries.values)
        # the grid's corner is the zone's central meridian (9 E), ~45.15 N
        assert abs(float(ds["lon"][0]) - 9.0005) < 1e-3
        assert abs(float(ds["lat"][0]) - 45.153) < 1e-3


@pytest.mark.parametrize(
    ("ids", "names"),
    [
        (["parcel_A", "parcel_B"], ["parcel_A", "parcel_B"]),
        ([7, 9], [7, 9]),
        (["parcel_A", None], ["parcel_A", "feature_1"]),
    ],
)
def test_netcdf_feature_names_are_the_features_ids(
    ids: list[Any], names: list[Any], tmp_path: Path
) -> None:
    """Copernicus names the features by their ``id`` property (save_result.py L451-458,
    ``DriverVectorCube.get_ids``: the ``id`` column geopandas builds from them)."""
    fields = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6))
    for feature, given in zip(fields["features"], ids, strict=True):
        if given is not None:
            feature["properties"]["id"] = given
    path = write_vector_cube(aggregate_spatial(spacetime(), fields, plain_mean), "netCDF", tmp_path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["feature_names"].values.tolist() == names


def test_geoparquet_layout(timeseries: xr.DataArray, tmp_path: Path) -> None:
    import geopandas as gpd

    path = write_vector_cube(timeseries, "Parquet", tmp_path)
    gdf = gpd.read_parquet(path)
    # Copernicus joins the rows with its frame of the geometries (save_result.py
    # to_geoparquet), which geopandas builds from the features: geometry, then properties
    fields = collection(rect(1, 1, 5, 4), rect(3, 2, 7, 6), rect(50, 50, 60, 60))
    regions = gpd.GeoDataFrame.from_features(fields["features"])
    assert list(gdf.columns) == ["date", "feature_index", "band_unnamed", *regions.columns]
    assert list(regions.columns) == ["geometry", "name"]
    assert len(gdf) == 9 and gdf.crs.to_epsg() == 4326  # the geometries as given
    row = gdf[(gdf.feature_index == 1) & (gdf.date == "2023-06-07T00:00:00Z")]
    assert float(row["band_unnamed"].iloc[0]) == pytest.approx(float(timeseries.values[1, 1]))


def test_without_time_json_csv_and_no_netcdf(tmp_path: Path) -> None:
    data = grid_cube(RNG.uniform(size=(2, 6, 6)), ("bands", "y", "x"), bands=["a", "b"])
    out = aggregate_spatial(data, collection(rect(0, 0, 3, 3), rect(3, 3, 6, 6)), plain_mean)
    doc = json.loads(write_vector_cube(out, "json", tmp_path).read_text())
    assert np.allclose(doc, out.values)
    df = pd.read_csv(io.StringIO(write_vector_cube(out, "csv", tmp_path).read_text()))
    assert list(df.columns) == ["feature_index", "a", "b"]
    with pytest.raises(FormatUnsuitable, match="time dimension"):
        write_vector_cube(out, "netCDF", tmp_path)
    with pytest.raises(FormatUnsuitable, match="GTiff"):
        write_vector_cube(out, "GTiff", tmp_path)


def test_sync_result_without_save_result_saves_a_vector_cube_as_json() -> None:
    from hybrid.backends.local import LocalBackend
    from hybrid.server.sync_result import SAVE_NODE, with_save_result

    graph = {
        "load": {"process_id": "load_collection", "arguments": {"id": "SENTINEL2_L2A"}},
        "agg": {
            "process_id": "aggregate_spatial",
            "arguments": {"data": {"from_node": "load"}, "geometries": rect(0, 0, 1, 1),
                          "reducer": reducer("mean")},
            "result": True,
        },
    }  # fmt: skip
    specs = LocalBackend().process_specs()
    saved = with_save_result(graph, specs)
    assert saved[SAVE_NODE]["arguments"]["format"] == "JSON"
    # load_url's cube is Copernicus's VectorCubeResult (DEFAULT_FORMAT GeoJSON), though
    # openEO describes its result as any data cube (it was GTiff, then a 400)
    for pid, arguments in (
        ("load_url", {"url": "http://127.0.0.1:9/fields.geojson", "format": "GeoJSON"}),
        ("load_geojson", {"data": rect(0, 0, 1, 1)}),
    ):
        lone = {"v": {"process_id": pid, "arguments": arguments, "result": True}}
        assert with_save_result(lone, specs)[SAVE_NODE]["arguments"]["format"] == "GeoJSON"
