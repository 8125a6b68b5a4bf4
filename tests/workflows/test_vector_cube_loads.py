"""``connection.load_geojson`` (the client's VectorCube) as the geometries of
aggregate_spatial, filter_spatial and mask_polygon, through the client against
``hybrid serve``, checked with numpy on the raw bands downloaded from the same server.

As on Copernicus (openeo-python-driver ``load_geojson``): the load's area comes from the
geometries when load_collection has no spatial extent, and a GeometryCollection is
refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import BBOX, DATES, FIELDS, pixels_inside, raw_bands


def _covered(raw: xr.Dataset, geometry: dict[str, Any]) -> np.ndarray:
    inside = pixels_inside(raw, geometry)
    assert inside.sum() >= 6, "a field must cover a few pixels"
    return inside


def _ndvi(raw: xr.Dataset) -> np.ndarray:
    red, nir = (raw[b].values.astype(np.float64) for b in ("B04", "B08"))
    with np.errstate(all="ignore"):
        out: np.ndarray = (nir - red) / (nir + red)
    return out


@pytest.fixture(scope="module")
def raw(connection: Any, tmp_path_factory: pytest.TempPathFactory) -> xr.Dataset:
    return raw_bands(connection, ["B04", "B08"], tmp_path_factory.mktemp("raw") / "raw.nc")


def test_aggregate_spatial_over_a_loaded_geojson_without_spatial_extent(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """The mean NDVI per field and date, the fields given by ``load_geojson`` and the
    load's area taken from them (load_collection has no spatial extent)."""
    fields = connection.load_geojson(FIELDS)
    cube = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=DATES, bands=["B04", "B08"]
    ).ndvi(nir="B08", red="B04")
    cube.aggregate_spatial(geometries=fields, reducer="mean").download(tmp_path / "ts.json")

    doc = json.loads((tmp_path / "ts.json").read_text())
    ndvi = _ndvi(raw)
    want = np.array(
        [
            [
                np.nanmean(np.where(_covered(raw, f["geometry"]), ndvi[t], np.nan))
                for f in FIELDS["features"]
            ]
            for t in range(raw.sizes["t"])
        ]
    )
    assert [np.datetime64(d.rstrip("Z")) for d in doc] == list(raw["t"].values)
    got = np.array([[np.nan if v[0] is None else v[0] for v in fs] for fs in doc.values()])
    assert np.isfinite(want).sum() >= 4, "the fields must have values on several dates"
    np.testing.assert_allclose(got, want, rtol=1e-5, equal_nan=True)


def test_filter_spatial_and_mask_polygon_with_a_loaded_geojson(
    connection: Any, raw: xr.Dataset, tmp_path: Path
) -> None:
    """filter_spatial keeps the fields' pixels (nodata elsewhere) in their bounds;
    mask_polygon keeps the fields' pixels on the whole extent."""
    fields = connection.load_geojson(FIELDS)
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    )
    cube.mask_polygon(fields).download(tmp_path / "masked.nc")
    with xr.open_dataset(tmp_path / "masked.nc", engine="h5netcdf") as ds:
        masked = ds["B04"].load()
    either = _covered(raw, FIELDS["features"][0]["geometry"]) | _covered(
        raw, FIELDS["features"][1]["geometry"]
    )
    want = np.where(either, raw["B04"].values, np.nan)
    np.testing.assert_array_equal(masked.transpose("t", "y", "x").values, want)

    cube.filter_spatial(fields).download(tmp_path / "filtered.nc")
    with xr.open_dataset(tmp_path / "filtered.nc", engine="h5netcdf") as ds:
        filtered = ds["B04"].load()
    window = raw["B04"].where(xr.DataArray(either, dims=("y", "x")))
    window = window.sel(x=filtered["x"].values, y=filtered["y"].values)
    np.testing.assert_array_equal(filtered.transpose("t", "y", "x").values, window.values)
    assert int(np.isfinite(filtered.isel(t=0).values).sum()) == int(either.sum())


def test_a_geometry_collection_is_refused(connection: Any) -> None:
    """Copernicus's load_geojson takes points, polygons, Features and FeatureCollections."""
    import openeo

    collection = {"type": "GeometryCollection", "geometries": [FIELDS["features"][0]["geometry"]]}
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    )
    graph = cube.aggregate_spatial(geometries=connection.load_geojson(collection), reducer="mean")
    with pytest.raises(openeo.rest.OpenEoApiError) as caught:
        graph.execute()
    assert caught.value.http_status_code == 400
    assert "GeometryCollection" in str(caught.value)


def test_sample_by_feature_over_a_loaded_geojson(connection: Any, tmp_path: Path) -> None:
    """A batch job's ``sample_by_feature`` with filter_spatial over ``load_geojson``: one
    file per field, named by ``feature_id_property``, each with that field's pixels."""
    cube = connection.load_collection("SENTINEL2_L2A", temporal_extent=DATES, bands=["B04"])
    cube = cube.filter_spatial(connection.load_geojson(FIELDS))
    job = cube.create_job(out_format="netCDF", sample_by_feature=True, feature_id_property="name")
    job.start_and_wait(max_poll_interval=1, print=lambda *a, **k: None)
    job.get_results().download_files(tmp_path / "job")
    files = sorted(p.name for p in (tmp_path / "job").iterdir() if p.suffix == ".nc")
    assert files == ["openEO_A.nc", "openEO_B.nc"]
    for name, feature in zip(files, FIELDS["features"], strict=True):
        with xr.open_dataset(tmp_path / "job" / name, engine="h5netcdf") as ds:
            values = ds["B04"].load()
        raw = raw_bands(connection, ["B04"], tmp_path / f"raw-{name}")
        inside = _covered(raw, feature["geometry"])
        assert int(np.isfinite(values.isel(t=0).values).sum()) == int(inside.sum())


def test_a_loaded_geojson_saved_as_geojson_and_json(connection: Any, tmp_path: Path) -> None:
    """Copernicus's vector cube results: GeoJSON (the default of a synchronous request)
    holds the features with their properties and the chosen ``properties`` as values;
    JSON holds one null per geometry when no properties were chosen."""
    import shapely
    from shapely.geometry import shape

    answer = connection.load_geojson(FIELDS, properties=["area_ha"]).execute()
    assert answer["type"] == "FeatureCollection"
    assert [f["properties"] for f in answer["features"]] == [
        {"name": "A", "area_ha": 1.5},
        {"name": "B", "area_ha": None},
    ]
    for got, sent in zip(answer["features"], FIELDS["features"], strict=True):
        assert shapely.equals_exact(shape(got["geometry"]), shape(sent["geometry"]), 1e-9)

    connection.load_geojson(FIELDS).download(tmp_path / "plain.json", format="JSON")
    assert json.loads((tmp_path / "plain.json").read_text()) == [None, None]


def test_to_vector_cube_is_load_geojson_with_the_numerical_properties(
    connection: Any, tmp_path: Path
) -> None:
    """Copernicus's deprecated ``to_vector_cube`` (``DriverVectorCube.from_geojson``'s
    default columns): the properties pandas reads as numbers are the values (``code``
    and ``area_ha``, NaN where missing; not ``name`` nor the boolean ``ok``), as
    load_geojson with those properties gives them; its geometries bound a load without
    spatial extent as load_geojson's do; a Point is refused."""
    from openeo.rest import OpenEoApiError

    fields = json.loads(json.dumps(FIELDS))
    for feature, code in zip(fields["features"], (3, 7), strict=True):
        feature["properties"].update(code=code, ok=True)
    converted = connection.datacube_from_process("to_vector_cube", data=fields)
    loaded = connection.load_geojson(fields, properties=["area_ha", "code"])
    converted.download(tmp_path / "converted.json", format="JSON")
    loaded.download(tmp_path / "loaded.json", format="JSON")
    got = json.loads((tmp_path / "converted.json").read_text())
    assert got == json.loads((tmp_path / "loaded.json").read_text())
    assert [(f["properties"]["area_ha"], f["properties"]["code"]) for f in got["features"]] == [
        (1.5, 3.0),
        (None, 7.0),
    ]
    with_flag = connection.load_geojson(fields, properties=["area_ha", "code", "ok"])
    with_flag.download(tmp_path / "flag.json", format="JSON")
    flagged = json.loads((tmp_path / "flag.json").read_text())["features"][0]["properties"]
    # with a boolean among them pandas holds the values as objects (Copernicus's
    # ``cube_df.values``): the boolean stays one, the integer too
    assert got["features"][0]["properties"]["ok"] is True and flagged["ok"] is True
    assert type(flagged["code"]) is int

    cube = connection.load_collection("SENTINEL2_L2A", temporal_extent=DATES, bands=["B04"])
    via_converted = cube.aggregate_spatial(geometries=converted, reducer="mean").execute()
    via_loaded = cube.aggregate_spatial(
        geometries=connection.load_geojson(fields), reducer="mean"
    ).execute()
    assert via_converted == via_loaded and len(via_loaded) >= 2
    point = {"type": "Point", "coordinates": [6.664, 45.24]}
    with pytest.raises(OpenEoApiError) as refused:
        connection.datacube_from_process("to_vector_cube", data=point).execute()
    assert refused.value.http_status_code == 400
    assert "to_vector_cube: data must be GeoJSON of type" in refused.value.message


def test_read_vector_as_the_client_documents_it_for_old_scripts(
    connection: Any, tmp_path: Path
) -> None:
    """The client's "Legacy read_vector usage": ``geometries=process("read_vector",
    filename=...)`` with a path the backend reads (here a shapefile in UTM and a GeoJSON
    file, written beside the server): the time series the same fields give through
    load_geojson, also bounding a load without spatial extent; saved as GeoJSON the file's
    own document; a path that is not there is one 400 naming it."""
    import geopandas as gpd
    from openeo.processes import process
    from openeo.rest import OpenEoApiError

    frame = gpd.GeoDataFrame.from_features(FIELDS["features"], crs=4326)
    frame.to_crs(32632).to_file(tmp_path / "fields.shp")
    (tmp_path / "fields.geojson").write_text(json.dumps(FIELDS), encoding="utf-8")
    cube = connection.load_collection("SENTINEL2_L2A", temporal_extent=DATES, bands=["B04"])
    want = cube.aggregate_spatial(
        geometries=connection.load_geojson(FIELDS), reducer="mean"
    ).execute()
    assert len(want) >= 2
    for name in ("fields.shp", "fields.geojson"):
        geometries = process("read_vector", filename=str(tmp_path / name))
        got = cube.aggregate_spatial(geometries=geometries, reducer="mean").execute()
        assert list(got) == list(want)
        for date, values in want.items():
            assert np.array(got[date], dtype=float) == pytest.approx(
                np.array(values, dtype=float), rel=1e-9, nan_ok=True
            )
    alone = connection.datacube_from_process("read_vector", filename=str(tmp_path / "fields.shp"))
    assert [g["type"] for g in alone.execute()] == ["Polygon"] * len(FIELDS["features"])
    # saved as GeoJSON: the GeoJSON file's own document, as a JSON answer (a JSONResult)
    as_geojson = connection.datacube_from_process(
        "read_vector", filename=str(tmp_path / "fields.geojson")
    ).save_result(format="GeoJSON")
    as_geojson.download(tmp_path / "saved.json")
    assert json.loads((tmp_path / "saved.json").read_text()) == json.loads(json.dumps(FIELDS))
    absent = process("read_vector", filename=str(tmp_path / "absent.shp"))
    with pytest.raises(OpenEoApiError) as refused:
        cube.aggregate_spatial(geometries=absent, reducer="mean").execute()
    assert refused.value.http_status_code == 400
    assert f"there is no file {tmp_path / 'absent.shp'}" in refused.value.message


def test_the_clients_vector_cube_filters_of_a_time_series_are_refused(connection: Any) -> None:
    """The client offers ``filter_labels`` and ``filter_bbox`` on aggregate_spatial's
    VectorCube; Copernicus runs them on raster cubes only (python-driver
    process_implementations/cubes.py L339, L348: ``expected_type=DriverDataCube``), so the
    request is a 400 there, as here (the dates were filtered here)."""
    import openeo

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04"]
    )
    series = cube.aggregate_spatial(geometries=FIELDS, reducer="mean")
    for graph in (
        series.filter_labels(lambda t: t != DATES[0], dimension="t"),
        series.filter_bbox(extent=BBOX),
    ):
        with pytest.raises(openeo.rest.OpenEoApiError) as caught:
            graph.execute()
        assert caught.value.http_status_code == 400
        assert caught.value.code == "ProcessParameterInvalid"
        assert "expected a raster cube but got an aggregate_spatial result" in str(caught.value)
