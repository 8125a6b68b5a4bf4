"""The worker side of run_udf over an aggregate_spatial time series
(hybrid.backends.local.udf.feature_tables), in-process: the rows as Spark reads
Copernicus's CSV back (text, an empty cell None), and the UDF's returns as
openeo-geopyspark-driver vectorcube.py converts them (L93-227)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from openeo.udf import OpenEoUdfException

from hybrid.backends.local.udf.feature_tables import run_table

TABLE: dict[str, Any] = {
    "columns": ["date", "feature_index", "B04", "B08"],
    "rows": [
        ["2023-06-02T00:00:00.000Z", "0", "1.5", "2.5"],
        ["2023-06-02T00:00:00.000Z", "2", "10.0", None],  # feature 1 covers no pixel
        ["2023-06-07T00:00:00.000Z", "0", None, None],
        ["2023-06-07T00:00:00.000Z", "2", "30.0", "40.0"],
    ],
    "timeseries": {
        "2023-06-02T00:00:00Z": [[1.5, 2.5], [None, None], [10.0, None]],
        "2023-06-07T00:00:00Z": [[None, None], [None, None], [30.0, 40.0]],
    },
}


def test_a_dataframe_per_feature_with_missing_values_as_nan() -> None:
    code = (
        "def udf_apply_feature_dataframe(df):\n"
        "    assert str(df.index.tz) == 'UTC' and list(df.columns) == ['B04', 'B08']\n"
        "    return {'n': int(df['B04'].isna().sum()), 'mean': float(df['B04'].mean())}\n"
    )
    answer = run_table(code, TABLE, {})
    # a dict becomes a one-column frame (orient="index"), its index a column
    assert answer["columns"] == ["feature_index", "index", 0]
    assert answer["data"] == [[0, "n", 1.0], [0, "mean", 1.5], [2, "n", 0.0], [2, "mean", 20.0]]


def test_udf_data_per_feature_gets_date_texts_and_numbers() -> None:
    code = (
        "def udf_apply_udf_data(udf_data):\n"
        "    series = udf_data.get_structured_data_list()[0].data\n"
        "    return [[date, *bands[0]] for date, bands in series.items()]\n"
    )
    answer = run_table(code, TABLE, {})
    assert answer["columns"] == ["feature_index", "index", 0, 1, 2]
    rows = answer["data"]
    assert rows[0] == [0, 0, "2023-06-02T00:00:00.000Z", 1.5, 2.5]
    assert rows[1] == [0, 1, "2023-06-07T00:00:00.000Z", None, None]  # null read as NaN
    assert rows[2] == [2, 0, "2023-06-02T00:00:00.000Z", 10.0, None]


def test_the_whole_series_mode_sees_nan_where_values_are_missing() -> None:
    code = (
        "from openeo.udf import UdfData, StructuredData\n"
        "import math\n"
        "def count(data: UdfData):\n"
        "    series = data.get_structured_data_list()[0].data\n"
        "    nan = sum(math.isnan(v) for fs in series.values() for f in fs for v in f)\n"
        "    data.set_structured_data_list([StructuredData(data=[nan, 'x'], type='list')])\n"
    )
    assert run_table(code, TABLE, {}) == [7, "x"]


def test_a_return_pandas_cannot_frame_is_the_udf_error_copernicus_gives() -> None:
    code = "def udf_apply_feature_dataframe(df):\n    return object()\n"
    with pytest.raises(OpenEoUdfException, match="Failed to convert UDF return type"):
        run_table(code, TABLE, {})


def test_the_context_reaches_the_udf_data_mode() -> None:
    code = "def udf_apply_udf_data(udf_data):\n    return udf_data.user_context['k'] * 2\n"
    answer = run_table(code, TABLE, {"k": 1.25})
    assert answer["data"] == [[0, 2.5], [2, 2.5]]
    assert not math.isnan(answer["data"][0][1])
