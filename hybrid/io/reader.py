"""Open any result (a file, or a folder of files) through the format registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hybrid.errors import UsageError

if TYPE_CHECKING:
    import xarray as xr

    from hybrid.io.format import Format


def open_result(path: str | Path) -> xr.DataArray:
    """Open a raster result (NetCDF file, GeoTIFF, or a folder of either) as a
    normalised cube (:mod:`hybrid.io.cube`).

    Raises :class:`UsageError` when the path is missing or not a readable result.
    """
    from hybrid.io.registry import FORMATS, format_of_file

    path = Path(path)
    if not path.exists():
        raise UsageError(f"result not found: {path} (give a .nc file, a .tif, or a result folder)")
    raster = [f for f in FORMATS if "raster" in f.readers]
    if path.is_dir():
        for fmt in raster:
            files = sorted(p for p in path.iterdir() if fmt.holds(p) and p.is_file())
            if files:
                return fmt.readers["raster"](files, source=path)
        expected = " or ".join(f"{fmt.suffix} files" for fmt in raster)
        raise UsageError(
            f"{path} holds no result: expected {expected} (or one timeseries file of "
            "aggregate_spatial, for hybrid compare)"
        )
    found = format_of_file(path)
    # anything else is tried as NetCDF, which says why it is not one
    fmt = found if found is not None and "raster" in found.readers else raster[0]
    return fmt.readers["raster"]([path], source=path)


def open_any(path: str | Path) -> xr.DataArray:
    """A result file or folder as :func:`open_result` opens a raster, as
    :func:`open_series` opens an aggregate_spatial result (JSON, CSV, Parquet, CovJSON,
    or a netCDF with a ``feature`` dimension), or as
    :func:`hybrid.io.frames.read_frame` opens another vector cube
    (``vectorcube.*``, a GeoJSON), or else as the cells of a JSON value
    (:func:`hybrid.io.json_values.read_json_value`: ``result.json``, a run_udf table)."""
    from hybrid.io.frames import frame_file, read_frame
    from hybrid.io.json_values import read_json_value, value_file
    from hybrid.io.netcdf_series import holds_series
    from hybrid.io.registry import format_of_file

    if Path(path).is_dir():
        _one_result(Path(path))
    if Path(path).exists() and (frame := frame_file(Path(path))) is not None:
        return read_frame(frame)
    file = _series_file(Path(path))
    if file is None:
        value = value_file(Path(path))
        return open_result(path) if value is None else read_json_value(value)
    fmt = format_of_file(file)
    if fmt is None and file.suffix.lower() not in _JSON_SERIES_SUFFIXES:
        raise UsageError(f"{path} is no result hybrid reads: {_readable()}")
    if fmt is not None and "raster" in fmt.readers and not holds_series(file):
        return open_result(path)
    try:
        return _read_series(file, fmt, path)
    except UsageError:
        if value_file(file) is None:
            raise
        return read_json_value(file)  # a JSON value: a number, a run_udf table, ...


def _readable() -> str:
    """What :func:`open_any` reads, from the formats' readers (the one list of them)."""
    from hybrid.io.registry import FORMATS

    own = {s for fmt in FORMATS if fmt.readers for s in fmt.suffixes}
    suffixes = sorted(own | set(_JSON_SERIES_SUFFIXES))
    return f"give a result file ({', '.join(suffixes)}) or a job's result folder"


def _one_result(folder: Path) -> None:
    """Refuse a folder that holds results of several kinds (a graph with several
    save_result nodes: rasters and a time series, say): each is compared on its own."""
    from hybrid.io.frames import frame_file
    from hybrid.io.gtiff_read import result_groups
    from hybrid.io.json_values import value_file
    from hybrid.io.registry import FORMATS

    frame, series, value = frame_file(folder), _series_file(folder), value_file(folder)
    files = [p for p in sorted(folder.iterdir()) if p.is_file() and p not in (frame, series, value)]
    kinds = [[p] for p in (frame, series, value) if p is not None]
    for fmt in (f for f in FORMATS if "raster" in f.readers):
        own = [p for p in files if fmt.holds(p)]
        # a netCDF and GeoTIFFs beside it are two results, so are GeoTIFFs of two prefixes
        kinds += result_groups(own) if fmt.per_label else [[p] for p in own]
    if len(kinds) > 1:
        names = ", ".join(group[0].name + (" ..." if len(group) > 1 else "") for group in kinds)
        raise UsageError(
            f"{folder} holds several results ({names}): give the one to compare, e.g. "
            f"{folder / kinds[0][0].name}"
        )


def open_series(path: str | Path) -> xr.DataArray:
    """An aggregate_spatial result (a file, or a folder with one) as a series
    (:mod:`hybrid.io.series`)."""
    from hybrid.io.registry import format_of_file

    file = _series_file(Path(path))
    return _read_series(file, format_of_file(file) if file is not None else None, path)


#: JSON time series under other names: the client names a vector cube's download
#: ``.geojson``, CoverageJSON is often saved as ``.covjson``; the JSON reader knows both
_JSON_SERIES_SUFFIXES = (".geojson", ".covjson")


def _read_series(file: Path | None, fmt: Format | None, path: str | Path) -> xr.DataArray:
    from hybrid.io.registry import find_format

    if file is not None and file.suffix.lower() in _JSON_SERIES_SUFFIXES:
        fmt = find_format("JSON")
    if file is None or fmt is None or "vector" not in fmt.readers:
        raise UsageError(
            f"{path} is no aggregate_spatial result: give a timeseries .json (.geojson, "
            ".covjson), .csv, .nc or .parquet file"
        )
    return fmt.readers["vector"]([file], source=file)


def _series_file(path: Path) -> Path | None:
    """``path``, or the one ``timeseries.*`` file of the folder ``path``; None for a
    folder without one (a raster result's folder)."""
    from hybrid.io.vector import FILE_STEM

    if not path.exists():
        raise UsageError(f"result not found: {path}")
    if not path.is_dir():
        return path
    found = sorted(p for p in path.iterdir() if p.is_file() and p.stem == FILE_STEM)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise UsageError(f"{path} holds several time series ({names}): give one of them")
    return found[0] if found else None
