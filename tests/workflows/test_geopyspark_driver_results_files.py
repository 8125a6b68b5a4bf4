"""openeo-geopyspark-driver's result tests on files and merged cubes (tests/test_api_result.py
at 9baf2e10, L1990-L2191 and L4943-L5288) replayed on ``hybrid serve`` with the real openeo
client over static STAC copies of TestCollection-LonLat4x4 / -LonLat16x16
(:mod:`tests.workflows.lonlat_collection`): netCDF of aggregate_spatial, merge_cubes
of one load, GeoParquet, aggregate_temporal_period after a merge along t, GeoTIFF and
netCDF tags, apply_neighborhood with filter_spatial.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import xarray as xr

from tests.workflows.lonlat_collection import write_lonlat_collection
from tests.workflows.lonlat_graphs import FEATURES_FILE, box
from tests.workflows.test_geopyspark_driver_results_more import collection, connection

__all__ = ["collection", "connection"]


def node(process_id: str, **arguments: Any) -> dict[str, Any]:
    return {"process_id": process_id, "arguments": arguments}


def callback(
    process_id: str, parameter: str = "data", key: str = "data", **arguments: Any
) -> dict[str, Any]:
    """A child graph: ``process_id`` with the parameter ``parameter`` as argument ``key``."""
    call = node(process_id, **{key: {"from_parameter": parameter}, **arguments})
    return {"process_graph": {"one": {**call, "result": True}}}


def ref(name: str) -> dict[str, str]:
    return {"from_node": name}


MEAN = callback("mean")


def load_stac(url: str, extent: Any, times: list[str], bands: list[str] | None) -> dict:
    arguments: dict[str, Any] = {"url": url, "temporal_extent": times}
    if extent is not None:
        arguments["spatial_extent"] = extent
    if bands is not None:
        arguments["bands"] = bands
    return {"process_id": "load_stac", "arguments": arguments}


def save(node: str, out_format: str, options: dict | None = None) -> dict:
    arguments = {"data": {"from_node": node}, "format": out_format, "options": options or {}}
    return {"process_id": "save_result", "arguments": arguments, "result": True}


@pytest.fixture(scope="module")
def collection16(tmp_path_factory: pytest.TempPathFactory) -> str:
    """TestCollection-LonLat16x16 (1/16 degree) over 0..5 E, 50..55 N, January 2021."""
    root = tmp_path_factory.mktemp("driver-lonlat16x16")
    path = write_lonlat_collection(
        root,
        ("2021-01-01", "2021-02-01"),
        box=(0, 50, 5, 55),
        tile_size=16,
        bands=("Flat:0", "Flat:1", "Flat:2"),
    )
    return str(path)


@pytest.fixture(scope="module")
def served_features(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """FeatureCollection.geojson over HTTP: what the driver's load_uploaded_files reads
    from disk, load_url reads from a URL (both with geopandas ``read_file``:
    openeo-python-driver 9e5b49b2 datacube.py L431-457)."""
    import json

    from tests.stac_fixtures import serving_directory

    root = tmp_path_factory.mktemp("driver-geometries")
    (root / "FeatureCollection.geojson").write_text(json.dumps(FEATURES_FILE))
    with serving_directory(root) as base:
        yield f"{base}/FeatureCollection.geojson"


def test_aggregate_spatial_netcdf_feature_names(
    connection: Any, collection: str, served_features: str, tmp_path: Path
) -> None:
    """test_aggregate_spatial_netcdf_feature_names (L2055-L2105): per band one variable
    over (feature, t); ``feature_names`` the Features' ids read from the file."""
    extent = {"west": 0.0, "south": 0.0, "east": 2.0, "north": 2.0}
    graph = {
        "lc": load_stac(
            collection, extent, ["2021-01-01", "2021-02-20"], ["Flat:1", "Month", "Day"]
        ),
        "lu": node("load_url", url=served_features, format="GeoJSON"),
        "agg": node("aggregate_spatial", data=ref("lc"), geometries=ref("lu"), reducer=MEAN),
        "save": save("agg", "netCDF"),
    }
    connection.download(graph, tmp_path / "out.nc")
    ds = xr.load_dataset(tmp_path / "out.nc")
    assert ds["Flat:1"].sel(t="2021-02-05").values.tolist() == [1.0, 1.0]
    assert ds["Month"].sel(t="2021-02-05").values.tolist() == [2.0, 2.0]
    assert ds["Day"].sel(t="2021-02-05").values.tolist() == [5.0, 5.0]
    assert ds.coords["feature_names"].values.tolist() == ["apples", "oranges"]


def test_load_collection_is_cached(connection: Any, collection: str) -> None:
    """test_load_collection_is_cached (L2108-L2190), its result only (how often the
    driver builds the layer is its own concern): two filter_bands of one load merged
    back, aggregated per Feature."""
    extent = {"west": 0.0, "south": 0.0, "east": 2.0, "north": 2.0}
    graph: dict[str, Any] = {
        "lc": load_stac(collection, extent, ["2021-01-01", "2021-02-20"], ["Flat:1", "Month"]),
        "fb1": node("filter_bands", bands=["Flat:1"], data=ref("lc")),
        "fb2": node("filter_bands", bands=["Month"], data=ref("lc")),
        "merge": node("merge_cubes", cube1=ref("fb1"), cube2=ref("fb2")),
        "agg": node("aggregate_spatial", data=ref("merge"), geometries=FEATURES_FILE, reducer=MEAN),
    }
    graph["agg"]["result"] = True
    assert connection.execute(graph) == {
        "2021-01-05T00:00:00Z": [[1.0, 1.0], [1.0, 1.0]],
        "2021-01-15T00:00:00Z": [[1.0, 1.0], [1.0, 1.0]],
        "2021-01-25T00:00:00Z": [[1.0, 1.0], [1.0, 1.0]],
        "2021-02-05T00:00:00Z": [[1.0, 2.0], [1.0, 2.0]],
        "2021-02-15T00:00:00Z": [[1.0, 2.0], [1.0, 2.0]],
    }


def test_spatiotemporal_vector_cube_to_geoparquet(
    connection: Any, collection16: str, tmp_path: Path
) -> None:
    """test_spatiotemporal_vector_cube_to_geoparquet (L4943-L5019): no load extent,
    two points; GeoParquet with one row per date and point, the properties kept."""
    import geopandas as gpd
    from shapely.geometry import Point

    coords = [(4.834132470464912, 51.14651864980539), (4.826795583109673, 51.154775560357045)]
    points = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": str(i),
                "properties": {"name": "maize"},
                "geometry": {"type": "Point", "coordinates": list(xy)},
            }
            for i, xy in enumerate(coords)
        ],
    }
    graph = {
        "lc": load_stac(collection16, None, ["2021-01-01", "2021-02-01"], ["Flat:1", "Flat:2"]),
        "agg": node("aggregate_spatial", data=ref("lc"), geometries=points, reducer=MEAN),
        "save": save("agg", "Parquet"),
    }
    response = connection.post("/result", json={"process": {"process_graph": graph}})
    assert response.headers["Content-Type"] == "application/parquet; profile=geo"
    (tmp_path / "out.parquet").write_bytes(response.content)
    dates = [f"2021-01-{d:02d}T00:00:00Z" for d in (5, 15, 25)]
    assert gpd.read_parquet(tmp_path / "out.parquet").to_dict("list") == {
        "date": [d for d in dates for _ in coords],
        "geometry": [Point(*xy) for _ in dates for xy in coords],
        "feature_index": [0, 1, 0, 1, 0, 1],
        "Flat:1": [1.0] * 6,
        "Flat:2": [2.0] * 6,
        "name": ["maize"] * 6,
    }


def test_aggregate_temporal_period_from_merge_cubes_on_time_dimension(
    connection: Any, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """test_aggregate_temporal_period_from_merge_cubes_on_time_dimension_contains_full_
    time_range (L5022-L5101): January and March merged along t, monthly means: one label
    per month that has data, February absent. (The driver filters the band TileCol, a
    numbering of its synthetic tiles; Flat:1 here: only the labels are asserted.)"""
    root = tmp_path_factory.mktemp("driver-lonlat-2024")
    url = str(
        write_lonlat_collection(
            root, ("2024-01-01", "2024-05-01"), box=(0, 0, 2, 2), bands=("Flat:1",)
        )
    )
    extent = {"west": 0.0, "south": 0.0, "east": 1.0, "north": 1.0}
    graph = {
        "lc1": load_stac(url, None, ["2024-01-01", "2024-02-01"], None),
        "lc2": load_stac(url, None, ["2024-03-01", "2024-04-01"], None),
        "merge": node(
            "merge_cubes",
            cube1=ref("lc1"),
            cube2=ref("lc2"),
            overlap_resolver=callback("max", "x", "data"),
        ),
        "bbox": node("filter_bbox", data=ref("merge"), extent=extent),
        "bands": node("filter_bands", data=ref("bbox"), bands=["Flat:1"]),
        "atp": node("aggregate_temporal_period", data=ref("bands"), period="month", reducer=MEAN),
        "save": save("atp", "netCDF"),
    }
    connection.download(graph, tmp_path / "out.nc")
    ds = xr.load_dataset(tmp_path / "out.nc")
    expected = [np.datetime64("2024-01-01"), np.datetime64("2024-03-01")]
    np.testing.assert_array_equal(ds.coords["t"].values, np.array(expected, "datetime64[ns]"))


BANDS_METADATA = {
    "Flat:1": {"SCALE": 1.23, "ARBITRARY": "value"},
    "Flat:2": {"OFFSET": 4.56},
    "Flat:3": {"SCALE": 7.89, "OFFSET": 10.11},
}
EXTENT16 = {"west": 0.0, "south": 50.0, "east": 5.0, "north": 55.0}


def test_custom_geotiff_tags(connection: Any, collection16: str, tmp_path: Path) -> None:
    """test_custom_geotiff_tags (L5104-L5174): ``file_metadata`` as dataset tags;
    ``bands_metadata`` per band name (Flat:3, absent, ignored), its SCALE and OFFSET as
    the band's scale and offset (GDAL ``GetScale``/``GetOffset``: 1.0 and 0.0 where not
    given), other tags as band metadata; each band described by its name."""
    options = {
        "bands_metadata": BANDS_METADATA,
        "file_metadata": {
            "product_tile": "29TNE",
            "product_type": "LSF monthly median composite for band B02",
            "year": 2021,
        },
    }
    graph = {
        "lc": load_stac(collection16, EXTENT16, ["2021-01-05", "2021-01-06"], ["Flat:1", "Flat:2"]),
        "save": save("lc", "GTiff", options),
    }
    connection.download(graph, tmp_path / "out.tif")
    with rasterio.open(tmp_path / "out.tif") as ds:
        tags = ds.tags()
        assert {
            k: tags.get(k) for k in ("AREA_OR_POINT", "product_tile", "product_type", "year")
        } == {
            "AREA_OR_POINT": "Area",
            "product_tile": "29TNE",
            "product_type": "LSF monthly median composite for band B02",
            "year": "2021",
        }
        assert "PROCESSING_SOFTWARE" in tags
        assert ds.count == 2
        assert ds.descriptions == ("Flat:1", "Flat:2")
        assert ds.scales == (1.23, 1.0)
        assert ds.offsets == (0.0, 4.56)
        assert ds.tags(1)["ARBITRARY"] == "value"


@pytest.mark.parametrize("strict_cropping", [True, False])
def test_custom_netcdf_tags(
    connection: Any, collection16: str, tmp_path: Path, strict_cropping: bool
) -> None:
    """test_custom_netcdf_tags (L5176-L5229): 80 x 80 px of 1/16 degree, one date,
    ``crs`` then the bands, each with long_name, units and grid_mapping; the
    ``geometries`` option (a polygon outside the extent) crops nothing in a synchronous
    request, strict or not."""
    options = {
        "bands_metadata": BANDS_METADATA,
        "strict_cropping": strict_cropping,
        "geometries": {
            "type": "Polygon",
            "coordinates": [[[0.1, 0.1], [1.8, 0.1], [1.1, 1.8], [0.1, 0.1]]],
        },
    }
    graph = {
        "lc": load_stac(collection16, EXTENT16, ["2021-01-05", "2021-01-06"], ["Flat:1", "Flat:2"]),
        "save": save("lc", "NETCDF", options),
    }
    connection.download(graph, tmp_path / "out.nc")
    ds = xr.load_dataset(tmp_path / "out.nc")
    assert dict(ds.sizes) == {"t": 1, "x": 80, "y": 80}
    assert np.datetime_as_string(ds.coords["t"].values, unit="D").tolist() == ["2021-01-05"]
    assert list(ds.data_vars.keys())[1:] == ["Flat:1", "Flat:2"]
    for band in ("Flat:1", "Flat:2"):
        assert "long_name" in ds[band].attrs and "units" in ds[band].attrs
    assert "grid_mapping" in ds["Flat:2"].attrs


def test_reduce_bands_to_geotiff(connection: Any, collection16: str, tmp_path: Path) -> None:
    """test_reduce_bands_to_geotiff (L5232-L5288): no save_result (GTiff by default), the
    band dimension reduced away: one band without a description. (The driver's dates are
    2024-10-01..10, one observation; January 2021 here, one observation too.)"""
    extent = {"west": 4.906082, "south": 51.024594, "east": 4.928398, "north": 51.034499}
    first = callback("array_element", index=0)
    graph = {
        "lc": load_stac(collection16, extent, ["2021-01-01", "2021-01-10"], ["Flat:0"]),
        "reduce": node("reduce_dimension", data=ref("lc"), dimension="bands", reducer=first),
    }
    graph["reduce"]["result"] = True
    connection.download(graph, tmp_path / "reduced.tif")
    with rasterio.open(tmp_path / "reduced.tif") as ds:
        assert ds.count == 1
        assert not ds.descriptions[0]


def test_apply_neighborhood_filter_spatial(
    connection: Any, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """test_apply_neighborhood_filter_spatial (L1990-L2052, geopyspark-driver #147):
    apply_neighborhood over 32 px chunks, then filter_spatial to a 1 degree box, saved
    with ``strict_cropping``: the file ends at the box (east edge 11) and is 16 px wide."""
    root = tmp_path_factory.mktemp("driver-lonlat16-2020")
    url = str(
        write_lonlat_collection(
            root,
            ("2020-03-01", "2020-03-10"),
            box=(0, 0, 32, 32),
            tile_size=16,
            bands=("Longitude", "Day"),
        )
    )
    power = callback("power", key="p", base=2)
    size = [
        {"dimension": "x", "unit": "px", "value": 32},
        {"dimension": "y", "unit": "px", "value": 32},
        {"dimension": "t", "value": "P1D"},
    ]
    overlap = [
        {"dimension": "x", "unit": "px", "value": 1},
        {"dimension": "y", "unit": "px", "value": 1},
    ]
    graph = {
        "lc": load_stac(
            url,
            {"west": 0.0, "south": 0.0, "east": 32.0, "north": 32.0},
            ["2020-03-01", "2020-03-10"],
            ["Longitude", "Day"],
        ),
        "an": node("apply_neighborhood", data=ref("lc"), process=power, size=size, overlap=overlap),
        "filter": node("filter_spatial", data=ref("an"), geometries=box(10, 10, 11, 11)),
        "save": save("filter", "GTiff", {"strict_cropping": True}),
    }
    connection.download(graph, tmp_path / "apply_neighborhood.tif")
    with rasterio.open(tmp_path / "apply_neighborhood.tif") as ds:
        assert ds.bounds.right == 11
        assert ds.width == 16


def test_raster_cube_as_json_in_the_layout_of_load_result_tests(
    connection: Any, collection: str
) -> None:
    """TestLoadResult.test_load_result_job_id_basic (L2938-L3081) asserts the layout of a
    raster cube saved as JSON (``XarrayIO.to_json_file``, geopysparkdatacube.py
    L2686-2694): dims (t, bands, x, y), ``attrs.shape``, a proj4 ``crs``, per coordinate
    its dims, dtype and shape, dates as "YYYY-MM-DD HH:MM:SS", x and y ascending. The
    job results it loads are not in the driver's repository snapshot; the layout is
    checked here on the synthetic cube (Longitude/Latitude: the pixels' west/south edges)."""
    extent = {"west": 1, "south": 2, "east": 2, "north": 2.5}
    graph = {
        "lc": load_stac(
            collection, extent, ["2021-01-01", "2021-01-20"], ["Longitude", "Latitude"]
        ),
        "save": save("lc", "json"),
    }
    result = connection.execute(graph)
    assert result["dims"] == ["t", "bands", "x", "y"]
    assert result["attrs"]["shape"] == [2, 2, 4, 2]
    assert result["attrs"]["crs"].startswith("+proj=longlat")
    coords = result["coords"]
    assert coords["t"] == {
        "dims": ["t"],
        "attrs": {"dtype": "datetime64[ns]", "shape": [2]},
        "data": ["2021-01-05 00:00:00", "2021-01-15 00:00:00"],
    }
    assert coords["bands"] == {
        "dims": ["bands"],
        "attrs": {"dtype": "<U9", "shape": [2]},
        "data": ["Longitude", "Latitude"],
    }
    assert coords["x"]["data"] == [1.125, 1.375, 1.625, 1.875]
    assert coords["y"]["data"] == [2.125, 2.375]
    assert coords["x"]["attrs"] == {"dtype": "float64", "shape": [4]}
    data = np.array(result["data"])
    assert data.shape == (2, 2, 4, 2)
    np.testing.assert_array_equal(
        data[:, 0], np.broadcast_to([[1.0], [1.25], [1.5], [1.75]], (2, 4, 2))
    )
    np.testing.assert_array_equal(data[:, 1], np.broadcast_to([2.0, 2.25], (2, 4, 2)))
