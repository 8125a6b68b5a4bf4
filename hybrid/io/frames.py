"""Vector cubes written as frames (``vectorcube.geojson``, ``.parquet``, ``.csv``: the
geometries with value columns, :mod:`hybrid.io.vector_frame`; any GeoJSON) read back for
comparison (:mod:`hybrid.frame_comparison`): a cube feature x column of the numeric
columns, the geometries as the ``geometry`` coordinate, the CRS in ``attrs``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.errors import UsageError, first_line

if TYPE_CHECKING:
    import xarray as xr

#: the suffixes of the vector cube files read here
SUFFIXES = (".geojson", ".parquet", ".csv")
#: attrs flag of a cube that holds a vector frame (:func:`read_frame`)
FRAME = "hybrid:vector_frame"


def frame_file(path: Path) -> Path | None:
    """``path`` when it is a vector cube file (``vectorcube.*`` or a ``.geojson`` of
    features), or the one ``vectorcube.*`` file of the folder ``path``; else None."""
    if path.is_dir():
        found = sorted(p for p in path.glob("vectorcube.*") if p.suffix in SUFFIXES)
        return found[0] if len(found) == 1 else None
    if path.stem == "vectorcube" and path.suffix in SUFFIXES:
        return path
    return path if path.suffix == ".geojson" and _holds_features(path) else None


def _holds_features(path: Path) -> bool:
    """Whether a ``.geojson`` file holds GeoJSON features: an aggregate_spatial result
    downloaded as "GeoJSON" (the client's default name for a vector cube) holds the JSON
    time series (Copernicus writes that layout for any format but CSV, netCDF and
    Parquet), which :func:`hybrid.io.reader.open_any` reads as one."""
    import json

    try:
        with path.open(encoding="utf-8") as stream:
            document = json.load(stream)
    except (OSError, ValueError):
        return True  # GDAL's reader says what is wrong with it
    return isinstance(document, dict) and document.get("type") in ("FeatureCollection", "Feature")


def read_frame(file: Path) -> xr.DataArray:
    """A vector cube file as a cube (feature x column) of its numeric columns, its
    geometries as the ``geometry`` coordinate and its CRS in ``attrs``."""
    import numpy as np
    import xarray as xr

    frame = _geodataframe(file)
    columns = [c for c in frame.columns if c != frame.geometry.name and _numeric(frame[c])]
    values = frame[columns].to_numpy(dtype="float64") if columns else np.empty((len(frame), 0))
    geometry = np.empty(len(frame), dtype=object)
    geometry[:] = list(frame.geometry)
    crs = frame.crs.to_string() if frame.crs is not None else None
    return xr.DataArray(
        values,
        dims=("feature", "column"),
        coords={
            "feature": np.arange(len(frame)),
            "column": columns,
            "geometry": ("feature", geometry),
        },
        attrs={"source": str(file), FRAME: True, "vector_crs": crs},
    )


def _numeric(series: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series)) and not pd.api.types.is_bool_dtype(series)


def _geodataframe(file: Path) -> Any:
    """The file as a GeoDataFrame; a UsageError when it cannot be read as one."""
    import geopandas as gpd
    from shapely.errors import ShapelyError

    try:
        if file.suffix == ".parquet":
            return gpd.read_parquet(file)
        if file.suffix == ".csv":
            import pandas as pd
            import shapely

            table = pd.read_csv(file, index_col=0)
            geometry = shapely.from_wkt(table.pop("geometry").to_numpy())
            return gpd.GeoDataFrame(table, geometry=geometry)
        return gpd.read_file(file)
    except (OSError, ValueError, KeyError, RuntimeError, ShapelyError) as exc:
        raise UsageError(f"cannot read {file} as a vector cube: {first_line(exc)}") from None
