"""(Geo)Parquet results: vector cubes as Copernicus's ``timeseries.parquet``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.io.format import Format, one_file


def write_vector(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's vector writer: ``timeseries.parquet`` of an aggregate_spatial
    result, ``vectorcube.parquet`` of another vector cube (:mod:`hybrid.io.vector_frame`)."""
    from hybrid.io.vector import is_aggregate_result, write_file

    if not is_aggregate_result(cube):
        from hybrid.io.vector_frame import write_parquet

        return write_parquet(cube, out_dir, options)
    return write_file(out_dir, ".parquet", timeseries_parquet(cube))


def timeseries_parquet(cube: Any) -> bytes:
    """Copernicus's layout (openeo-python-driver 9e5b49b2 save_result.py ``to_geoparquet``
    L611-643): one row per date and feature, ``date, feature_index, <bands>``, joined on
    ``feature_index`` with the geometries' frame (:func:`hybrid.io.vector_frame.
    geometries_frame`: ``geometry`` then the properties; a property named as a column
    of the rows is left out). Without ``t`` the geometries' frame comes first, then
    ``feature_index`` and the CSV's statistic columns (``AggregatePolygonSpatialResult.
    to_geoparquet`` L833-852: ``gdf.join(stats, on='feature_index')``).

    The statistic columns are int64 where Copernicus's frame holds integers: with ``t``
    the rows come from ``get_data``, whose values are Python integers exactly where its
    JSON holds them (:func:`hybrid.io.vector.json_integers`); without ``t`` the CSV's
    complete integer columns, made float64 by the NaN of a geometry without a row.

    Column names: with ``t`` the bands (``band_0``... for several statistics, L621-628),
    without ``t`` the CSV's (:func:`hybrid.io.vector.spark_columns`); in both, properties
    included, ``(``, ``)``, ``/`` and ``\\`` become ``_`` (``clean_parquet_column_name``
    L147-150, applied to the joined frame L640-642, L846-849): ``area (ha)`` is
    ``area _ha_``, ``avg(B04)`` ``avg_B04_``."""
    import io

    import geopandas as gpd
    import pandas as pd

    from hybrid.io.vector import (
        band_columns,
        covered,
        date_text,
        json_integers,
        number,
        ordered,
        spark_columns,
    )
    from hybrid.io.vector_frame import geometries_frame

    regions = geometries_frame(cube)
    timed = "t" in cube.dims
    cube = ordered(cube)
    integral = json_integers(cube) and (timed or len(covered(cube)) == cube.sizes["geometries"])
    value: Any = int if integral else number
    columns = band_columns(cube) if timed else spark_columns(cube)
    values = cube.values if timed else cube.values[:, None, :]
    dates = [date_text(t) for t in cube["t"].values] if timed else [None]
    records = [
        (date, fi, *(value(v) for v in values[fi, ti]))
        for ti, date in enumerate(dates)
        for fi in range(values.shape[0])
    ]
    stats = pd.DataFrame.from_records(records, columns=["date", "feature_index", *columns])
    frame = gpd.GeoDataFrame(_joined(stats, regions, timed), geometry="geometry")
    buffer = io.BytesIO()
    frame.set_crs(regions.crs).to_parquet(buffer)
    return buffer.getvalue()


def _joined(stats: Any, regions: Any, timed: bool) -> Any:
    """The rows joined with the geometries' frame (with ``t`` the rows first, without it
    the frame first, as the two writers join them), every column name cleaned."""
    import re

    if not timed:
        stats = stats.drop(columns="date")
    regions = regions.drop(columns=[c for c in regions.columns if c in stats.columns])
    if timed:
        joined = stats.join(regions, on="feature_index")
    else:
        regions = regions.assign(feature_index=range(len(regions)))
        joined = regions.join(stats.set_index("feature_index"), on="feature_index")
    return joined.rename(columns=lambda name: re.sub(r"[()/\\]", "_", str(name)))


def read_series(files: list[Path], *, source: Path) -> Any:
    """The registry's vector reader: a ``timeseries.parquet`` as a series
    (:mod:`hybrid.io.series`). Its bands are the number columns between ``feature_index``
    and ``geometry``, which the feature's properties follow (a file without ``t`` has the
    geometry and properties first; a file without ``geometry``: every number column after
    ``feature_index``)."""
    import pandas as pd

    from hybrid.errors import UsageError
    from hybrid.io.series import series

    file = one_file(files, source, "Parquet")
    try:
        frame = pd.read_parquet(file)
    except (OSError, ValueError, ImportError) as exc:
        raise UsageError(f"cannot read {file} as Parquet: {exc}") from None
    if "feature_index" not in frame.columns:
        raise UsageError(f"{file} has no feature_index column: not an aggregate_spatial result")
    after = list(frame.columns[list(frame.columns).index("feature_index") + 1 :])
    if "geometry" in after:
        after = after[: after.index("geometry")]
    bands = [c for c in after if c != "date" and _numbers(frame[c])]
    dates = frame["date"] if "date" in frame.columns else [None] * len(frame)
    records = zip(dates, frame["feature_index"], frame[bands].to_numpy(dtype=float), strict=True)
    return series(records, bands, source=file)


def _numbers(column: Any) -> bool:
    """Numbers (floats, or integers as Copernicus writes integral statistics), or only
    missing values (a band that is null everywhere)."""
    return column.dtype.kind in "fiu" or bool(column.isna().all())


#: media type as openeo-python-driver's IOFORMATS names it (openeo_driver/util/ioformats.py)
FORMAT = Format(
    name="Parquet",
    title="(Geo)Parquet",
    suffixes=(".parquet",),
    media_type="application/parquet; profile=geo",
    per_label=False,
    writers={"vector": write_vector},
    readers={"vector": read_series},
    aliases=("geoparquet",),
)
