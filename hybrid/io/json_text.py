"""JSON results: plain values (numbers, strings, lists, objects), vector cubes, and raster
cubes (:mod:`hybrid.io.json_raster`).

openEO's ``save_result`` (and a synchronous ``POST /result`` that ends in a non-cube value)
answers with the value as JSON. Copernicus's ``JSONResult`` writes ``result.json`` with NaN
replaced by ``null`` (``prepare_for_json`` -> ``replace_nan_values``) and dates as ISO
strings (openeo-python-driver openeo_driver/save_result.py L241-286, commit 9e5b49b2);
hybrid does the same. Infinities are not replaced there (``replace_nan_values``,
openeo_driver/utils.py L130-151) and Python's ``json`` writes them as ``Infinity`` /
``-Infinity`` (Flask's ``jsonify`` and ``json.dump`` keep ``allow_nan=True``), which
JavaScript-style JSON readers such as Python's ``json`` and the openeo client accept: so
does hybrid.

Dates: ``dimension_labels`` of a temporal dimension gives naive ``datetime`` objects there
(openeo-geopyspark-driver geopysparkdatacube.py ``dimension_labels`` L485-496, the tiles'
``SpaceTimeKey.instant``), which the two paths write differently: a batch job's
``json_serial`` as ``isoformat()``, ``2023-06-02T00:00:00`` (save_result.py L255-271), and
a synchronous answer through Flask's ``jsonify`` (``create_flask_response``, L285-286),
whose default provider writes a date as an HTTP date, ``Fri, 02 Jun 2023 00:00:00 GMT``.
Such a label is a :class:`DateLabel` here: the graph's processes see its RFC 3339 text, and
the writer gives the form of the path it serves (:func:`synchronous_answer`). Processes that
pass labels on as they are (``array_element``, ``first``, ``array_filter``) keep it; one
that rebuilds them through numpy (``sort``) gives the RFC 3339 text.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import email.utils
import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from hybrid.atomic import atomic_path
from hybrid.errors import UsageError
from hybrid.io.format import Format, one_file
from hybrid.io.json_raster import write_raster

FILE_NAME = "result.json"

_SYNCHRONOUS: contextvars.ContextVar[bool] = contextvars.ContextVar("synchronous", default=False)


class DateLabel(str):
    """A temporal dimension label as Copernicus's dimension_labels returns it: a naive UTC
    ``datetime`` (``instant``). As text it is ``YYYY-MM-DDTHH:MM:SSZ``, what the graph's
    processes compare and print; :func:`jsonable` writes the ``instant``."""

    instant: dt.datetime

    def __new__(cls, instant: dt.datetime) -> DateLabel:
        label = super().__new__(cls, instant.strftime("%Y-%m-%dT%H:%M:%SZ"))
        label.instant = instant
        return label

    def __reduce__(self) -> tuple[type[DateLabel], tuple[dt.datetime]]:
        return DateLabel, (self.instant,)  # copies and pickles (dask) keep the instant


@contextlib.contextmanager
def synchronous_answer() -> Iterator[None]:
    """Within it, JSON results write dates as a synchronous ``POST /result`` answers them
    on Copernicus (HTTP dates); outside, as its batch jobs write ``result.json``."""
    token = _SYNCHRONOUS.set(True)
    try:
        yield
    finally:
        _SYNCHRONOUS.reset(token)


def _date_text(label: DateLabel) -> str:
    if _SYNCHRONOUS.get():
        return email.utils.format_datetime(label.instant.replace(tzinfo=dt.UTC), usegmt=True)
    return label.instant.isoformat()


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: numpy scalars/arrays to Python, NaN to None
    (infinities stay), dates to ISO strings (a :class:`DateLabel` as the path writes it),
    tuples to lists; dask arrays are computed."""
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, DateLabel):
        return _date_text(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "compute") and hasattr(value, "dtype") and not hasattr(value, "dims"):
        return jsonable(value.compute())  # a dask array
    if hasattr(value, "tolist"):  # numpy scalars and arrays, xarray via .values
        return jsonable(value.tolist())
    if hasattr(value, "values") and hasattr(value.values, "tolist"):
        return jsonable(value.values.tolist())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise UsageError(f"save_result: a {type(value).__name__} cannot be written as JSON")


def dumps(value: Any) -> str:
    """The JSON text of a value (see :func:`jsonable`); infinities as ``Infinity``."""
    return json.dumps(jsonable(value))


def write_value(
    value: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's value writer: ``out_dir/result.json``."""
    path = Path(out_dir) / FILE_NAME
    text = dumps(value)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return [path]


def write_vector(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's vector writer: ``timeseries.json`` of an aggregate_spatial result;
    ``result.json`` of another vector cube, as Copernicus's ``JSONResult`` writes its
    legacy form (openeo-python-driver datacube.py ``write_assets`` L646-651)."""
    from hybrid.io.vector import is_aggregate_result, write_file

    if not is_aggregate_result(cube):
        return write_value(timeseries_json(cube), out_dir, attrs=attrs, options=options)
    return write_file(out_dir, ".json", json.dumps(timeseries_json(cube)))


def timeseries_json(cube: Any) -> Any:
    """An aggregate_spatial result in Copernicus's layout
    (:func:`hybrid.io.vector.aggregate_json`); a load_geojson cube as
    ``DriverVectorCube.to_legacy_save_result``: one null per geometry without properties,
    else the GeoJSON FeatureCollection; read_vector's cube as its ``DelayedVector``: the
    geometries in lon/lat (openeo-python-driver ``save_result.py`` L1004-1008)."""
    from hybrid.io.geojson import feature_collection
    from hybrid.io.vector import FILE_GEOMETRIES, GEOMETRIES_ONLY, aggregate_json

    if cube.attrs.get(FILE_GEOMETRIES):
        return _lonlat_geometries(cube)
    if cube.attrs.get(GEOMETRIES_ONLY):  # load_geojson without properties
        return [None] * cube.sizes["geometries"]
    if "properties" in cube.dims:  # load_geojson with properties
        return feature_collection(cube)
    return aggregate_json(cube)


def _lonlat_geometries(cube: Any) -> list[dict[str, Any]]:
    """A vector cube's geometries as GeoJSON geometries in EPSG:4326."""
    from shapely.geometry import mapping

    from hybrid.geometries import DEFAULT_CRS, vector_cube_features

    return [dict(mapping(g)) for g in vector_cube_features(cube).to_crs(DEFAULT_CRS)]


def read_value(files: list[Path], *, source: Path) -> Any:
    """The registry's value reader."""
    file = one_file(files, source, "JSON")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {file} as JSON: {exc}") from None


def read_series(files: list[Path], *, source: Path) -> Any:
    """The registry's vector reader: a ``timeseries.json`` in Copernicus's layout
    (``{date: [[band values] per feature]}``, or ``[[band values] per feature]``
    without time, only the geometries covering a pixel centre, numbered here in their
    order; its bands unnamed: ``band_0``...), or a CoverageJSON one, as a series
    (:mod:`hybrid.io.series`)."""
    from hybrid.io.series import series

    document = read_value(files, source=source)
    if isinstance(document, Mapping) and document.get("type") == "Coverage":
        from hybrid.io.covjson import read_coverage

        return read_coverage(document, source=source)
    by_date = document.items() if isinstance(document, Mapping) else [(None, document)]
    records = []
    for date, features in by_date:
        if not isinstance(features, list):
            raise UsageError(f"{files[0]} is not an aggregate_spatial result: {date!r} no list")
        records += [(date, i, f) for i, f in enumerate(features) if f is not None]
    if not all(isinstance(values, list) for _, _, values in records):
        raise UsageError(f"{files[0]} is not an aggregate_spatial result: a feature no list")
    width = max((len(values) for _, _, values in records), default=0)
    padded = [(d, i, [*v, *[None] * (width - len(v))]) for d, i, v in records]
    return series(padded, [f"band_{b}" for b in range(width)], source=files[0])


FORMAT = Format(
    name="JSON",
    title="JavaScript Object Notation (JSON)",
    suffixes=(".json",),
    media_type="application/json",
    per_label=False,
    writers={"raster": write_raster, "vector": write_vector, "value": write_value},
    readers={"value": read_value, "vector": read_series},
)
