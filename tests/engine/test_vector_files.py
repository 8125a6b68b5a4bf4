"""read_vector and get_geometries, Copernicus's deprecated non-standard processes: the
geometries of a GeoJSON file or a shapefile named by a path, a ``file://`` URL or an
http(s) URL (a real HTTP server on 127.0.0.1), read as Copernicus's ``DelayedVector``
reads them (backends/local/processes/vector_files.py). aggregate_spatial, mask_polygon
and vector_buffer over them give what they give over the same fields inline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hybrid.errors import HybridWarning, ProcessParameterInvalid
from tests.engine import vector_grid as cubes
from tests.stac_fixtures import serving_directory

#: two fields on the test grid (lon/lat GeoJSON), each with a text property
FIELDS = cubes.collection(cubes.rect(1, 1, 5, 4), cubes.rect(3, 2, 7, 6))
#: the files written, and the CRS each declares
FILES = {
    "fields.geojson": "EPSG:4326",
    "fields_member.geojson": f"EPSG:{cubes.EPSG}",  # UTM coordinates, the old crs member
    "fields_utm.shp": f"EPSG:{cubes.EPSG}",
    "lonlat.shp": "EPSG:4326",  # without a .prj
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import geopandas as gpd

    root = tmp_path_factory.mktemp("vector-files")
    (root / "fields.geojson").write_text(json.dumps(FIELDS), "utf-8")
    utm = cubes.collection(cubes.rect(1, 1, 5, 4), cubes.rect(3, 2, 7, 6), crs=None)
    (root / "fields_member.geojson").write_text(json.dumps({**utm, "crs": cubes.UTM_CRS}))
    frame = gpd.GeoDataFrame.from_features(FIELDS["features"], crs=4326)
    frame.to_crs(cubes.EPSG).to_file(root / "fields_utm.shp")
    frame.to_file(root / "lonlat.shp")
    (root / "lonlat.prj").unlink()
    frame.to_file(root / "fields.gpkg", driver="GPKG")
    (root / "broken.geojson").write_text('{"type": "FeatureCollection", "features": [', "utf-8")
    return root


@pytest.fixture(scope="module")
def base_url(folder: Path) -> Iterator[str]:
    with serving_directory(folder) as url:
        yield url


def _where(kind: str, name: str, folder: Path, base_url: str) -> str:
    return {
        "path": str(folder / name),
        "file": (folder / name).as_uri(),
        "url": f"{base_url}/{name}",
    }[kind]


def _read_vector(filename: Any) -> Any:
    """read_vector's cube, and its warning that it is deprecated (as Copernicus logs)."""
    with pytest.warns(HybridWarning, match="read_vector is deprecated"):
        return cubes.run_through_engine("read_vector", {"filename": filename})


@pytest.mark.parametrize("kind", ["path", "file", "url"])
@pytest.mark.parametrize("name", list(FILES))
def test_each_file_is_a_vector_cube_of_the_geometries_without_properties(
    name: str, kind: str, folder: Path, base_url: str
) -> None:
    from shapely.geometry import shape

    cube = _read_vector(_where(kind, name, folder, base_url))
    assert cube.dims == ("geometries",) and list(cube["geometries"].values) == [0, 1]
    assert cube.attrs["vector_crs"] == FILES[name]
    assert cube.attrs["vector_properties"] == [{}, {}]  # DelayedVector keeps geometries only
    for position, feature in enumerate(FIELDS["features"]):
        got = cube["geometry"].values[position]
        if FILES[name] != "EPSG:4326":
            got = shape(cubes.lonlat(got.__geo_interface__))
        assert got.equals_exact(shape(feature["geometry"]), tolerance=1e-9)


def test_aggregate_spatial_and_mask_polygon_over_a_file_give_what_the_fields_inline_give(
    folder: Path, base_url: str
) -> None:
    data = cubes.spacetime()
    reducer = cubes.reducer("mean")
    inline = cubes.run_through_engine(
        "aggregate_spatial", {"data": data, "geometries": FIELDS, "reducer": reducer}
    )
    masked = cubes.run_through_engine("mask_polygon", {"data": data, "mask": FIELDS})
    assert np.isfinite(inline.values).sum() >= 4
    for name, kind in (("fields_utm.shp", "url"), ("fields_member.geojson", "path")):
        geometries = _read_vector(_where(kind, name, folder, base_url))
        out = cubes.run_through_engine(
            "aggregate_spatial", {"data": data, "geometries": geometries, "reducer": reducer}
        )
        np.testing.assert_allclose(out.values, inline.values, rtol=1e-12)
        mask = cubes.run_through_engine("mask_polygon", {"data": data, "mask": geometries})
        np.testing.assert_array_equal(mask.values, masked.values)


def test_vector_buffer_reads_a_filename_as_read_vector_does(folder: Path) -> None:
    from shapely.geometry import shape

    def buffered(geometries: Any) -> list[Any]:
        out = cubes.run_through_engine("vector_buffer", {"geometries": geometries, "distance": 5})
        return [shape(f["geometry"]) for f in out["features"]]

    for got, want in zip(buffered(str(folder / "fields_utm.shp")), buffered(FIELDS), strict=True):
        assert got.equals_exact(want, tolerance=1e-9)


def test_get_geometries_reads_a_file_or_gives_its_feature_collection(folder: Path) -> None:
    path = str(folder / "fields.geojson")
    got = cubes.run_through_engine("get_geometries", {"filename": path})
    assert got.identical(_read_vector(path))
    given = cubes.run_through_engine("get_geometries", {"feature_collection": FIELDS})
    assert json.dumps(given) == json.dumps(FIELDS)
    with pytest.raises(ProcessParameterInvalid, match="give a filename"):
        cubes.run_through_engine("get_geometries", {})


@pytest.mark.parametrize(
    ("filename", "words"),
    [
        ('{"type": "Polygon", "coordinates": []}', "looks like GeoJSON"),
        (3, "filename must be a file path or an http"),
        ("s3://bucket/fields.geojson", "neither an http"),
        ("{folder}/absent.geojson", "there is no file"),
        ("{folder}/fields.gpkg", "as GeoJSON .*with load_url"),
        ("{base}/absent.geojson", "HTTP 404"),
        ("{base}/absent.shp", "HTTP 404"),
        ("{base}/broken.geojson", "as GeoJSON"),
    ],
)
def test_what_cannot_be_read_is_one_clear_error(
    filename: Any, words: str, folder: Path, base_url: str
) -> None:
    if isinstance(filename, str):
        filename = filename.replace("{folder}", str(folder)).replace("{base}", base_url)
    with pytest.raises(ProcessParameterInvalid, match=words) as info:
        cubes.run_through_engine("read_vector", {"filename": filename})
    assert "hybrid-read-vector" not in str(info.value)  # no folder of the server's
    assert len(str(info.value).splitlines()) == 1


def _bare_load_with_file_fields(filename: str) -> dict[str, Any]:
    from tests.engine.test_url_load import bare_load_with_fields

    return bare_load_with_fields({"process_id": "read_vector", "arguments": {"filename": filename}})


def test_the_fields_of_a_file_bound_a_load_without_spatial_extent(
    folder: Path, base_url: str
) -> None:
    """As Copernicus's dry run evaluates read_vector: the load's extent is the fields'
    bbox in their file's CRS; a file that cannot be read is refused before the run,
    naming its node; while a batch job is created the file is not read."""
    from hybrid.backends.local.extents import infer_loads
    from hybrid.backends.local.processes.url_load import unread
    from tests.engine.test_url_load import assert_bounded_by_utm_fields

    assert_bounded_by_utm_fields(_bare_load_with_file_fields(f"{base_url}/fields_utm.shp"))
    absent = _bare_load_with_file_fields(str(folder / "absent.geojson"))
    with pytest.raises(ProcessParameterInvalid, match="there is no file") as info:
        infer_loads(absent)
    assert info.value.node == "fields"
    with unread():
        infer_loads(absent)


def test_saved_as_json_it_is_the_geometries_in_lonlat(folder: Path, tmp_path: Path) -> None:
    """As Copernicus saves a ``DelayedVector`` as JSON (save_result.py L1004-1008): the
    file's geometries in lon/lat, also from a shapefile in UTM."""
    from shapely.geometry import shape

    from hybrid.io.registry import find_format, write_result

    cube = _read_vector(str(folder / "fields_utm.shp"))
    (path,) = write_result(cube, find_format("JSON"), tmp_path / "json", options={})
    got = json.loads(path.read_text())
    assert len(got) == len(FIELDS["features"])
    for geometry, feature in zip(got, FIELDS["features"], strict=True):
        assert geometry["type"] == "Polygon"
        assert shape(geometry).equals_exact(shape(feature["geometry"]), tolerance=1e-9)


def test_saved_as_geojson_it_is_the_file_s_document_in_lonlat(folder: Path, tmp_path: Path) -> None:
    """As Copernicus saves a ``DelayedVector`` as GeoJSON (save_result.py L1009-1010,
    ``DelayedVector.geojson``): a lon/lat GeoJSON file's own document; one in UTM as its
    features in lon/lat with their properties; a shapefile's geometries in lon/lat
    without properties; written as ``result.json`` (a ``JSONResult``)."""
    from shapely.geometry import shape

    from hybrid.io.registry import find_format, write_result

    def saved(name: str) -> Any:
        cube = _read_vector(str(folder / name))
        (path,) = write_result(cube, find_format("GeoJSON"), tmp_path / name, options={})
        assert path.name == "result.json"
        return json.loads(path.read_text())

    assert saved("fields.geojson") == json.loads(json.dumps(FIELDS))
    for name in ("fields_member.geojson", "fields_utm.shp"):
        got = saved(name)
        assert got["type"] == "FeatureCollection" and "crs" not in got
        assert len(got["features"]) == len(FIELDS["features"])
        for feature, field in zip(got["features"], FIELDS["features"], strict=True):
            want = field["properties"] if name.endswith(".geojson") else {}
            assert feature["properties"] == want
            geometry = shape(feature["geometry"])
            assert geometry.equals_exact(shape(field["geometry"]), tolerance=1e-9)
