"""Vector cubes (``aggregate_spatial`` results): the conventions their writers share.

A vector cube is an xarray DataArray with the dimension ``geometries`` (labels 0..n-1,
the feature index), optionally ``t`` and ``bands``, and the coordinate ``geometry``
(shapely, in the CRS ``attrs["vector_crs"]``) along ``geometries``; see
backends/local/processes/vector.py.

The files are those Copernicus writes for aggregate_spatial (openeo-python-driver,
openeo_driver/save_result.py, ``AggregatePolygonResult.write_assets``:
``timeseries.json``, ``timeseries.csv``, ``timeseries.nc``, ``timeseries.parquet``);
each format module (json_text, csv_text, netcdf, parquet) holds its layout.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hybrid.atomic import atomic_path
from hybrid.errors import FormatUnsuitable

#: the band column of a cube without bands (geopysparkdatacube.py ``zonal_statistics``)
UNNAMED_BAND = "band_unnamed"
#: the base name of every vector result file
FILE_STEM = "timeseries"
#: attrs flag of a vector cube that carries geometries only (load_geojson without properties)
GEOMETRIES_ONLY = "vector_cube_dummy"
#: attrs flag of a vector cube Copernicus holds as a ``DriverVectorCube`` although it has
#: no ``properties`` (raster_to_vector's: geometries, t, bands)
DRIVER_CUBE = "driver_vector_cube"
#: attrs flag of the cube of a vector file (read_vector's: Copernicus's ``DelayedVector``,
#: saved as JSON as its geometries in lon/lat, handed to a UDF as a feature collection)
FILE_GEOMETRIES = "delayed_vector"
#: attrs of that cube: the GeoJSON Copernicus saves of the file (``DelayedVector.geojson``:
#: a GeoJSON file's document in lon/lat, a shapefile's geometries without properties)
FILE_GEOJSON = "delayed_vector_geojson"
#: attrs of an aggregate_spatial result: per statistic of the reducer, whether Spark
#: types it integral (its CSV writes ``415``, not ``415.0``)
INTEGER_COLUMNS = "integer_statistics"
#: attrs of an aggregate_spatial result: per statistic of the reducer, the name Spark
#: gives its column, ``{c}`` standing for the band's (:func:`spark_columns`)
STATISTIC_COLUMNS = "statistic_columns"
#: attrs of an aggregate_spatial result: the indices of the geometries that cover no
#: pixel centre (Spark has no pixel row for them, so its CSV has no row for them)
UNCOVERED = "uncovered"
#: attrs of an aggregate_spatial result over ``t``: the [geometry, t position] pairs
#: without a layout tile on Copernicus, which has no row for them (their values NaN:
#: backends/local/processes/tile_rows.py)
ABSENT = "absent"
#: attrs of an aggregate_spatial result: the band names of the cube it aggregated (absent
#: when that cube had no band dimension), by which Copernicus names netCDF variables
CUBE_BANDS = "cube_bands"


def is_aggregate_result(cube: Any) -> bool:
    """Whether a vector cube is an aggregate_spatial result (Copernicus's
    ``AggregatePolygonResult``), not load_geojson's cube (its ``DriverVectorCube``, with
    ``properties`` or without values, or raster_to_vector's)."""
    attrs = cube.attrs
    return "properties" not in cube.dims and not (
        attrs.get(GEOMETRIES_ONLY) or attrs.get(DRIVER_CUBE)
    )


def is_time_series(cube: Any) -> bool:
    """Whether ``cube`` is an aggregate_spatial result with a time dimension (Copernicus's
    ``AggregateSpatialResultCSV``, the only one CovJSON and run_udf take)."""
    dims = getattr(cube, "dims", ())
    return "geometries" in dims and "t" in dims and is_aggregate_result(cube)


def covers_nothing(cube: Any) -> bool:
    """Whether no geometry of an aggregate_spatial result covers a pixel centre (each is
    in ``attrs[UNCOVERED]``, see backends/local/processes/vector.py)."""
    return not covered(cube)


def covered(cube: Any) -> list[int]:
    """The indices, in order, of the geometries of an aggregate_spatial result that cover
    a pixel centre: those Copernicus's CSV has rows for."""
    uncovered = set(cube.attrs.get(UNCOVERED) or ())
    return [i for i in range(cube.sizes["geometries"]) if i not in uncovered]


def absent(cube: Any) -> set[tuple[int, int]]:
    """The (geometry, t position) pairs of an aggregate_spatial result without a row on
    Copernicus besides the uncovered geometries' (:data:`ABSENT`)."""
    return {(int(g), int(t)) for g, t in cube.attrs.get(ABSENT) or ()}


def ordered(cube: Any) -> Any:
    """(geometries, [t], bands), a bands dimension always present; other dims refused."""
    extra = set(map(str, cube.dims)) - {"geometries", "t", "bands"}
    if extra:
        raise FormatUnsuitable(
            f"save_result: the vector cube has dimensions {sorted(extra)} besides geometries, "
            "t and bands; reduce them before saving"
        )
    if "bands" not in cube.dims:
        cube = cube.expand_dims(bands=[UNNAMED_BAND], axis=-1)
    return cube.transpose(*[d for d in ("geometries", "t", "bands") if d in cube.dims])


def aggregate_json(cube: Any, *, nan_as_null: bool = True) -> Any:
    """An aggregate_spatial result in Copernicus's JSON layout:
    ``{"2020-06-26T00:00:00Z": [[band values] per feature]}`` (openeo_driver/save_result.py
    ``AggregatePolygonResultCSV.get_data``: dates ``%Y-%m-%dT%XZ``, features in index
    order, NaN as null). A geometry covering no pixel centre has null for each band
    (``get_data`` reindexes the CSV rows by every feature, save_result.py L712-715); when
    none covers one, there are no dates: ``{}`` (``get_data`` takes the dates of the CSV
    rows, which only covered geometries make). Without ``t``, ``[[band values] per
    covered feature]``: ``AggregatePolygonSpatialResult.prepare_for_json`` lists the CSV
    rows sorted by feature index and reindexes nothing (save_result.py L797-804), so a
    geometry covering no pixel centre has no entry and the ones after it move up; a
    covered geometry without a valid value has NaN, not null, as that path replaces no
    NaN (``prepare_for_json`` L802-804; ``json.dump`` L869 and Flask's ``jsonify`` L814
    write ``NaN``, which Python's json and the openeo client read as NaN). With ``t``,
    without ``nan_as_null``, NaN stays NaN (the data before it is written as JSON). A
    date with a geometry without a tile (:data:`ABSENT`) has null for it, and floats
    for every geometry (that date's rows reindexed)."""
    cube = ordered(cube)
    values = cube.values
    integers = json_integers(cube)
    if "t" not in cube.dims:
        kept = int if integers else float  # NaN stays NaN (see above)
        return [[kept(v) for v in values[i]] for i in covered(cube)]
    if covers_nothing(cube):
        return {}
    value: Callable[[Any], Any] = number if nan_as_null else float
    missing = {t for _, t in absent(cube)}
    return {
        date_text(label): [
            [int(v) if integers and ti not in missing else value(v) for v in feature[ti]]
            for feature in values
        ]
        for ti, label in enumerate(cube["t"].values)
    }


def integer_columns(cube: Any) -> list[bool]:
    """Per band column of an aggregate_spatial result (bands, each with its
    statistics), whether Spark writes it as an integer (:data:`INTEGER_COLUMNS`)."""
    columns = len(band_columns(cube))
    flags = cube.attrs.get(INTEGER_COLUMNS) or [False]
    return [bool(flags[i % len(flags)]) for i in range(columns)]


def json_integers(cube: Any) -> bool:
    """Whether Copernicus's JSON of this aggregate_spatial result holds integers: it
    reads the CSV with pandas (int64 columns where every cell is an integer) and takes
    the rows' ``.values`` (float64 when any column is; save_result.py ``get_data``
    L691-722, ``_band_values_by_geometry`` L797-800); with ``t`` reindexed by every
    feature (a geometry without rows makes floats of every date), without ``t`` only the
    covered geometries' rows."""
    import numpy as np

    flags = integer_columns(cube)
    rows = covered(cube)
    if not flags or not all(flags) or ("t" in cube.dims and len(rows) < cube.sizes["geometries"]):
        return False
    values = np.asarray(ordered(cube).values, dtype=np.float64)[rows]
    if "t" in cube.dims:  # the CSV's cells: the pairs without a row have none
        values = values[present(cube)[rows]]
    return not bool(np.isnan(values).any())


def present(cube: Any) -> Any:
    """(geometries, t) booleans: the pairs of an aggregate_spatial result over ``t`` that
    Copernicus has a row for (a covered geometry, not :data:`ABSENT`)."""
    import numpy as np

    rows = np.zeros((cube.sizes["geometries"], cube.sizes["t"]), dtype=bool)
    rows[covered(cube)] = True
    for g, t in absent(cube):
        rows[g, t] = False
    return rows


def flattened(cube: Any, prefix: str | None = None) -> tuple[list[str], Any]:
    """A vector cube's values as columns (feature x column), as Copernicus flattens them
    (openeo-python-driver datacube.py ``_as_geopandas_df`` L579-590): one per combination
    of the labels of the dimensions after ``geometries``, joined by ``~`` (a date as
    ``2023-06-10T00:00:00Z``) after save_result's ``flatten_prefix`` option when given,
    the prefix or ``_vc`` for a cube of geometries alone; none for load_geojson's cube
    without properties (it holds no values)."""
    import itertools

    import numpy as np

    count = cube.sizes["geometries"]
    if cube.attrs.get(GEOMETRIES_ONLY):
        return [], np.empty((count, 0))
    cube = cube.transpose("geometries", ...)
    others = [str(d) for d in cube.dims if d != "geometries"]
    labels = [
        [date_text(v) if d == "t" else str(v) for v in cube[d].values]
        if d in cube.coords
        else [str(i) for i in range(cube.sizes[d])]
        for d in others
    ]
    start = [prefix] if prefix else []
    columns = ["~".join([*start, *c]) for c in itertools.product(*labels)]
    return (columns if others else [prefix or "_vc"]), cube.values.reshape(count, -1)


def band_columns(cube: Any) -> list[str]:
    return [str(b) for b in cube["bands"].values]


def spark_columns(cube: Any) -> list[str]:
    """The value columns of Copernicus's CSV (Spark's): the bands (``band_unnamed`` for a
    cube without bands) when the reducer gives one statistic, as Copernicus renames the
    aggregates by the band labels when there are as many (AggregatePolygonProcess.scala
    L228-234, L349-355); with several statistics the names Spark gives the aggregates,
    band after band: ``avg(B04)``, ``stddev_samp(B04)``, ``avg(B08)``...
    (:data:`STATISTIC_COLUMNS`)."""
    columns = band_columns(cube)
    templates = cube.attrs.get(STATISTIC_COLUMNS) or []
    if len(templates) < 2:
        return columns
    bands = cube.attrs.get(CUBE_BANDS) or [UNNAMED_BAND]
    named = [template.replace("{c}", band) for band in bands for template in templates]
    return named if len(named) == len(columns) else columns


def number(value: Any) -> Any:
    """A value as JSON/CSV see it: NaN is missing (None); a number a float. A vector
    cube of objects (load_geojson's and load_url's properties with texts among them:
    :func:`~hybrid.backends.local.processes.geojson_load.property_values`) holds Python
    values, which keep their kind, as Copernicus writes pandas's objects: a text, a
    boolean, an integer; any other object is its text."""
    import math
    import numbers

    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, numbers.Real):  # numpy's numbers, of the cube's arrays
        f = float(value)
        return None if math.isnan(f) else f
    return str(value)


def date_text(label: Any, *, millis: bool = False) -> str:
    """``2020-06-26T00:00:00Z``, or ``2020-06-26T00:00:00.000Z`` with ``millis``."""
    import numpy as np

    if millis:
        return str(np.datetime_as_string(np.datetime64(label, "ms"), unit="ms")) + "Z"
    return str(np.datetime_as_string(np.datetime64(label, "s"), unit="s")) + "Z"


def write_file(
    out_dir: Path, suffix: str, content: str | bytes, *, stem: str = FILE_STEM
) -> list[Path]:
    """``out_dir/timeseries<suffix>`` (or another ``stem``), written atomically."""
    path = Path(out_dir) / f"{stem}{suffix}"
    with atomic_path(path) as tmp:
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(content, encoding="utf-8")
    return [path]
