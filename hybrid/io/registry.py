"""The table of result formats and the look-ups every consumer uses.

Adding a format: one module defining ``FORMAT`` (see :mod:`hybrid.io.netcdf`) and one
line in :data:`FORMATS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.errors import FormatUnsuitable, ProcessParameterInvalid
from hybrid.io import covjson, csv_text, geojson, gtiff, json_text, netcdf, parquet, png
from hybrid.io.format import KINDS, CubeKind, Format, option_flag

#: every output format, in the order ``/file_formats`` and help texts list them
FORMATS: tuple[Format, ...] = (
    netcdf.FORMAT,
    gtiff.FORMAT,
    png.FORMAT,
    json_text.FORMAT,
    csv_text.FORMAT,
    parquet.FORMAT,
    geojson.FORMAT,
    covjson.FORMAT,
)

#: openEO's ``gis_data_types`` for each kind of data (API 1.2 ``/file_formats``)
_GIS_DATA_TYPES: dict[CubeKind, str] = {"raster": "raster", "vector": "vector", "value": "other"}
_KIND_TEXT: dict[CubeKind, str] = {
    "raster": "a raster cube",
    "vector": "a vector cube (aggregate_spatial result)",
    "value": "a plain value (number, string, list or object)",
}


def find_format(name: str, *, kind: CubeKind | None = None) -> Format | None:
    """The format called ``name`` (or one of its aliases, any case), or None.

    With ``kind``, only a format that can hold that kind of data is found.
    """
    for fmt in FORMATS:
        if fmt.accepts(str(name)) and (kind is None or kind in fmt.kinds):
            return fmt
    return None


def require_format(name: Any) -> Format:
    """The Format for a save_result format name; FormatUnsuitable naming the choices."""
    fmt = find_format(str(name))
    if fmt is None:
        raise FormatUnsuitable(
            f"save_result: format '{name}' is not supported; use {format_choices()}"
        )
    return fmt


def formats_for(kind: CubeKind | None = None) -> tuple[Format, ...]:
    """The formats that can hold ``kind`` (all with None)."""
    return tuple(f for f in FORMATS if kind is None or kind in f.kinds)


def format_choices(kind: CubeKind | None = None) -> str:
    """``"netCDF or GTiff"`` - for error and help texts."""
    names = [f.name for f in formats_for(kind)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def format_of_file(path: str | Path) -> Format | None:
    """The format a file belongs to, by its suffix (None: not a result file)."""
    for fmt in FORMATS:
        if fmt.holds(Path(path)):
            return fmt
    return None


def media_type(name: str) -> str:
    """The media type of a result file, by its suffix."""
    fmt = format_of_file(name)
    return fmt.media_type if fmt is not None else "application/octet-stream"


def file_formats_document() -> dict[str, Any]:
    """The body of openEO's ``GET /file_formats``: every output format and its data types,
    and the input formats (:mod:`hybrid.io.input_formats`)."""
    from hybrid.io.input_formats import input_formats_document

    output = {
        fmt.name: {
            "title": fmt.title,
            "gis_data_types": [_GIS_DATA_TYPES[k] for k in fmt.kinds],
            "parameters": {key: dict(schema) for key, schema in fmt.parameters.items()},
        }
        for fmt in FORMATS
    }
    return {"input": input_formats_document(), "output": output}


def kind_of(data: Any) -> CubeKind:
    """What ``save_result`` was handed: a raster cube (x and y dims), a vector cube (a
    coordinate of geometries, as ``aggregate_spatial`` makes: see :mod:`hybrid.io.vector`)
    or a plain value."""
    dims = getattr(data, "dims", None)
    if dims is not None and hasattr(data, "coords"):
        if {"x", "y"} <= {str(d) for d in dims}:
            return "raster"
        if "geometries" in dims or any(_holds_geometries(c) for c in data.coords.values()):
            return "vector"
    if hasattr(data, "geometry") and hasattr(data, "crs"):  # a GeoDataFrame
        return "vector"
    return "value"


def _holds_geometries(coord: Any) -> bool:
    values = getattr(coord, "values", None)
    if values is None or getattr(getattr(values, "dtype", None), "kind", "") != "O":
        return False
    if values.size == 0:
        return False
    return hasattr(values.flat[0], "geom_type")


def check_options(fmt: Format, options: Mapping[str, Any] | None) -> None:
    """Refuse a save_result option that only another format honours, as Copernicus does
    (openeo-geopyspark-driver 9baf2e10 geopysparkdatacube.py L2130-2135:
    ``attach_gdalinfo_assets`` and ``separate_asset_per_band`` "is only supported with
    format GTIFF"), and a GTiff option honoured there but not
    here (:mod:`hybrid.io.gtiff_options`)."""
    if option_flag((options or {}).get("separate_asset_per_band")) and fmt.name != "GTiff":
        raise ProcessParameterInvalid(
            f"save_result: separate_asset_per_band is only supported with format GTiff, "
            f"not {fmt.name}; drop the option or save as GTiff"
        )
    # tested as Python's truth there (L2130-2132): a text "false" is refused too
    if (options or {}).get("attach_gdalinfo_assets") and fmt.name != "GTiff":
        raise ProcessParameterInvalid(
            f"save_result: attach_gdalinfo_assets is only supported with format GTiff, "
            f"not {fmt.name}; drop the option or save as GTiff"
        )
    if fmt.name == "GTiff":
        from hybrid.io.gtiff_options import parse

        parse(options)


def write_result(
    data: Any,
    fmt: Format,
    out_dir: Path,
    *,
    attrs: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``data`` in ``fmt`` into ``out_dir`` (raises FormatUnsuitable when the
    format cannot hold that kind of data)."""
    from hybrid.io.vector import is_aggregate_result

    kind = kind_of(data)
    aggregate = kind == "vector" and is_aggregate_result(data)
    if kind in fmt.kinds and (fmt.holds_aggregates or not aggregate):
        check_options(fmt, options)
        writer = fmt.writer(kind)
    else:
        writer = _as_copernicus_json(data, kind, fmt, aggregate=aggregate)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return writer(data, Path(out_dir), attrs=dict(attrs or {}), options=dict(options or {}))


def _as_copernicus_json(data: Any, kind: CubeKind, fmt: Format, *, aggregate: bool) -> Any:
    """The JSON writer where Copernicus writes JSON whatever the format: a plain value
    (openeo-python-driver 9e5b49b2 save_result.py ``JSONResult.write_assets`` L247-276) and
    an aggregate_spatial time series (``AggregatePolygonResult.write_assets`` L340-364: any
    format but netCDF, CSV and Parquet), with a warning; FormatUnsuitable for the rest, an
    aggregate without ``t`` too (``AggregatePolygonSpatialResult.write_assets`` L854-886)."""
    from hybrid.run_warnings import warn

    if aggregate and "t" not in data.dims:
        raise FormatUnsuitable(
            f"save_result: {fmt.name} does not hold aggregate_spatial results without a "
            "time dimension (as on Copernicus); use JSON, CSV or Parquet"
        )
    if kind != "value" and not aggregate:
        raise FormatUnsuitable(
            f"save_result: format '{fmt.name}' cannot hold {_KIND_TEXT[kind]}; "
            f"use {format_choices(kind)}"
        )
    warn(
        f"save_result: {_KIND_TEXT[kind]} is written as JSON, not {fmt.name}, as Copernicus "
        "writes it; ask for format JSON",
        stacklevel=3,
    )
    return json_text.FORMAT.writer(kind)


__all__ = [
    "FORMATS",
    "KINDS",
    "check_options",
    "file_formats_document",
    "find_format",
    "format_choices",
    "format_of_file",
    "formats_for",
    "kind_of",
    "media_type",
    "write_result",
]
