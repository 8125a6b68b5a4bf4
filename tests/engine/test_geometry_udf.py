"""run_udf with geometries as ``data`` (GeoJSON in the graph, or read_vector's file), as
Copernicus runs it (openeo-python-driver ``process_implementations/cubes.py`` L507-545):
the UDF, in the confined worker, gets a ``FeatureCollection`` of the geometries in their
CRS; a feature collection it answers is a vector cube (its numeric columns the values),
structured data its value, invalid geometries a 400 ``InvalidGeometry``; load_geojson's
cube reaches it as its legacy JSON in structured data. Expected geometries are computed
here with shapely and pyproj."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hybrid.errors import InvalidGeometry
from tests.engine import vector_grid as cubes

FIELDS = cubes.collection(cubes.rect(1, 1, 5, 4), cubes.rect(3, 2, 7, 6))
#: into UTM, each field's area as a number, a text column, shrunk by 5 m
SHRINK = """
from openeo.udf import FeatureCollection, UdfData

def shrink(data: UdfData):
    frame = data.get_feature_collection_list()[0].data.to_crs(32632)
    frame["area_m2"] = frame.area
    frame["label"] = ["first", "second"]
    frame["geometry"] = frame.buffer(-5)
    data.set_feature_collection_list([FeatureCollection(id="out", data=frame)])
"""
#: structured data only (the input's collection dropped, else it would be the answer)
COUNT = """
from openeo.udf import StructuredData, UdfData

def count(data: UdfData):
    frame = data.get_feature_collection_list()[0].data
    answer = {"n": len(frame), "epsg": data.proj["EPSG"], "crs": str(frame.crs),
              "factor": data.user_context["factor"]}
    data.set_feature_collection_list(None)
    data.set_structured_data_list([StructuredData(data=answer, type="dict")])
"""
BOW_TIE = """
import geopandas as gpd
from shapely.geometry import Polygon
from openeo.udf import FeatureCollection, UdfData

def bow_tie(data: UdfData):
    good = data.get_feature_collection_list()[0].data.geometry.iloc[0]
    bad = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    frame = gpd.GeoDataFrame(geometry=[good, bad], crs=4326)
    data.set_feature_collection_list([FeatureCollection(id="out", data=frame)])
"""


def _run_udf(data: Any, code: str, context: Any = None) -> Any:
    arguments = {"data": data, "udf": code, "runtime": "Python"}
    if context is not None:
        arguments["context"] = context
    return cubes.run_through_engine("run_udf", arguments)


@pytest.fixture(scope="module")
def shapefile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import geopandas as gpd

    path = tmp_path_factory.mktemp("udf-fields") / "fields.shp"
    gpd.GeoDataFrame.from_features(FIELDS["features"], crs=4326).to_crs(cubes.EPSG).to_file(path)
    return path


def test_a_feature_collection_answer_is_a_vector_cube_of_its_numbers(shapefile: Path) -> None:
    import shapely

    want = [cubes.grid_shape(f["geometry"]).buffer(-5) for f in FIELDS["features"]]
    areas = [cubes.grid_shape(f["geometry"]).area for f in FIELDS["features"]]
    with pytest.warns(match="read_vector is deprecated"):
        from_file = cubes.run_through_engine("read_vector", {"filename": str(shapefile)})
    for data in (FIELDS, from_file):
        cube = _run_udf(data, SHRINK)
        assert cube.dims == ("geometries", "properties")
        assert list(cube["properties"].values) == ["area_m2"]  # the text is no value
        np.testing.assert_allclose(cube.values[:, 0], areas, rtol=1e-6)
        assert cube.attrs["vector_crs"] == f"EPSG:{cubes.EPSG}"
        assert [p["label"] for p in cube.attrs["vector_properties"]] == ["first", "second"]
        for got, expected in zip(cube["geometry"].values, want, strict=True):
            assert shapely.equals_exact(got, expected, tolerance=1e-3)


def test_structured_data_is_the_answer_and_the_udf_sees_the_crs() -> None:
    got = _run_udf(FIELDS, COUNT, context={"factor": 3})
    assert got == {"n": 2, "epsg": 4326, "crs": "EPSG:4326", "factor": 3}
    utm = {**cubes.collection(cubes.rect(1, 1, 5, 4), crs=None), "crs": cubes.UTM_CRS}
    assert _run_udf(utm, COUNT, context={"factor": 1})["epsg"] == cubes.EPSG


def test_invalid_geometries_in_the_answer_are_a_400_naming_them() -> None:
    with pytest.raises(InvalidGeometry, match=r"Invalid index\(es\): \[1\]") as info:
        _run_udf(FIELDS, BOW_TIE)
    assert info.value.status == 400 and info.value.code == "InvalidGeometry"


#: what the UDF is given as structured data, and whether it has a proj
ECHO = """
from openeo.udf import StructuredData, UdfData

def echo(data: UdfData):
    given = data.get_structured_data_list()[0]
    answer = {"data": given.data, "type": given.type, "description": given.description,
              "proj": data.proj}
    data.set_structured_data_list([StructuredData(data=answer, type="dict")])
"""


def test_a_load_geojson_cube_reaches_the_udf_as_its_legacy_json() -> None:
    """Copernicus's ``to_legacy_save_result``: one null per geometry without properties,
    the GeoJSON FeatureCollection with them (the JSON save_result writes), no proj."""
    from hybrid.io.json_text import timeseries_json

    bare = cubes.run_through_engine("load_geojson", {"data": FIELDS})
    got = _run_udf(bare, ECHO)
    legacy = {"type": "dict", "description": "Dictionary data", "proj": None}
    assert got == {"data": [None, None], **legacy}
    named = cubes.run_through_engine("load_geojson", {"data": FIELDS, "properties": ["name"]})
    got = _run_udf(named, ECHO)
    want = json.loads(json.dumps(timeseries_json(named)))
    assert got["data"] == want and want["type"] == "FeatureCollection"
    assert len(want["features"]) == 2 and got["proj"] is None


#: two structured data answered: the answer is the list of their values
SPLIT = """
from openeo.udf import StructuredData, UdfData

def split(data: UdfData):
    values = data.get_structured_data_list()[0].data
    evens = [v for v in values if v % 2 == 0]
    odds = [v for v in values if v % 2]
    data.set_structured_data_list([StructuredData(data=evens, type="list"),
                                   StructuredData(data=odds, type="list")])
"""


def test_an_array_reaches_the_udf_as_a_data_list() -> None:
    """Copernicus (``cubes.py`` L518-522): a list as ``data`` is one ``StructuredData``
    ("Data list", type ``list``), no proj (another process's array: through the client in
    ``tests/workflows/test_vector_udf_docs.py``)."""
    want = {"data": [3, 1.5, "a", None], "type": "list", "description": "Data list"}
    assert _run_udf([3, 1.5, "a", None], ECHO) == {**want, "proj": None}
    assert _run_udf([], ECHO)["data"] == []
    assert _run_udf(list(range(7)), SPLIT) == [[0, 2, 4, 6], [1, 3, 5]]


def test_a_number_is_not_data_for_run_udf() -> None:
    from hybrid.errors import ProcessParameterInvalid

    with pytest.raises(ProcessParameterInvalid, match="runs only on an array, on geometries"):
        _run_udf(42, ECHO)


#: what raster_to_vector's values look like to the UDF: per date, each geometry's band
#: values, NaN counted as NaN (not null)
SHAPES = """
import math
from openeo.udf import StructuredData, UdfData

def shapes(data: UdfData):
    given = data.get_structured_data_list()[0]
    def nan(rows):
        return sum(math.isnan(v) for row in rows for v in row)
    if isinstance(given.data, dict):
        answer = {date: [len(rows), nan(rows)] for date, rows in given.data.items()}
    else:
        answer = given.data
    data.set_structured_data_list([StructuredData(data={"answer": answer, "type": given.type})])
"""


def test_a_raster_to_vector_cube_reaches_the_udf_as_its_values_per_date() -> None:
    """Copernicus's raster_to_vector gives a ``DriverVectorCube`` (geopysparkdatacube.py
    L1757-1831), which run_udf hands over as ``to_legacy_save_result``'s data
    (datacube.py L706-718): ``{date: [[band values] per geometry]}``, a geometry's value
    at its own date only, NaN elsewhere; without ``t`` the rows of band values."""
    from tests.engine.test_raster_to_vector import _cube

    first = np.array([[1.0, 1.0], [2.0, np.nan]])  # two zones
    second = np.array([[3.0, 3.0], [3.0, 3.0]])  # one zone
    cube = _cube(np.stack([first, second]), ["2023-06-05", "2023-06-10"])
    vectors = cubes.run_through_engine("raster_to_vector", {"data": cube})
    got = _run_udf(vectors, SHAPES)
    # three polygons in all: each date lists all three, NaN for the two of the other date
    want = {"2023-06-05T00:00:00Z": [3, 1], "2023-06-10T00:00:00Z": [3, 2]}
    assert got == {"answer": want, "type": "dict"}
    flat = cubes.run_through_engine("raster_to_vector", {"data": _cube(first)})
    assert _run_udf(flat, SHAPES) == {"answer": [[1.0], [2.0]], "type": "dict"}


#: no feature kept: an empty feature collection answered
NONE_KEPT = """
from openeo.udf import FeatureCollection, UdfData

def none_kept(data: UdfData):
    frame = data.get_feature_collection_list()[0].data
    data.set_feature_collection_list([FeatureCollection(id="out", data=frame.iloc[:0])])
"""


def test_an_empty_feature_collection_answered_is_an_empty_vector_cube(tmp_path: Path) -> None:
    """Copernicus's ``DriverVectorCube.from_geodataframe`` of no rows: saved as JSON it is
    ``[]`` (``to_legacy_save_result``: one null per geometry), as GeoJSON an empty
    FeatureCollection."""
    from hybrid.io.registry import find_format, write_result

    got = _run_udf(FIELDS, NONE_KEPT)
    assert got.sizes["geometries"] == 0
    (as_json,) = write_result(got, find_format("JSON"), tmp_path / "json", options={})
    assert json.loads(as_json.read_text()) == []
    (as_geojson,) = write_result(got, find_format("GeoJSON"), tmp_path / "geojson", options={})
    document = json.loads(as_geojson.read_text())
    assert document["type"] == "FeatureCollection" and document["features"] == []


#: the date of each field's peak, a Timestamp column beside a number
PEAK = """
import pandas as pd
from openeo.udf import FeatureCollection, UdfData

def peak(data: UdfData):
    frame = data.get_feature_collection_list()[0].data
    frame["peak"] = [pd.Timestamp("2023-06-10"), pd.Timestamp("2023-07-05T10:30:00")]
    frame["ndvi"] = [0.8, 0.6]
    data.set_feature_collection_list([FeatureCollection(id="out", data=frame)])
"""


def test_a_date_column_in_the_answer_is_kept_as_iso_text(tmp_path: Path) -> None:
    """A UDF's frame with a Timestamp column (the date of each field's peak): numbers are
    the values, the dates a property in ISO 8601 (GDAL's GeoJSON datetime text); it ended
    the UDF with a JSON error before."""
    from hybrid.io.registry import find_format, write_result

    got = _run_udf(FIELDS, PEAK)
    assert list(got["properties"].values) == ["ndvi"]
    np.testing.assert_array_equal(got.values[:, 0], [0.8, 0.6])
    peaks = [p["peak"] for p in got.attrs["vector_properties"]]
    assert peaks == ["2023-06-10T00:00:00", "2023-07-05T10:30:00"]
    (path,) = write_result(got, find_format("GeoJSON"), tmp_path, options={})
    saved = json.loads(path.read_text())["features"]
    assert [f["properties"]["peak"] for f in saved] == peaks
