"""GeoTIFF results read back (:mod:`hybrid.io.gtiff` writes them), in every way
Copernicus names them: ``openEO_2023-05-01Z.tif`` per date, ``openEO.tif`` without
time, another ``filename_prefix`` in place of ``openEO``, and with
``separate_asset_per_band`` a file per band, ``openEO_2023-05-01Z_B04.tif`` (or
``openEO_B04.tif`` without time), whose files of one date are that date's bands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.errors import UsageError
from hybrid.io.cube import normalise

if TYPE_CHECKING:
    import xarray as xr

#: ``<prefix>_2023-05-01Z.tif`` (Copernicus), also without ``Z``, with a time, or the
#: compact ``<prefix>_20230501T103000Z.tif`` written for labels not at 00:00; a band
#: after it with ``separate_asset_per_band``
GTIFF_NAME = re.compile(
    r"^(?P<prefix>.+?)_(?P<date>\d{4}-?\d{2}-?\d{2})(?:T[0-9:.]+)?Z?(?:_(?P<band>.+))?\.tiff?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class GTiffName:
    """What a result file's name says: its prefix, date (None: no time) and band (None:
    the file holds every band)."""

    prefix: str
    date: str | None
    band: str | None


def gtiff_name(name: str, *, bands: frozenset[str] = frozenset()) -> GTiffName:
    """The parts of a GeoTIFF result's file name; ``bands``: the band names a folder's
    files end in, which tell ``openEO_B04.tif`` (a band, no time) from a prefix."""
    match = GTIFF_NAME.match(name)
    if match is not None:
        return GTiffName(match["prefix"], match["date"], match["band"])
    stem = name.rsplit(".", 1)[0]
    head, _, tail = stem.rpartition("_")
    if head and tail in bands:
        return GTiffName(head, None, tail)
    return GTiffName(stem, None, None)


def result_groups(files: list[Path]) -> list[list[Path]]:
    """The GeoTIFFs of a folder by the result they belong to (their prefix): a graph
    with two GTiff save_result nodes writes two."""
    groups: dict[str, list[Path]] = {}
    for file in sorted(files):
        groups.setdefault(gtiff_name(file.name, bands=_dated_bands(files)).prefix, []).append(file)
    return list(groups.values())


def _dated_bands(files: list[Path]) -> frozenset[str]:
    return frozenset(band for f in files if (band := gtiff_name(f.name).band) is not None)


def read_raster(files: list[Path], *, source: Path) -> xr.DataArray:
    """The registry's raster reader: the GeoTIFFs of one result (a file, one per label,
    or one per label and band) as a normalised cube."""
    import numpy as np
    import xarray as xr

    names = {f: gtiff_name(f.name, bands=_dated_bands(files)) for f in files}
    if len({n.prefix for n in names.values()}) > 1:
        shown = ", ".join(sorted({n.prefix for n in names.values()}))
        raise UsageError(f"{source} holds the GeoTIFFs of several results ({shown}): give one")
    dates = sorted({n.date for n in names.values()}, key=lambda d: d or "")
    per_band = sorted({n.band for n in names.values() if n.band is not None})
    if (len(dates) > 1 and None in dates) or len(files) > len(dates) * max(len(per_band), 1):
        raise UsageError(
            f"the GeoTIFFs in {source} are not one result (expected openEO_YYYY-MM-DDZ.tif "
            "per date, or with _BAND per band): compare them one file at a time"
        )
    grid, stacked, bands, tags = _read_files(files, names, dates, per_band, source)
    crs, transform, width, height, _count = grid
    if transform.b != 0 or transform.d != 0:
        raise UsageError(f"{source} has a rotated grid, which results never have")
    x = transform.c + (np.arange(width) + 0.5) * transform.a
    y = transform.f + (np.arange(height) + 0.5) * transform.e
    cube = xr.DataArray(stacked, dims=("t", "bands", "y", "x"), coords={"y": y, "x": x})
    timed = dates[0] is not None
    labels = [_label(d) for d in dates if d is not None]
    cube = cube.assign_coords(t=labels) if timed else cube.isel(t=0, drop=True)
    if len(bands) == 1:
        cube = cube.isel(bands=0, drop=True)
        cube.name = bands[0] if not bands[0].startswith("band_") else "var"
    else:
        cube = cube.assign_coords(bands=bands)
    cube.attrs = {k: v for k, v in tags.items() if k != "AREA_OR_POINT"}
    return normalise(cube, crs_wkt=crs.to_wkt() if crs else None, source=source)


def _read_files(
    files: list[Path],
    names: dict[Path, GTiffName],
    dates: list[str | None],
    per_band: list[str],
    source: Path,
) -> tuple[tuple[Any, ...], Any, list[str], dict[str, str]]:
    """Every file read into its place of one (t, bands, y, x) float64 array: the grid,
    the array, the band names and the tags."""
    import numpy as np
    import rasterio
    from rasterio.errors import RasterioIOError

    grid: tuple[Any, ...] | None = None
    stacked: np.ndarray | None = None  # every file read into its place: no stacking copy
    bands: list[str] = list(per_band)
    tags: dict[str, str] = {}
    for file in sorted(files):
        name = names[file]
        try:
            with rasterio.open(file, NUM_THREADS="ALL_CPUS") as src:  # decoded on all cores
                this_grid = (src.crs, src.transform, src.width, src.height, src.count)
                if grid is not None and this_grid != grid:
                    raise UsageError(
                        f"the GeoTIFFs in {source} do not share one grid ({file.name} "
                        "differs): compare them one file at a time"
                    )
                if stacked is None:
                    count = len(per_band) if per_band else src.count
                    shape = (len(dates), count, src.height, src.width)
                    stacked = np.empty(shape, dtype="float64")
                t = dates.index(name.date)
                first = per_band.index(name.band) if name.band is not None else 0
                _read_values(src, stacked[t, first : first + src.count])
                if not per_band:
                    bands = [d or f"band_{i + 1}" for i, d in enumerate(src.descriptions)]
                tags = dict(src.tags())
        except RasterioIOError as exc:
            raise UsageError(f"cannot read {file} as GeoTIFF: {exc}") from None
        grid = this_grid
    assert grid is not None and stacked is not None
    return grid, stacked, bands, tags


def _read_values(src: Any, out: Any) -> None:
    """An open GeoTIFF's values into the float64 array ``out`` (bands, rows, cols), NaN
    where GDAL's mask says nodata. A file whose nodata is NaN, or which has none (as
    results are written), holds its nodata as NaN already: read straight into ``out``,
    without the masked array's copies."""
    import math

    import numpy as np
    from rasterio.enums import MaskFlags

    flags = {flag for band in src.mask_flag_enums for flag in band}
    nodata = src.nodata
    if flags <= {MaskFlags.all_valid, MaskFlags.nodata} and (nodata is None or math.isnan(nodata)):
        src.read(out=out)
        return
    out[...] = src.read(masked=True).astype("float64").filled(np.nan)


def _label(text: str) -> Any:
    import numpy as np

    digits = text.replace("-", "")
    return np.datetime64(f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}")
