"""An aggregate_spatial result as Parquet holds Copernicus's column types and order.

With ``t`` Copernicus builds the rows from ``get_data`` (openeo-python-driver 9e5b49b2
save_result.py L611-643): each date's values are ``DataFrame.values.tolist()`` of the
CSV read by pandas, Python integers where the JSON holds integers (integral, complete
columns, every geometry with rows), so the band columns are int64 then. Without ``t``
(``AggregatePolygonSpatialResult.to_geoparquet`` L833-852) the geometries' frame comes
first, then ``feature_index``, then the CSV's columns joined to it (float64 once a
geometry has no row)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np

from hybrid.backends.local.processes.spatial_aggregation import aggregate_spatial
from hybrid.io.vector import INTEGER_COLUMNS
from tests.engine.test_vector_cubes import TIMES, collection, grid_cube, rect, write_vector_cube


def _max(*args, **kwargs):
    return np.nanmax(args[0], axis=kwargs["axis"])


def _integer_cube(timed: bool):
    values = np.arange(2 * 6 * 6, dtype=np.float64).reshape(2, 6, 6)
    if timed:
        return grid_cube(values, ("t", "y", "x"), t=TIMES[:2])
    return grid_cube(values, ("bands", "y", "x"), bands=["B04", "B08"])


def _series(timed: bool, *geometries):
    out = aggregate_spatial(_integer_cube(timed), collection(*geometries), _max)
    out.attrs[INTEGER_COLUMNS] = [True]  # max of an int16 cube: IntegerType (Spark)
    return out


def test_integral_complete_columns_are_int64(tmp_path: Path) -> None:
    frame = gpd.read_parquet(
        write_vector_cube(_series(True, rect(0, 0, 3, 3), rect(3, 3, 6, 6)), "Parquet", tmp_path)
    )
    assert str(frame["band_unnamed"].dtype) == "int64"
    assert list(frame.columns) == ["date", "feature_index", "band_unnamed", "geometry", "name"]


def test_a_geometry_without_pixels_makes_them_float(tmp_path: Path) -> None:
    series = _series(True, rect(0, 0, 3, 3), rect(2.2, 2.2, 2.4, 2.4))
    frame = gpd.read_parquet(write_vector_cube(series, "Parquet", tmp_path))
    assert str(frame["band_unnamed"].dtype) == "float64"


def test_without_time_the_geometries_come_first(tmp_path: Path) -> None:
    frame = gpd.read_parquet(
        write_vector_cube(_series(False, rect(0, 0, 3, 3), rect(3, 3, 6, 6)), "Parquet", tmp_path)
    )
    assert list(frame.columns) == ["geometry", "name", "feature_index", "B04", "B08"]
    assert str(frame["B04"].dtype) == "int64"
    assert frame["B08"].tolist() == [36 + 2 * 6 + 2, 36 + 5 * 6 + 5]
