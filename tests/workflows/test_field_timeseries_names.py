"""A field time series (aggregate_spatial) through the openeo client against ``hybrid
serve``, where Copernicus's files carry what Spark and its Python driver leave in them:

- several statistics per field (``array_create`` of reducers) keep in the CSV the names
  Spark gives the aggregates, ``avg(B04)``, ``stddev_samp(B04)``..., as Copernicus
  renames the columns by the band labels only when there are as many
  (openeo-geotrellis-extensions AggregatePolygonProcess.scala L349-355; the names are
  Spark 3.4.2's, pom.xml L13, for the expressions of SparkAggregateScriptBuilder.scala
  L120, L129-146);
- the GeoParquet's column names, the fields' properties included, have ``(``, ``)``,
  ``/`` and ``\\`` made ``_`` (openeo-python-driver save_result.py
  ``clean_parquet_column_name`` L147-150, L640-642, L846-849);
- without ``t``, a field whose pixels hold no valid value is ``NaN`` in the JSON, not
  ``null``: that layout's ``prepare_for_json`` replaces no NaN (save_result.py L802-804,
  L814, L869).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.workflows.raw import BBOX, DATES, FIELDS

pytestmark = pytest.mark.slow

#: the fields, the first with properties whose names Copernicus's Parquet writer cleans
NAMED_FIELDS = copy.deepcopy(FIELDS)
NAMED_FIELDS["features"][0]["properties"].update({"area (ha)": 1.5, "crop/type": "maize"})


def _bands(connection: Any) -> Any:
    return connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=["B04", "B08"]
    )


def test_several_statistics_keep_sparks_column_names_in_the_csv(
    connection: Any, tmp_path: Path
) -> None:
    from openeo.processes import array_create, count, mean, median, quantiles, sd

    def statistics(x: Any) -> Any:
        return array_create(
            [mean(x), sd(x), median(x), count(x, condition=True), quantiles(x, [0.25, 0.75])]
        )

    agg = _bands(connection).aggregate_spatial(FIELDS, reducer=statistics)
    agg.download(tmp_path / "stats.csv", format="CSV")
    text = (tmp_path / "stats.csv").read_text()
    header = next(csv.reader(io.StringIO(text)))
    per_band = [
        "avg({b})",
        "stddev_samp({b})",
        "CAST(median({b}) AS INT)",  # an int16 cube: Spark's IntegerType column
        "count((({b} IS NULL) OR ({b} IS NOT NULL)))",
        "percentile_approx({b}, 0.25, 100000)",
        "percentile_approx({b}, 0.75, 100000)",
    ]
    expected = [name.format(b=band) for band in ("B04", "B08") for name in per_band]
    assert header == ["date", "feature_index", *expected]
    assert text.splitlines()[0].endswith(',"percentile_approx(B08, 0.75, 100000)"')
    # the values are those of the JSON, column after column
    doc = agg.execute()
    frame = pd.read_csv(io.StringIO(text))
    row = frame.iloc[0]
    date = pd.Timestamp(row["date"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [row[c] for c in expected] == pytest.approx(doc[date][int(row["feature_index"])])


def test_parquet_column_names_are_cleaned_as_copernicus_cleans_them(
    connection: Any, tmp_path: Path
) -> None:
    import geopandas as gpd

    cube = _bands(connection)
    cube.aggregate_spatial(NAMED_FIELDS, reducer="mean").download(tmp_path / "ts.parquet")
    timed = gpd.read_parquet(tmp_path / "ts.parquet")
    properties = ["name", "area_ha", "area _ha_", "crop_type"]
    assert list(timed.columns) == ["date", "feature_index", "B04", "B08", "geometry", *properties]
    assert set(timed.loc[timed["feature_index"] == 0, "crop_type"]) == {"maize"}

    from openeo.processes import array_create, max, mean

    spatial = cube.reduce_dimension(dimension="t", reducer="max").aggregate_spatial(
        NAMED_FIELDS, reducer=lambda x: array_create([mean(x), max(x)])
    )
    spatial.download(tmp_path / "spatial.parquet")
    frame = gpd.read_parquet(tmp_path / "spatial.parquet")
    statistics = ["avg_B04_", "max_B04_", "avg_B08_", "max_B08_"]
    assert list(frame.columns) == ["geometry", *properties, "feature_index", *statistics]
    np.testing.assert_allclose(frame[statistics].to_numpy(float), spatial.execute())


def test_without_t_a_field_without_valid_pixels_is_nan_in_the_json(
    connection: Any, tmp_path: Path
) -> None:
    b04 = _bands(connection).band("B04")
    masked = b04.mask(b04 > -100000)  # every pixel masked: the tiles are there, empty
    agg = masked.reduce_dimension(dimension="t", reducer="mean").aggregate_spatial(
        FIELDS, reducer="mean"
    )
    result = agg.execute()
    assert len(result) == 2 and all(len(f) == 1 and math.isnan(f[0]) for f in result), result
    agg.download(tmp_path / "ts.json")
    text = (tmp_path / "ts.json").read_text()
    assert text.replace(" ", "") == "[[NaN],[NaN]]"
    assert math.isnan(json.loads(text)[1][0])
