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

Refused, as there: a raster cube (run_udf runs only as a callback on it), load_geojson's
vector cube, and an aggregate_spatial result without ``t`` (``AggregateSpatialVectorCube``
is no ``JSONResult``: "Unsupported data type"). A result in which no geometry covers a
pixel centre has no rows for the UDF (Copernicus's job fails on it): NoDataAvailable.
"""

from __future__ import annotations

from typing import Any

from hybrid.backends.local.udf.isolated import UdfSettings
from hybrid.errors import NoDataAvailable, ProcessParameterInvalid

_ONLY = (
    "run_udf: on its own, run_udf runs only on the result of aggregate_spatial over a "
    "cube with a time dimension (as on Copernicus); on a raster cube make it the single "
    "process of the callback of apply, apply_dimension, reduce_dimension, "
    "apply_neighborhood or apply_polygon"
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
    """The UDF's JSON answer for an aggregate_spatial time series (its code and runtime
    were checked with the graph: hybrid.backends.local.udf.callbacks)."""
    from hybrid.backends.local.udf.isolated import run_udf_table
    from hybrid.io.csv_text import timeseries_rows
    from hybrid.io.vector import aggregate_json, is_time_series

    if not is_time_series(data):
        raise ProcessParameterInvalid(_ONLY)
    columns, rows = timeseries_rows(data)
    if not rows:
        raise NoDataAvailable(
            "run_udf: no geometry of the aggregate_spatial covers a pixel centre, so there "
            "is no time series to give the UDF"
        )
    table = {"columns": columns, "rows": rows, "timeseries": aggregate_json(data)}
    return run_udf_table(
        udf, table, context=context or {}, settings=udf_settings or UdfSettings(),
        process="run_udf",
    )  # fmt: skip
