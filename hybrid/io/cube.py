"""The normalised raster cube every result reader returns.

Every backend's result ends up as the same :class:`xarray.DataArray`: dims ``t, y, x``
(``t, bands, y, x`` when more than one variable/band was kept), float values with NaN as
nodata, x/y pixel centres (x ascending, y descending), ``t`` as ``datetime64`` at the
date's 00:00, and the CRS in ``attrs["crs_wkt"]`` and ``.rio.crs``.

Equivalent encodings therefore compare equal: ``t`` as "days since 1990-01-01" or as
timestamps (at 00:00 or later the same day), y ascending or descending, ``_FillValue``
or NaN, NetCDF or a folder of ``openEO_YYYY-MM-DDZ.tif``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    import pyproj
    import xarray as xr

#: cube attribute for the writers: ``(dtype name, nodata)`` of the integer cell type the
#: values have on Copernicus (int16 from the load; hybrid.backends.local.cell_types),
#: written instead of float32 with NaN
CELL_TYPE = "hybrid:cell_type"

#: cube attribute for the writers: the labels of the bands Copernicus's band metadata does
#: not name (beyond a shorter ``rename_labels`` target or a UDF's input bands), which its
#: netCDF writer calls ``unkown_band_<i>`` and its GTiff writer describes not
#: (hybrid.backends.local.processes.cube_dimensions.names_as_written)
UNNAMED_BANDS = "hybrid:unnamed_bands"


def unnamed_bands(cube: Any) -> frozenset[str]:
    """The labels of ``cube``'s bands its metadata does not name (:data:`UNNAMED_BANDS`)."""
    return frozenset(getattr(cube, "attrs", {}).get(UNNAMED_BANDS) or ())


#: cube attribute for the writers: every name of Copernicus's band metadata when it holds
#: more names than the cube has bands (a longer ``rename_labels`` target, a UDF returning
#: fewer bands than it got), the first of them the cube's band labels
#: (hybrid.backends.local.processes.cube_dimensions.with_band_names)
BAND_NAMES = "hybrid:band_names"


def names_beyond_bands(cube: Any) -> list[str]:
    """The names of ``cube``'s band metadata (:data:`BAND_NAMES`) beyond its bands; none
    once its bands are no longer the first names (a process changed them since)."""
    names = [str(n) for n in getattr(cube, "attrs", {}).get(BAND_NAMES) or ()]
    if "bands" not in cube.dims or "bands" not in cube.coords:
        return []
    labels = [str(b) for b in cube["bands"].values]
    return names[len(labels) :] if names[: len(labels)] == labels else []


def band_metadata(cube: Any) -> dict[str, Any]:
    """The attributes of ``cube`` that say what Copernicus's band metadata names
    (:data:`UNNAMED_BANDS`, :data:`BAND_NAMES`), for the writers."""
    attrs = getattr(cube, "attrs", {})
    return {key: attrs[key] for key in (UNNAMED_BANDS, BAND_NAMES) if key in attrs}


def stored_values(values: Any, dtype: str, fill_value: float | int | None) -> np.ndarray:
    """``values`` as stored in a file variable or band of ``dtype``: NaN becomes the fill
    value of an integer one (0 without one: a raw cell type) and a float one's fill value
    when that is a number (NetCDF writers, and GTiff in a :data:`CELL_TYPE`)."""
    import numpy as np

    block = np.asarray(values)
    if block.dtype.kind == "f":
        if np.dtype(dtype).kind != "f":
            block = np.where(np.isnan(block), 0 if fill_value is None else fill_value, block)
        elif fill_value is not None and not np.isnan(fill_value):
            block = np.where(np.isnan(block), fill_value, block)
    return block.astype(dtype, copy=False)


def cube_crs(cube: xr.DataArray) -> pyproj.CRS | None:
    """The CRS of a normalised cube (``None`` when the file had none)."""
    import pyproj

    wkt = cube.attrs.get("crs_wkt")
    return pyproj.CRS.from_wkt(wkt) if wkt else None


def require_date_labels(cube: xr.DataArray, *, fmt: str) -> None:
    """Refuse to write a cube whose ``t`` labels are not dates (FormatUnsuitable).

    netCDF stores ``t`` as days since 1990-01-01 and GTiff names its files by date, as
    on Copernicus, where time labels are always dates: its ``rename_labels`` on ``t``
    leaves them (openeo-geopyspark-driver ``geopysparkdatacube.py`` L499-511) and
    ``aggregate_temporal`` parses its labels as dates (``geopysparkdatacube.py``
    L974-975 ``pd.to_datetime``; openeo-geotrellis-extensions ``OpenEOProcesses.scala``
    L433; the same refusal here: ``backends/local/processes/temporal.py``). Text
    labels can still come from an ``add_dimension`` named ``t`` of type ``other``;
    JSON writes them.
    """
    import numpy as np

    if "t" not in cube.dims or cube["t"].dtype.kind == "M":
        return
    for label in cube["t"].values.tolist():
        try:
            np.datetime64(str(label).rstrip("Z"), "ns")
        except ValueError:
            from hybrid.errors import FormatUnsuitable

            raise FormatUnsuitable(
                f"save_result: {fmt} needs dates as the labels of 't', but {label!r} is not "
                "a date (Copernicus keeps dates there); save as JSON, or label the "
                "periods with dates"
            ) from None


def normalise(cube: xr.DataArray, *, crs_wkt: str | None, source: Path) -> xr.DataArray:
    """Bring a freshly read cube into the normalised form (see the module docstring)."""
    import numpy as np

    if not np.issubdtype(cube.dtype, np.floating):
        cube = cube.astype("float64")
    for dim in ("x", "y"):
        cube[dim] = cube[dim].astype("float64")
    if "t" in cube.dims:
        cube = _normalise_time(cube, source=source)
    cube = _sorted(_sorted(cube, "x", ascending=True), "y", ascending=False)
    order = [d for d in ("t", "bands", "y", "x") if d in cube.dims]
    cube = cube.transpose(*order)
    cube = cube.drop_vars([c for c in cube.coords if c not in cube.dims])
    cube.attrs["source"] = str(source)
    if crs_wkt:
        import pyproj
        import rioxarray  # noqa: F401  (registers the .rio accessor)

        crs = pyproj.CRS.from_user_input(crs_wkt)
        cube.attrs["crs_wkt"] = crs.to_wkt()
        cube = cube.rio.write_crs(crs, inplace=True)  # cube is new here: no copy of the values
    return cube


def _sorted(cube: xr.DataArray, dim: str, *, ascending: bool) -> xr.DataArray:
    """``cube.sortby(dim)``, without its copy of the values when already in order."""
    index = cube.indexes[dim]
    if index.is_monotonic_increasing if ascending else index.is_monotonic_decreasing:
        return cube
    return cube.sortby(dim, ascending=ascending)


def _normalise_time(cube: xr.DataArray, *, source: Path) -> xr.DataArray:
    import numpy as np
    import pandas as pd

    values = cube["t"].values
    if values.dtype.kind != "M":
        try:
            values = pd.to_datetime([str(v) for v in values], utc=True).tz_localize(None).values
        except (ValueError, TypeError):
            raise UsageError(f"{source}: t labels {values[:3]!r} are not dates") from None
    values = values.astype("datetime64[ns]")
    days = values.astype("datetime64[D]")
    if len(set(days.tolist())) == len(days):
        values = days.astype("datetime64[ns]")
    cube = cube.assign_coords(t=values)
    return cube.sortby("t") if not bool(np.all(np.diff(values) > np.timedelta64(0))) else cube
