"""apply_neighborhood with a UDF, as Copernicus runs it.

Copernicus (openeo-geopyspark-driver ``geopysparkdatacube.py`` ``apply_neighborhood``,
lines 1299-1420): x and y sizes and overlaps in ``px`` only, at least 4 pixels for a
UDF; the UDF gets tiles of ``size + 2 * overlap`` pixels, no-data beyond the cube's
edges, and the overlap is cut from its result. A UDF returning more or fewer pixels per
tile changes the cube's resolution; each tile keeps its extent (L1382-1395). Along
``t`` either no size (the UDF gets the whole series) or ``P1D`` without overlap (one
date per chunk). Any other callback runs only in the two cases of :func:`_without_udf`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hybrid.backends.local.udf.callbacks import udf_callback
from hybrid.backends.local.udf.isolated import UdfSettings
from hybrid.errors import ProcessParameterInvalid, ProcessUnsupported
from hybrid.params import PERIODS

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
    from hybrid.backends.local.processes.udf import dated_2020, run_tiled
    from hybrid.backends.local.udf.tiling import Tiling, restore

    udf = udf_callback(process)
    sizes, overlaps = _by_dimension(size, "size"), _by_dimension(overlap, "overlap")
    if udf is None:
        return _without_udf(data, process, sizes, overlaps, context)
    tiling = Tiling(
        size_y=_pixels(sizes.get("y"), "size", None),
        size_x=_pixels(sizes.get("x"), "size", None),
        overlap_y=_pixels(overlaps.get("y"), "overlap", 0),
        overlap_x=_pixels(overlaps.get("x"), "overlap", 0),
        pad=True,
        rescale=True,
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
    if series and "t" in data.dims and "t" not in result.dims:
        result = dated_2020(result, "apply_neighborhood")
    return restore(result, added)


def _without_udf(
    data: Any,
    process: Any,
    sizes: Mapping[str, Mapping[str, Any]],
    overlaps: Mapping[str, Mapping[str, Any]],
    context: Any,
) -> Any:
    """An ordinary callback, as Copernicus runs one (openeo-geopyspark-driver
    ``geopysparkdatacube.py`` ``apply_neighborhood``, L1396-1412): with ``t`` "P1D" and
    no overlap over ``bands`` of each pixel (``_apply_bands_dimension``); with x and y
    1 px, no overlap and ``t`` a period (month, dekad, ...) over the dates of each
    period of each pixel, their labels kept (``aggregate_temporal(..., reduce=False)``:
    openeo-geotrellis-extensions ``OpenEOProcesses.scala`` ``aggregateTemporal``
    L426-540, ``createTemporalCallback``); dates in no period are dropped. Anything
    else Copernicus refuses ("only supporting complex callbacks on bands")."""
    from hybrid.backends.local.processes.dimensions import apply_dimension

    t_size = (sizes.get("t") or {}).get("value")
    spatial = [_pixels(sizes.get(d), "size", None) for d in ("x", "y")]
    overlap = [_pixels(overlaps.get(d), "overlap", 0) for d in ("x", "y")]
    if t_size == "P1D" and "t" not in overlaps and "bands" in data.dims:
        return apply_dimension(data, process, "bands", context=context)
    if t_size in PERIODS and "t" not in overlaps and spatial == [1, 1] and overlap == [0, 0]:
        return _per_period(data, process, str(t_size), context)
    raise ProcessUnsupported(
        "apply_neighborhood: only supporting complex callbacks on bands (a process other "
        "than a single UDF needs size t 'P1D', or x and y 1 px and t a period such as "
        f"'month', without overlap; as on Copernicus). Got size {dict(sizes)!r}"
    )


def _per_period(data: Any, process: Any, period: str, context: Any) -> Any:
    """The callback over the dates of each period (grouped as aggregate_temporal_period
    groups them), each date keeping its label."""
    import xarray as xr

    from hybrid.backends.local.processes.dimensions import apply_dimension
    from hybrid.backends.local.processes.temporal import (
        TEMPORAL_EXTENT,
        _dates,
        _first_dekad_month,
        period_start,
    )

    if "t" not in data.dims:
        raise ProcessParameterInvalid(
            f"apply_neighborhood: no time dimension on cube, cannot chunk on time with "
            f"value {period!r}"
        )
    first = _first_dekad_month(data.attrs.get(TEMPORAL_EXTENT)) if period == "dekad" else None
    groups: dict[Any, list[int]] = {}
    for i, day in enumerate(_dates(data, "t")):
        if first is None or day >= first:
            groups.setdefault(period_start(day, period), []).append(i)
    parts = [
        apply_dimension(data.isel(t=groups[start]), process, "t", context=context)
        for start in sorted(groups)
    ]
    if not parts:
        return data.isel(t=[])
    out = xr.concat(parts, dim="t")
    out.attrs = dict(data.attrs)
    return out
