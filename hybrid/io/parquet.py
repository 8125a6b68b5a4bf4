"""(Geo)Parquet results: vector cubes as Copernicus's ``timeseries.parquet``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.io.format import Format


def write_vector(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's vector writer: ``timeseries.parquet`` (see :mod:`hybrid.timeseries`)."""
    from hybrid.timeseries import write_vector_cube

    return [write_vector_cube(cube, "parquet", out_dir)]


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
