"""``run_udf`` on its own, over the time series of ``aggregate_spatial``, as on Copernicus.

Copernicus runs a top-level ``run_udf`` on an aggregate_spatial result with a time
dimension (openeo-python-driver 9e5b49b2 ``process_implementations/cubes.py`` ``run_udf``
L481-560: ``SupportsRunUdf``, or the result's JSON as ``StructuredData``;
openeo-geopyspark-driver 9baf2e10 ``openeogeotrellis/vectorcube.py``
``AggregateSpatialResultCSV``; its guide ``docs/vectorcube-run_udf.md``): per geometry
with ``udf_apply_feature_dataframe`` / ``udf_apply_udf_data``, else once over the whole
time series. The answer is a JSON value (pandas' ``split`` layout in the per-geometry
modes), which ``save_result`` writes as JSON. The UDF runs in the confined worker
(:mod:`hybrid.backends.local.udf.isolated`); what it does there:
:mod:`hybrid.backends.local.udf.feature_tables`.

Geometries as ``data`` (GeoJSON in the graph, or read_vector's file: a ``dict`` or a
``DelayedVector`` there, ``cubes.py`` L507-545) reach the UDF as a ``FeatureCollection``
(a GeoDataFrame of the geometries alone, in their CRS, ``proj`` its EPSG); a feature
collection it returns becomes a vector cube (``DriverVectorCube.from_geodataframe``: its
numeric columns the values; an invalid geometry is a 400 ``InvalidGeometry`` naming its
index), structured data its value (a list when several).

load_geojson's vector cube (load_url's, to_vector_cube's) reaches it as Copernicus's
``to_legacy_save_result`` JSON in one ``StructuredData`` (``cubes.py`` L504-505, L514-516):
one null per geometry without properties, else the GeoJSON FeatureCollection;
raster_to_vector's (a ``DriverVectorCube`` there too) as its values per date. An array
(a list in the graph, or another process's array) reaches it as one ``StructuredData`` of
type ``list`` ("Data list", L518-522).

Refused, as there: a raster cube (run_udf runs only as a callback on it) and an
aggregate_spatial result without ``t`` (``AggregateSpatialVectorCube``
is no ``JSONResult``: "Unsupported data type"). A result in which no geometry covers a
pixel centre has no rows for the UDF (Copernicus's job fails on it): NoDataAvailable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybrid.backends.local.udf.isolated import UdfSettings
from hybrid.errors import NoDataAvailable, ProcessParameterInvalid

if TYPE_CHECKING:
    from hybrid.geometries import Features

_ONLY = (
    "run_udf: on its own, run_udf runs only on an array, on geometries (GeoJSON, "
    "read_vector, load_geojson) or on the result of aggregate_spatial over a cube with a "
    "time dimension (as on Copernicus); on a raster cube make it the single process of the "
    "callback of apply, apply_dimension, reduce_dimension, apply_neighborhood or "
    "apply_polygon"
)


def run_udf(
    data: Any,
    udf: str,
    runtime: str,
    version: str | None = None,
    context: Any = None,
    *,
    udf_settings: UdfSettings | None = None,
) -> Any:
    """The UDF's JSON answer for ``data`` (module docstring; its code and runtime were
    checked with the graph: hybrid.backends.local.udf.callbacks)."""
    from hybrid.backends.local.udf.isolated import run_udf_table
    from hybrid.io.csv_text import timeseries_rows
    from hybrid.io.vector import aggregate_json, is_time_series

    settings = udf_settings or UdfSettings()
    geometries = _geometries(data)
    if geometries is not None:
        return _on_geometries(udf, geometries, context, settings)
    if _legacy_json_cube(data):
        return _vector_answer(udf, {"structured": _legacy_json(data)}, None, context, settings)
    values = _array(data)
    if values is not None:
        given = {"structured": values, "type": "list"}
        return _vector_answer(udf, given, None, context, settings)
    if not is_time_series(data):
        raise ProcessParameterInvalid(_ONLY)
    columns, rows = timeseries_rows(data)
    if not rows:
        raise NoDataAvailable(
            "run_udf: no geometry of the aggregate_spatial covers a pixel centre, so there "
            "is no time series to give the UDF"
        )
    table = {"columns": columns, "rows": rows, "timeseries": aggregate_json(data)}
    return run_udf_table(udf, table, context=context or {}, settings=settings, process="run_udf")


def _geometries(data: Any) -> Features | None:
    """The geometries of GeoJSON or of read_vector's cube given as ``data``; else None."""
    from hybrid.geometries import read_features, unwrapped, vector_cube_features
    from hybrid.io.vector import FILE_GEOMETRIES

    value = unwrapped(data)
    if isinstance(value, dict) and "type" in value:
        return read_features(value, process="run_udf", crs_member=True)
    if getattr(value, "attrs", {}).get(FILE_GEOMETRIES):
        return vector_cube_features(value)
    return None


def _array(data: Any) -> list[Any] | None:
    """``data`` as a list when it is an array (a list, or a numpy array of a process
    such as array_create); else None."""
    import numpy as np

    from hybrid.geometries import unwrapped

    value = unwrapped(data)
    if isinstance(value, np.ndarray) and value.ndim >= 1:
        return list(value.tolist())
    if isinstance(value, (list, tuple)):
        return [unwrapped(v) for v in value]
    return None


def _legacy_json(cube: Any) -> Any:
    """``to_legacy_save_result(...).get_data()``: load_geojson's JSON as saved;
    raster_to_vector's values ``{date: [[band values] per geometry]}`` (without ``t``,
    ``[[band values] per geometry]``) with NaN as NaN, not yet made null for a file
    (python-driver ``datacube.py`` L706-718)."""
    from hybrid.io.json_text import timeseries_json
    from hybrid.io.vector import DRIVER_CUBE, aggregate_json

    if not cube.attrs.get(DRIVER_CUBE):
        return timeseries_json(cube)
    return aggregate_json(cube, nan_as_null=False)


def _legacy_json_cube(data: Any) -> bool:
    """Whether ``data`` is load_geojson's (load_url's, to_vector_cube's) or
    raster_to_vector's vector cube, which Copernicus hands to the UDF as its legacy JSON
    (``to_legacy_save_result``)."""
    from hybrid.io.vector import DRIVER_CUBE, GEOMETRIES_ONLY

    dims = getattr(data, "dims", ())
    return "geometries" in dims and (
        bool(data.attrs.get(GEOMETRIES_ONLY) or data.attrs.get(DRIVER_CUBE))
        or tuple(dims) == ("geometries", "properties")
    )


def _on_geometries(udf: str, features: Features, context: Any, settings: UdfSettings) -> Any:
    """The UDF's answer for ``features`` given as a feature collection (module docstring)."""
    import pyproj
    from shapely.geometry import mapping

    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": mapping(g), "properties": {}}
            for g in features.geometries
        ],
    }
    epsg = pyproj.CRS.from_user_input(features.crs).to_epsg()
    return _vector_answer(udf, {"features": collection}, epsg, context, settings)


def _vector_answer(
    udf: str, given: dict[str, Any], epsg: int | None, context: Any, settings: UdfSettings
) -> Any:
    """The UDF's answer for ``given`` (features or a JSON value): its structured data, or
    the vector cube of its feature collection."""
    from hybrid.backends.local.udf.isolated import run_udf_features

    answer = run_udf_features(
        udf, given, epsg=epsg, context=context or {}, settings=settings, process="run_udf"
    )
    if "structured" in answer:
        values = answer["structured"]
        return values[0] if len(values) == 1 else values
    return _answer_cube(answer)


def _answer_cube(answer: dict[str, Any]) -> Any:
    """The vector cube of the UDF's feature collection (its numeric columns as values)."""
    from hybrid.backends.local.processes.geojson_load import (
        features_cube,
        numeric_properties_cube,
    )
    from hybrid.errors import InvalidGeometry
    from hybrid.geometries import DEFAULT_CRS, Features, read_features

    if answer["invalid"]:
        raise InvalidGeometry(
            "UDF returned invalid polygons. This could be due to the input or the code. "
            f"Invalid index(es): {answer['invalid']}"
        )
    crs = answer.get("crs") or DEFAULT_CRS
    if not answer["features"].get("features"):  # an empty vector cube, as there
        return features_cube(Features((), (), crs), [], None)
    document = {**answer["features"], "crs": crs}
    return numeric_properties_cube(read_features(document, process="run_udf", crs_member=True))


def apply_dimension_on_vector_cube(
    data: Any, udf: str, dimension: str, target_dimension: str | None, context: Any,
    settings: UdfSettings,
) -> Any:  # fmt: skip
    """apply_dimension with a single run_udf on a vector cube, Copernicus's experimental
    ``DriverVectorCube.apply_dimension`` (python-driver 9e5b49b2 datacube.py L822-898):
    along ``geometry`` (or its ``bands``/``properties`` without ``target_dimension``) the
    UDF gets one FeatureCollection of the cube's ``_as_geopandas_df`` frame (geometries,
    properties, values flattened by ``~``) in its CRS, ``proj`` its EPSG, and the feature
    collection it returns is the new vector cube (``from_geodataframe``). An
    ``apply_vectorcube`` UDF (a datacube beside the features) is not offered here."""
    import json
    import re

    import pyproj

    from hybrid.geometries import vector_cube_features
    from hybrid.io.vector_frame import vector_frame

    along = dimension in ("geometry", "geometries") or (
        dimension in ("bands", "properties") and dimension in data.dims and not target_dimension
    )
    if not along or re.search(r"^def\s+apply_vectorcube\s*\(", udf, re.MULTILINE):
        raise ProcessParameterInvalid(
            f"apply_dimension with a UDF on a vector cube runs here along 'geometry' with a "
            f"feature-collection UDF only (not along {dimension!r}, nor apply_vectorcube)"
        )
    collection = json.loads(vector_frame(data, {}).to_json(na="null", drop_id=True))
    epsg = pyproj.CRS.from_user_input(vector_cube_features(data).crs).to_epsg()
    answer = _vector_answer(udf, {"features": collection}, epsg, context, settings)
    if not hasattr(answer, "dims"):
        raise ProcessParameterInvalid(
            "apply_dimension: the UDF on a vector cube must return a single feature "
            "collection (as on Copernicus)"
        )
    return answer
