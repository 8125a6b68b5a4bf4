"""A UDF over an aggregate_spatial time series, in the worker: Copernicus's modes.

run_udf with an aggregate_spatial result as ``data`` (openeo-geopyspark-driver 9baf2e10
``openeogeotrellis/vectorcube.py`` ``AggregateSpatialResultCSV.run_udf`` L38-87, its
documentation ``docs/vectorcube-run_udf.md``; openeo-python-driver 9e5b49b2
``processgraph/process_implementations/cubes.py`` ``run_udf`` L481-560):

- a UDF defining ``udf_apply_udf_data`` (looked for first) or
  ``udf_apply_feature_dataframe`` runs once per geometry on the rows Copernicus's CSV
  holds for it (read back by Spark as text, an empty cell as null): the DataFrame mode
  gets a pandas DataFrame indexed by the parsed dates with one numeric column per band
  (``_get_run_udf_pandas_callback`` L93-143), the UdfData mode a ``StructuredData`` dict
  ``{date text: [[band values]]}`` (``_get_run_udf_udf_data_callback`` L145-227). A
  scalar, dict or list it returns becomes a Series or DataFrame; a Series is one row
  (a DataFrame's index becomes a column); ``feature_index`` goes first; all pieces are
  concatenated and answered as pandas' ``split`` JSON (``to_json(orient="split",
  date_format="iso")``). Geometries without rows (covering no pixel centre) are not in
  it. Spark hands the groups over in no defined order; here by feature index.
- any other UDF is run by ``openeo.udf.run_udf_code`` on a ``UdfData`` with one
  ``StructuredData`` of the result's JSON layout (NaN where a value is missing,
  ``get_data``) and answers with the ``data`` of the structured result it returns (a
  list of them when several); a feature collection result (a vector cube there) is not
  offered here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd


def run_table(code: str, table: Mapping[str, Any], context: Any) -> Any:
    """The UDF's JSON answer for ``table``: ``columns`` and ``rows`` (the CSV's cells as
    text or None) and ``timeseries`` (the JSON layout)."""
    from openeo.udf.run_code import load_module_from_string

    module = load_module_from_string(code)
    columns = list(table["columns"])
    if "udf_apply_udf_data" in module:
        callback = _udf_data_callback(module["udf_apply_udf_data"], context, columns)
    elif "udf_apply_feature_dataframe" in module:
        callback = _dataframe_callback(module["udf_apply_feature_dataframe"], columns)
    else:
        return _generic(code, table["timeseries"], context)
    groups: dict[str, list[list[Any]]] = {}
    feature = columns.index("feature_index")
    for row in table["rows"]:
        groups.setdefault(str(row[feature]), []).append(list(row))
    pieces = [_piece(key, callback(rows)) for key, rows in sorted(groups.items(), key=_by_index)]
    frame = pd.concat([pd.DataFrame.from_dict(p, orient="tight") for p in pieces])
    return json.loads(frame.to_json(orient="split", date_format="iso", force_ascii=False))


def _by_index(item: tuple[str, Any]) -> float:
    return float(item[0])


def _numeric(value: Any) -> Any:
    """``pd.to_numeric(value, errors="ignore")``: the number, or the value unchanged."""
    try:
        return pd.to_numeric(value)
    except (ValueError, TypeError):
        return value


def _dataframe_callback(udf: Callable[..., Any], columns: list[str]) -> Callable[..., Any]:
    def callback(rows: list[list[Any]]) -> Any:
        frame = pd.DataFrame(rows, columns=columns).set_index("date")
        frame.index = pd.to_datetime(frame.index)
        frame = frame.drop(columns="feature_index")
        for name in frame.columns:
            frame[name] = _numeric(frame[name])
        return _as_frame(udf(frame))

    return callback


def _udf_data_callback(
    udf: Callable[..., Any], context: Any, columns: list[str]
) -> Callable[..., Any]:
    from openeo.udf import OpenEoUdfException, StructuredData, UdfData

    bands = [i for i, name in enumerate(columns) if name not in ("date", "feature_index")]
    date, feature = columns.index("date"), columns.index("feature_index")

    def callback(rows: list[list[Any]]) -> Any:
        series = {row[date]: [[_numeric(row[i]) for i in bands]] for row in rows}
        description = f"Feature data {rows[0][feature]}"
        data = StructuredData(description=description, data=series, type="dict")
        processed = udf(UdfData(structured_data_list=[data], user_context=context))
        if isinstance(processed, UdfData):
            found = processed.structured_data_list or []
            if len(found) != 1:
                raise OpenEoUdfException(
                    f"Expected single StructuredData result but got {len(found)}"
                )
            processed = found[0].data
        return _as_frame(processed)

    return callback


def _as_frame(processed: Any) -> Any:
    """What the UDF returned as a pandas Series or DataFrame, as Copernicus converts it."""
    from openeo.udf import OpenEoUdfException

    if isinstance(processed, int | float | str):
        return pd.Series([processed])
    if isinstance(processed, dict):
        return pd.DataFrame.from_dict(processed, orient="index")
    if isinstance(processed, list):
        return pd.DataFrame(processed)
    if not isinstance(processed, pd.Series | pd.DataFrame):
        raise OpenEoUdfException(
            f"Failed to convert UDF return type to pandas Series/DataFrame: {type(processed)}"
        )
    return processed


def _piece(key: str, result: Any) -> dict[str, Any]:
    """One geometry's rows: a Series as one row, a DataFrame's index as a column, the
    feature index first (``map_timeseries_rows``)."""
    frame = pd.DataFrame(result).T if isinstance(result, pd.Series) else result.reset_index()
    frame["feature_index"] = pd.to_numeric(key)
    frame.insert(0, "feature_index", frame.pop("feature_index"))
    piece: dict[str, Any] = frame.to_dict(orient="tight")
    return piece


def _generic(code: str, timeseries: Any, context: Any) -> Any:
    from openeo.udf import StructuredData, UdfData
    from openeo.udf.run_code import run_udf_code

    data = StructuredData(description="Dictionary data", data=_with_nan(timeseries), type="dict")
    udf_data = UdfData(structured_data_list=[data], user_context=context)
    result = run_udf_code(code=code, data=udf_data)
    if result.get_feature_collection_list():
        raise ValueError(
            "the UDF returned a feature collection (a vector cube on Copernicus), which "
            "hybrid does not offer; return structured data"
        )
    found = result.get_structured_data_list() or []
    if not found:
        raise ValueError(
            "The provided UDF should return exactly either a feature collection or a "
            f"structured result but got: {result}"
        )
    return found[0].data if len(found) == 1 else [s.data for s in found]


def _with_nan(value: Any) -> Any:
    """The JSON layout as ``get_data`` holds it: a missing value is NaN, not null."""
    if value is None:
        return math.nan
    if isinstance(value, Mapping):
        return {k: _with_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_nan(v) for v in value]
    return value
