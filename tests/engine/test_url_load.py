"""load_url over a real HTTP server on 127.0.0.1: the fields as GeoJSON, GeoParquet (in
UTM), GeoPackage and FlatGeobuf files, read as Copernicus reads them
(backends/local/processes/url_load.py), and aggregate_spatial over them giving what it
gives over the same fields inline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hybrid.errors import FormatUnsuitable, ProcessParameterInvalid, UrlUnreadable
from tests.engine import vector_grid as cubes
from tests.stac_fixtures import serving_directory

#: two fields on the test grid, with a float, an integer and a text property
FIELDS = cubes.collection(cubes.rect(1, 1, 5, 4), cubes.rect(3, 2, 7, 6))
for _index, _feature in enumerate(FIELDS["features"]):
    _feature["properties"].update(area=1.5 + _index, count=10 + _index)

FILES = {
    "fields.geojson": "GeoJSON",
    "fields_utm.parquet": "Parquet",
    "fields.gpkg": "gpkg",
    "fields.fgb": "FlatGeobuf",
}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import geopandas as gpd

    root = tmp_path_factory.mktemp("vector-files")
    frame = gpd.GeoDataFrame.from_features(FIELDS["features"], crs=4326)
    frame.to_file(root / "fields.geojson", driver="GeoJSON")
    frame.to_crs(cubes.EPSG).to_parquet(root / "fields_utm.parquet")
    frame.to_file(root / "fields.gpkg", driver="GPKG")
    frame.to_file(root / "fields.fgb", driver="FlatGeobuf")
    (root / "broken.geojson").write_text('{"type": "FeatureCollection", "features": [', "utf-8")
    with serving_directory(root) as url:
        yield url


def _load_url(url: str, format: str, options: dict[str, Any] | None = None) -> Any:
    arguments = {"url": url, "format": format, **({"options": options} if options else {})}
    return cubes.run_through_engine("load_url", arguments)


@pytest.mark.parametrize("name", list(FILES))
def test_each_format_is_a_vector_cube_of_the_fields_and_their_numbers(
    name: str, base_url: str
) -> None:
    from shapely.geometry import shape

    cube = _load_url(f"{base_url}/{name}", FILES[name])
    assert cube.dims == ("geometries", "properties")
    assert list(cube["properties"].values) == ["area", "count"]
    # FlatGeobuf stores the features in its spatial index's order: match them by name
    order = [int(p["name"][1:]) for p in cube.attrs["vector_properties"]]
    np.testing.assert_array_equal(cube.values, [[1.5 + i, 10 + i] for i in order])
    utm = name.endswith(".parquet")
    assert cube.attrs["vector_crs"] == ("EPSG:32632" if utm else "EPSG:4326")
    for position, index in enumerate(order):
        want = shape(FIELDS["features"][index]["geometry"])
        got = cube["geometry"].values[position]
        if utm:
            got = cubes.lonlat(got.__geo_interface__)
            got = shape(got)
        assert got.equals_exact(want, tolerance=1e-9)


def test_aggregate_spatial_over_the_url_gives_what_it_gives_over_the_fields_inline(
    base_url: str,
) -> None:
    data = cubes.spacetime()
    inline = cubes.run_through_engine(
        "aggregate_spatial", {"data": data, "geometries": FIELDS, "reducer": cubes.reducer("mean")}
    )
    for name in ("fields.geojson", "fields_utm.parquet"):
        geometries = _load_url(f"{base_url}/{name}", FILES[name])
        out = cubes.run_through_engine(
            "aggregate_spatial",
            {"data": data, "geometries": geometries, "reducer": cubes.reducer("mean")},
        )
        np.testing.assert_allclose(out.values, inline.values, rtol=1e-12)


def test_columns_for_cube_picks_the_values(base_url: str) -> None:
    url = f"{base_url}/fields.geojson"
    every = _load_url(url, "GeoJSON", {"columns_for_cube": "all"})
    assert list(every["properties"].values) == ["name", "area", "count"]
    # as pandas holds the columns (Copernicus's ``cube_df.values``): with a text among
    # them, objects, the text kept and the numbers as they are
    assert every.dtype == object
    assert every.values.tolist() == [["f0", 1.5, 10], ["f1", 2.5, 11]]
    chosen = _load_url(url, "GeoJSON", {"columns_for_cube": ["count", "absent"]})
    np.testing.assert_array_equal(chosen.sel(properties="count").values, [10, 11])
    assert np.isnan(chosen.sel(properties="absent").values).all()
    with pytest.raises(ProcessParameterInvalid, match="columns_for_cube"):
        _load_url(url, "GeoJSON", {"columns_for_cube": 3})


@pytest.mark.parametrize(
    ("path", "format", "error", "words"),
    [
        ("ftp://example.org/fields.geojson", "GeoJSON", ProcessParameterInvalid, "http://"),
        ("s3://bucket/fields.geojson", "GeoJSON", ProcessParameterInvalid, "serve the file"),
        ("/fields.geojson", "GTiff", FormatUnsuitable, "load_stac"),
        ("/fields.geojson", "ESRI Shapefile", ProcessParameterInvalid, "not an input format"),
        ("/absent.geojson", "GeoJSON", UrlUnreadable, "HTTP 404"),
        ("/broken.geojson", "GeoJSON", UrlUnreadable, "as GeoJSON"),
        ("/fields.geojson", "Parquet", UrlUnreadable, "as Parquet"),
    ],
)
def test_what_cannot_be_read_is_one_clear_error(
    path: str, format: str, error: type[Exception], words: str, base_url: str
) -> None:
    url = path if "://" in path else f"{base_url}{path}"
    with pytest.raises(error, match=words) as info:
        _load_url(url, format)
    assert "hybrid-load-url" not in str(info.value)  # no folder of the server's
    assert len(str(info.value).splitlines()) == 1


def test_a_file_too_large_is_refused_before_it_is_read(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hybrid.backends.local.processes import url_load

    monkeypatch.setattr(url_load, "MAX_URL_BYTES", 100)
    with pytest.raises(UrlUnreadable, match="larger than"):
        _load_url(f"{base_url}/fields.gpkg", "GPKG")


def test_the_input_formats_are_listed() -> None:
    from hybrid.io.registry import file_formats_document

    inputs = file_formats_document()["input"]
    assert list(inputs) == ["GeoJSON", "Parquet", "FlatGeobuf", "GPKG", "GTiff"]
    assert all(
        spec["gis_data_types"] == ["vector"] for name, spec in inputs.items() if name != "GTiff"
    )


def _bare_load_with_url_fields(url: str) -> dict[str, Any]:
    return bare_load_with_fields(
        {"process_id": "load_url", "arguments": {"url": url, "format": "Parquet"}}
    )


def bare_load_with_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A load without spatial extent, aggregated over the geometries node ``fields``."""
    return {
        "load": {
            "process_id": "load_collection",
            "arguments": {"id": "SENTINEL2_L2A", "spatial_extent": None,
                          "temporal_extent": ["2023-06-01", "2023-07-01"], "bands": ["B04"]},
        },
        "fields": fields,
        "series": {
            "process_id": "aggregate_spatial",
            "arguments": {"data": {"from_node": "load"}, "geometries": {"from_node": "fields"},
                          "reducer": cubes.reducer("mean")},
            "result": True,
        },
    }  # fmt: skip


def assert_bounded_by_utm_fields(graph: dict[str, Any]) -> None:
    """The one load of ``graph`` (:func:`bare_load_with_fields`) takes the bbox of the
    fields in their file's UTM zone, from its aggregate_spatial."""
    import geopandas as gpd

    from hybrid.backends.local.extents import infer_loads

    (load,) = infer_loads(graph).values()
    frame = gpd.GeoDataFrame.from_features(FIELDS["features"], crs=4326).to_crs(cubes.EPSG)
    assert load.spatial is not None and load.spatial.crs == f"EPSG:{cubes.EPSG}"
    bounds = (load.spatial.west, load.spatial.south, load.spatial.east, load.spatial.north)
    assert bounds == pytest.approx(tuple(frame.total_bounds), abs=1e-6)
    assert load.spatial_from == "aggregate_spatial 'series'"


def test_the_fields_at_a_url_bound_a_load_without_spatial_extent(base_url: str) -> None:
    """As Copernicus's dry run evaluates load_url: the load's extent is the fields' bbox,
    in their file's CRS; a URL that cannot be read is refused before the run, naming
    its node."""
    from hybrid.backends.local.extents import infer_loads

    assert_bounded_by_utm_fields(_bare_load_with_url_fields(f"{base_url}/fields_utm.parquet"))
    with pytest.raises(UrlUnreadable, match="HTTP 404") as info:
        infer_loads(_bare_load_with_url_fields(f"{base_url}/absent.parquet"))
    assert info.value.node == "fields"


def test_the_cube_saved_is_the_frame_copernicus_writes(base_url: str, tmp_path: Path) -> None:
    """Copernicus writes a vector cube that is not an aggregate_spatial result as its
    geometries' frame with the values flattened into it (datacube.py ``write_assets``,
    ``_as_geopandas_df``): here that frame is rebuilt with geopandas from the served file,
    the values (float64, as its ``cube_df.values``) over the properties of the same name."""
    import geopandas as gpd
    import requests

    cube = _load_url(f"{base_url}/fields_utm.parquet", "Parquet")
    written = {
        layout: cubes.write_vector_cube(cube, layout, tmp_path / layout).name
        for layout in ("CSV", "Parquet", "JSON", "GeoJSON")
    }
    assert written == {
        "CSV": "vectorcube.csv",
        "Parquet": "vectorcube.parquet",
        "JSON": "result.json",
        "GeoJSON": "vectorcube.geojson",
    }
    (tmp_path / "served.parquet").write_bytes(
        requests.get(f"{base_url}/fields_utm.parquet", timeout=10).content
    )
    want = gpd.read_parquet(tmp_path / "served.parquet")
    for column in ("area", "count"):
        want[column] = want[column].astype("float64")
    assert (tmp_path / "CSV" / "vectorcube.csv").read_text() == want.to_csv()
    got = gpd.read_parquet(tmp_path / "Parquet" / "vectorcube.parquet")
    assert list(got.columns) == list(want.columns) and got.crs == want.crs
    assert got.drop(columns="geometry").equals(want.drop(columns="geometry"))
    assert got.geometry.geom_equals_exact(want.geometry, tolerance=1e-9).all()


def test_texts_among_the_values_are_written_as_copernicus_writes_them(
    base_url: str, tmp_path: Path
) -> None:
    """A text column among the values (``columns_for_cube`` "all", or load_geojson's
    ``properties`` naming one) stays a text in every format, as Copernicus's
    ``_as_geopandas_df`` writes the cube's object values back over the properties
    (datacube.py L574-590); it was NaN (null) here. CSV and Parquet equal the frame
    geopandas reads from the served file; JSON has the texts, numbers and booleans."""
    import geopandas as gpd
    import pandas as pd
    import requests

    cube = _load_url(f"{base_url}/fields.geojson", "GeoJSON", {"columns_for_cube": "all"})
    (tmp_path / "served.geojson").write_bytes(
        requests.get(f"{base_url}/fields.geojson", timeout=10).content
    )
    want = gpd.read_file(tmp_path / "served.geojson")
    paths = {
        layout: cubes.write_vector_cube(cube, layout, tmp_path / layout)
        for layout in ("CSV", "Parquet", "JSON", "GeoJSON")
    }
    assert pd.read_csv(paths["CSV"], index_col=0)["name"].tolist() == ["f0", "f1"]
    assert paths["CSV"].read_text() == want.to_csv()
    got = gpd.read_parquet(paths["Parquet"]).drop(columns="geometry")
    # (the object columns' integers are int64, where GDAL read int32)
    pd.testing.assert_frame_equal(got, want.drop(columns="geometry"), check_dtype=False)
    features = json.loads(paths["JSON"].read_text())["features"]
    assert [f["properties"] for f in features] == [
        {"name": "f0", "area": 1.5, "count": 10},
        {"name": "f1", "area": 2.5, "count": 11},
    ]
    # GDAL writes the frame's object columns as text fields, there as here
    features = json.loads(paths["GeoJSON"].read_text())["features"]
    assert [f["properties"]["name"] for f in features] == ["f0", "f1"]
    fields = json.loads(json.dumps(FIELDS))
    fields["features"][1]["properties"].update(name=None, ok=True)
    loaded = cubes.run_through_engine(
        "load_geojson", {"data": fields, "properties": ["name", "ok", "area"]}
    )
    path = cubes.write_vector_cube(loaded, "JSON", tmp_path / "loaded")
    properties = [f["properties"] for f in json.loads(path.read_text())["features"]]
    assert [(p["name"], p["ok"], p["area"]) for p in properties] == [
        ("f0", None, 1.5),
        (None, True, 2.5),
    ]


def test_flatten_prefix_names_the_value_columns(base_url: str, tmp_path: Path) -> None:
    """save_result's ``flatten_prefix`` (datacube.py ``_as_geopandas_df`` L581-590): the
    values become ``<prefix>~<label>`` columns beside the properties."""
    import geopandas as gpd

    from hybrid.io.registry import find_format, write_result

    cube = _load_url(f"{base_url}/fields.geojson", "GeoJSON")
    options = {"flatten_prefix": "v"}
    (parquet,) = write_result(cube, find_format("Parquet"), tmp_path / "p", options=options)
    # the file's frame as GDAL reads it (the geometry last), the values after it
    assert list(gpd.read_parquet(parquet).columns) == [
        "name", "area", "count", "geometry", "v~area", "v~count"
    ]  # fmt: skip
    (geojson,) = write_result(cube, find_format("GeoJSON"), tmp_path / "g", options=options)
    properties = json.loads(geojson.read_text())["features"][0]["properties"]
    assert properties == {"name": "f0", "area": 1.5, "count": 10, "v~area": 1.5, "v~count": 10.0}
    with pytest.raises(ProcessParameterInvalid, match="flatten_prefix"):
        write_result(cube, find_format("CSV"), tmp_path / "c", options={"flatten_prefix": 3})


@pytest.mark.slow
def test_a_run_reads_the_url_once(sample_catalog: Path, tmp_path: Path) -> None:
    """The engine's check (the fields bound the bare load) and its run share one read."""
    from http.server import SimpleHTTPRequestHandler

    from hybrid.backends.local import LocalBackend, LocalSettings
    from tests.server.test_server_timeseries import FIELDS as SEED_FIELDS
    from tests.stac_fixtures import serving

    (tmp_path / "fields.geojson").write_text(json.dumps(SEED_FIELDS), encoding="utf-8")
    requests_seen: list[str] = []

    class Counting(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            requests_seen.append(self.path)

    with serving(Counting) as base:
        graph = _bare_load_with_url_fields(f"{base}/fields.geojson")
        graph["fields"]["arguments"]["format"] = "GeoJSON"
        graph["load"]["arguments"]["temporal_extent"] = ["2023-06-01", "2023-06-15"]
        graph["series"].pop("result")
        graph["save"] = {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "series"}, "format": "JSON"},
            "result": True,
        }
        backend = LocalBackend(LocalSettings(stac=str(sample_catalog)))
        (result,) = backend.execute(graph, out_dir=tmp_path / "out").files
    assert requests_seen == ["/fields.geojson"]
    assert len(json.loads(result.read_text())) >= 1  # dates of the fields' series
