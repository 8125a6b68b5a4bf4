"""(Geo)Parquet results: vector cubes as Copernicus's ``timeseries.parquet``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.io.format import Format


def write_vector(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's vector writer: ``timeseries.parquet``."""
    from hybrid.io.vector import write_file

    return write_file(out_dir, ".parquet", timeseries_parquet(cube))


def timeseries_parquet(cube: Any) -> bytes:
    """Copernicus's layout (openeo_driver/save_result.py ``to_geoparquet``): one row per
    date and feature, ``date, feature_index, <bands>``, the feature's properties and
    its geometry (in the geometries' CRS)."""
    import io

    import geopandas as gpd
    import pandas as pd

    from hybrid.geometries import vector_cube_features
    from hybrid.io.vector import band_columns, date_text, number, ordered

    features = vector_cube_features(cube)
    cube = ordered(cube)
    columns = band_columns(cube)
    timed = "t" in cube.dims
    values = cube.values if timed else cube.values[:, None, :]
    dates = [date_text(t) for t in cube["t"].values] if timed else [None]
    rows = []
    for ti, date in enumerate(dates):
        for fi in range(values.shape[0]):
            row: dict[str, Any] = {"date": date, "feature_index": fi}
            row.update({c: number(v) for c, v in zip(columns, values[fi, ti], strict=True)})
            row.update({k: v for k, v in features.properties[fi].items() if k not in row})
            row["geometry"] = features.geometries[fi]
            rows.append(row)
    frame = pd.DataFrame(rows)
    if not timed:
        frame = frame.drop(columns="date")
    buffer = io.BytesIO()
    gpd.GeoDataFrame(frame, geometry="geometry", crs=features.crs).to_parquet(buffer)
    return buffer.getvalue()


#: media type as openeo-python-driver's IOFORMATS names it (openeo_driver/util/ioformats.py)
FORMAT = Format(
    name="Parquet",
    title="(Geo)Parquet",
    suffixes=(".parquet",),
    media_type="application/parquet; profile=geo",
    per_label=False,
    writers={"vector": write_vector},
    aliases=("geoparquet",),
)
