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
    L600-632): one row per date and feature, ``date, feature_index, <bands>``, joined on
    ``feature_index`` with the geometries' frame (:func:`hybrid.io.vector_frame.
    geometries_frame`: ``geometry`` then the properties; a property named as a column
    of the rows is left out)."""
    import io

    import geopandas as gpd
    import pandas as pd

    from hybrid.io.vector import band_columns, date_text, number, ordered
    from hybrid.io.vector_frame import geometries_frame

    regions = geometries_frame(cube)
    cube = ordered(cube)
    columns = band_columns(cube)
    timed = "t" in cube.dims
    values = cube.values if timed else cube.values[:, None, :]
    dates = [date_text(t) for t in cube["t"].values] if timed else [None]
    records = [
        (date, fi, *(number(v) for v in values[fi, ti]))
        for ti, date in enumerate(dates)
        for fi in range(values.shape[0])
    ]
    stats = pd.DataFrame.from_records(records, columns=["date", "feature_index", *columns])
    if not timed:
        stats = stats.drop(columns="date")
    regions = regions.drop(columns=[c for c in regions.columns if c in stats.columns])
    frame = gpd.GeoDataFrame(stats.join(regions, on="feature_index"), geometry="geometry")
    buffer = io.BytesIO()
    frame.set_crs(regions.crs).to_parquet(buffer)
    return buffer.getvalue()


def read_series(files: list[Path], *, source: Path) -> Any:
    """The registry's vector reader: a ``timeseries.parquet`` as a series
    (:mod:`hybrid.io.series`). Its bands are the float columns between ``feature_index``
    and ``geometry``, which the feature's properties follow (a file without ``geometry``:
    every float column after ``feature_index``)."""
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
    bands = [c for c in after if c != "date" and _floats(frame[c])]
    dates = frame["date"] if "date" in frame.columns else [None] * len(frame)
    records = zip(dates, frame["feature_index"], frame[bands].to_numpy(dtype=float), strict=True)
    return series(records, bands, source=file)


def _floats(column: Any) -> bool:
    """Float values, or only missing ones (a band that is null everywhere)."""
    return column.dtype.kind == "f" or bool(column.isna().all())


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
