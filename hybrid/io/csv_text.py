"""CSV results: vector cubes (``aggregate_spatial``) as Copernicus's ``timeseries.csv``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.io.format import Format


def write_vector(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's vector writer: ``timeseries.csv`` (see :mod:`hybrid.timeseries`)."""
    from hybrid.timeseries import write_vector_cube

    return [write_vector_cube(cube, "csv", out_dir)]


FORMAT = Format(
    name="CSV",
    title="Comma Separated Values (CSV)",
    suffixes=(".csv",),
    media_type="text/csv",
    per_label=False,
    writers={"vector": write_vector},
)
