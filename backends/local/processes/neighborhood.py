"""apply_neighborhood with a UDF, as Copernicus runs it.

Copernicus (openeo-geopyspark-driver ``geopysparkdatacube.py`` ``apply_neighborhood``,
lines 1299-1420): x and y sizes and overlaps in ``px`` only, at least 4 pixels for a
UDF; the UDF gets tiles of ``size + 2 * overlap`` pixels, no-data beyond the cube's
edges, and the overlap is cut from its result. Along ``t`` either no size (the UDF
gets the whole series) or ``P1D`` without overlap (one date per chunk). Only a single
UDF is accepted as the callback ("only supporting callbacks with a single UDF").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hybrid.backends.local.udf.callbacks import udf_callback
from hybrid.backends.local.udf.isolated import UdfSettings
from hybrid.errors import ProcessParameterInvalid, ProcessUnsupported

#: the process description (openEO 1.2 apply_neighborhood, abridged)
SPEC: dict[str, Any] = {
    "id": "apply_neighborhood",
    "summary": "Apply a process to pixels in a n-dimensional neighborhood",
    "description": "Applies a focal process (here: a UDF) to neighborhoods of `size` "
    "pixels, each with `overlap` pixels of its neighbours.",
    "categories": ["cubes"],
    "parameters": [
        {"name": "data", "description": "A raster data cube.",
         "schema": {"type": "object", "subtype": "datacube"}},
        {"name": "process", "description": "Process (a single run_udf) to apply.",
         "schema": {"type": "object", "subtype": "process-graph", "parameters": [
             {"name": "data", "schema": {"type": "object", "subtype": "datacube"}},
             {"name": "context", "schema": {"description": "Any data type."},
              "optional": True, "default": None}],
             "returns": {"schema": {"type": "object", "subtype": "datacube"}}}},
        {"name": "size", "description": "Neighborhood sizes along each dimension.",
         "schema": {"type": "array", "items": {"type": "object"}}},
        {"name": "overlap", "description": "Overlap of neighborhoods along each dimension.",
         "schema": {"type": ["array", "null"], "items": {"type": "object"}},
         "optional": True, "default": None},
        {"name": "context", "description": "Additional data passed to the process.",
         "schema": {"description": "Any data type."}, "optional": True, "default": None},
    ],
    "returns": {"description": "A raster data cube with the same dimensions.",
                "schema": {"type": "object", "subtype": "datacube"}},
    "exceptions": {
        "DimensionNotAvailable": {"message": "A dimension with this name does not exist."},
        "DataCubePropertiesImmutable": {"message": "Dimension properties must stay unchanged."},
    },
}  # fmt: skip


def _by_dimension(value: Any, name: str) -> dict[str, Mapping[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise ProcessParameterInvalid(f"apply_neighborhood: {name} must be a list of objects")
    found = {}
    for entry in value:
        entry = entry.model_dump() if hasattr(entry, "model_dump") else entry
        if not isinstance(entry, Mapping) or "dimension" not in entry:
            raise ProcessParameterInvalid(
                f"apply_neighborhood: each {name} entry needs 'dimension' and 'value'"
            )
        found[str(entry["dimension"])] = entry
    return found


def _pixels(entry: Mapping[str, Any] | None, name: str, default: int | None) -> int:
    if entry is None:
        if default is None:
            raise ProcessParameterInvalid(f"apply_neighborhood: {name} is required for x and y")
        return default
    value = entry.get("value")
    if entry.get("unit", "px") != "px" or not isinstance(value, int | float) or value < 0:
        raise ProcessParameterInvalid(
            f"apply_neighborhood: only 'px' is currently supported for spatial window {name} "
            f"(got {dict(entry)!r})"
        )
    return int(value)


def apply_neighborhood(
    data: Any,
    process: Any,
    size: Any,
    overlap: Any = None,
    context: Any = None,
    *,
    udf_settings: UdfSettings | None = None,
) -> Any:
    """Run a UDF on tiles of ``size`` pixels with ``overlap`` pixels around them."""
    from hybrid.backends.local.processes.udf import run_tiled
    from hybrid.backends.local.udf.tiling import Tiling, restore

    udf = udf_callback(process)
    if udf is None:
        raise ProcessUnsupported(
            "apply_neighborhood: only supporting callbacks with a single UDF (as Copernicus)"
        )
    sizes, overlaps = _by_dimension(size, "size"), _by_dimension(overlap, "overlap")
    tiling = Tiling(
        size_y=_pixels(sizes.get("y"), "size", None),
        size_x=_pixels(sizes.get("x"), "size", None),
        overlap_y=_pixels(overlaps.get("y"), "overlap", 0),
        overlap_x=_pixels(overlaps.get("x"), "overlap", 0),
        pad=True,
    )
    if tiling.size_x < 4 or tiling.size_y < 4:
        raise ProcessParameterInvalid(
            "apply_neighborhood: window sizes smaller then 4 are not yet supported for UDFs "
            f"(got {size!r})"
        )
    t_size = (sizes.get("t") or {}).get("value")
    if t_size is None:
        series = True
    elif t_size == "P1D" and "t" not in overlaps:
        series = False
    else:
        raise ProcessParameterInvalid(
            "apply_neighborhood: for temporal dimension, either process all values, or 'P1D' "
            "for single date is currently supported. Overlap should not be set for time "
            f"dimension. (Got size {t_size!r}, overlap {overlaps.get('t')!r})"
        )
    result, added = run_tiled(
        data, udf, context, process="apply_neighborhood", settings=udf_settings,
        tiling=tiling, series=series,
    )  # fmt: skip
    return restore(result, added)
