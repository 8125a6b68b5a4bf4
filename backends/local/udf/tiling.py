"""How a cube is cut into the chunks a UDF receives, and how the results are stitched.

Copernicus hands a UDF float32 chunks of fixed-size tiles (openeo-geopyspark-driver
``geopysparkdatacube.py`` ``_numpy_to_xarraydatacube``, lines 527-605):

- ``apply``, and ``apply_dimension``/``reduce_dimension`` over ``bands``: one date of
  one tile, dims ``(bands, y, x)``, the date in ``attrs["t"]`` (``apply_tiles``; a
  naive ``datetime`` in the UDF, sent as text: :mod:`hybrid.backends.local.udf.worker`);
- ``apply_dimension``/``reduce_dimension`` over ``t``: the whole time series of one
  tile, dims ``(t, bands, y, x)`` (``apply_tiles_spatiotemporal``);
- ``apply_neighborhood``: tiles of ``size`` pixels with ``overlap`` pixels of the
  neighbours on every side; beyond the cube's edges no-data (``retile``/
  ``makeSquareTile`` in openeo-geotrellis-extensions ``OpenEOProcesses.scala``).

A UDF of ``apply_neighborhood`` may return more or fewer pixels than it got: each tile
keeps its extent, so the cube gets the new resolution, and sizes and overlaps are scaled
(geopysparkdatacube.py ``apply_neighborhood`` L1382-1395, ``remove_overlap``).

Tiles here start at the cube's top-left pixel (Copernicus's start at its layout's
origin). For ``apply_neighborhood`` edge tiles are padded with NaN to the full size
(the spec's no-data beyond the borders; the padding is cut off after the UDF); for the
other processes the tiles at the right and bottom edges are smaller instead, since
Copernicus's tiles there hold real pixels beyond the requested extent, not no-data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import xarray as xr

from hybrid.errors import UdfError
from hybrid.grid import PIXEL_SIZE, pixel_step

#: the tile size of Copernicus's data cubes, pixels
TILE_SIZE = 256


@dataclass(frozen=True)
class Tiling:
    """Tiles of ``size`` pixels, each given with ``overlap`` more pixels on every side."""

    size_y: int = TILE_SIZE
    size_x: int = TILE_SIZE
    overlap_y: int = 0
    overlap_x: int = 0
    #: pad the edge tiles with NaN to the full size (else they are smaller)
    pad: bool = False
    #: the UDF may return more or fewer pixels per tile: a new resolution (apply_neighborhood)
    rescale: bool = False

    def scaled(self, ratio_y: float, ratio_x: float) -> Tiling:
        """The tiling of a result with ``ratio`` times the pixels per tile: sizes and
        overlaps scaled and truncated as Copernicus scales them (geopysparkdatacube.py
        ``apply_neighborhood`` L1389-1395)."""
        return replace(
            self,
            size_y=int(self.size_y * ratio_y),
            size_x=int(self.size_x * ratio_x),
            overlap_y=int(self.overlap_y * ratio_y),
            overlap_x=int(self.overlap_x * ratio_x),
        )


def canonical(cube: xr.DataArray) -> tuple[xr.DataArray, bool]:
    """``cube`` as float32 ``(t, bands, y, x)`` in memory (``t`` only when it has one),
    and whether a ``bands`` dimension was added."""
    if "x" not in cube.dims or "y" not in cube.dims:
        raise UdfError(f"run_udf needs a raster cube with x and y, got dims {tuple(cube.dims)}")
    added = "bands" not in cube.dims
    if added:
        cube = cube.expand_dims("bands")
    extra = [d for d in cube.dims if d not in ("t", "bands", "y", "x")]
    if extra:
        raise UdfError(f"run_udf: dimension(s) {extra} are not supported; only t, bands, y, x")
    order = [d for d in ("t", "bands", "y", "x") if d in cube.dims]
    cube = cube.transpose(*order)
    cube = cube.drop_vars([c for c in cube.coords if c not in cube.dims])
    return cube.astype(np.float32).compute(), added


def _extend(coord: np.ndarray, before: int, after: int) -> np.ndarray:
    step = pixel_step(coord, PIXEL_SIZE)
    head = coord[0] - step * np.arange(before, 0, -1)
    tail = coord[-1] + step * np.arange(1, after + 1)
    return np.concatenate([head, coord.astype(np.float64), tail])


def _pad(cube: xr.DataArray, tiling: Tiling) -> tuple[xr.DataArray, int, int]:
    ny, nx = cube.sizes["y"], cube.sizes["x"]
    tiles_y = -(-ny // tiling.size_y)
    tiles_x = -(-nx // tiling.size_x)
    after_y = (tiles_y * tiling.size_y - ny if tiling.pad else 0) + tiling.overlap_y
    after_x = (tiles_x * tiling.size_x - nx if tiling.pad else 0) + tiling.overlap_x
    padded = cube.pad(
        y=(tiling.overlap_y, after_y), x=(tiling.overlap_x, after_x), constant_values=np.nan
    )
    padded = padded.assign_coords(
        y=_extend(cube["y"].values, tiling.overlap_y, after_y),
        x=_extend(cube["x"].values, tiling.overlap_x, after_x),
    )
    return padded, tiles_y, tiles_x


def cut(cube: xr.DataArray, tiling: Tiling) -> tuple[list[xr.DataArray], int, int]:
    """The tiles of ``cube`` row by row, each with its overlap, and the tile counts."""
    padded, tiles_y, tiles_x = _pad(cube, tiling)
    full_y = tiling.size_y + 2 * tiling.overlap_y
    full_x = tiling.size_x + 2 * tiling.overlap_x
    tiles = []
    for ty in range(tiles_y):
        for tx in range(tiles_x):
            y0, x0 = ty * tiling.size_y, tx * tiling.size_x
            tiles.append(padded.isel(y=slice(y0, y0 + full_y), x=slice(x0, x0 + full_x)))
    return tiles, tiles_y, tiles_x


def stitch(
    results: Sequence[xr.DataArray],
    inputs: Sequence[xr.DataArray],
    *,
    tiling: Tiling,
    tiles: tuple[int, int],
    like: xr.DataArray,
    process: str,
) -> xr.DataArray:
    """The UDF's tile results as one cube on the grid of ``like`` (overlap cut off); with
    ``tiling.rescale``, on the grid of ``like``'s extent at the resolution the results
    have (their tiles cover the input tiles' extents)."""
    tiles_y, tiles_x = tiles
    results = [_oriented(result, process) for result in results]
    pairs = list(zip(results, inputs, strict=True))
    ratios = {_ratio(result, tile, tiling, process) for result, tile in pairs}
    if len(ratios) > 1:
        raise UdfError(
            f"The UDF of '{process}' changed the resolution of its chunks differently: "
            f"{sorted(ratios)} times the pixels along y and x"
        )
    (ratio_y, ratio_x) = ratios.pop()
    scaled = tiling.scaled(ratio_y, ratio_x)
    cores = [_core(result, tile, scaled) for result, tile in pairs]
    lead = [c.dims[:-2] for c in cores]
    if len(set(lead)) > 1 or len({c.shape[:-2] for c in cores}) > 1:
        raise UdfError(f"The UDF of '{process}' returned tiles of different shapes: {set(lead)}")
    rows = [
        xr.concat(cores[r * tiles_x : (r + 1) * tiles_x], dim="x", join="override")
        for r in range(tiles_y)
    ]
    whole = xr.concat(rows, dim="y", join="override")
    if (ratio_y, ratio_x) == (1.0, 1.0):
        return whole.isel(y=slice(0, like.sizes["y"]), x=slice(0, like.sizes["x"])).assign_coords(
            y=like["y"].values, x=like["x"].values
        )
    size_y, size_x = round(like.sizes["y"] * ratio_y), round(like.sizes["x"] * ratio_x)
    whole = whole.isel(y=slice(0, size_y), x=slice(0, size_x))
    step_y, step_x = (pixel_step(inputs[0][d].values, PIXEL_SIZE) for d in ("y", "x"))
    return whole.assign_coords(
        y=_regrid(like["y"].values, size_y, step_y, step_y / ratio_y),
        x=_regrid(like["x"].values, size_x, step_x, step_x / ratio_x),
    )


def _oriented(result: xr.DataArray, process: str) -> xr.DataArray:
    if "y" not in result.dims or "x" not in result.dims:
        raise UdfError(
            f"The UDF of '{process}' returned dims {tuple(result.dims)}: x and y must stay"
        )
    extra = [str(d) for d in result.dims if d not in ("t", "bands", "y", "x")]
    if extra:
        raise UdfError(
            f"The UDF of '{process}' returned dims {tuple(result.dims)}: a cube holds t, "
            f"bands, y and x; remove {', '.join(repr(d) for d in extra)} in the UDF"
        )
    return result.transpose(..., "y", "x")


def _ratio(
    result: xr.DataArray, tile: xr.DataArray, tiling: Tiling, process: str
) -> tuple[float, float]:
    """How many times the pixels of ``tile`` ``result`` has along y and x."""
    ratio = (result.shape[-2] / tile.shape[-2], result.shape[-1] / tile.shape[-1])
    if ratio != (1.0, 1.0) and not tiling.rescale:
        raise UdfError(
            f"The UDF of '{process}' returned {result.shape[-2]} x {result.shape[-1]} pixels "
            f"for a chunk of {tile.shape[-2]} x {tile.shape[-1]}: the resolution must not change"
        )
    return ratio


def _regrid(coord: np.ndarray, count: int, step: float, new_step: float) -> np.ndarray:
    """``count`` pixel centres ``new_step`` apart from the first edge of the pixels of
    ``step`` centred on ``coord``."""
    if count == coord.size:
        return coord
    edge = float(coord[0]) - step / 2
    out: np.ndarray = edge + (np.arange(count) + 0.5) * new_step
    return out


def _core(result: xr.DataArray, tile: xr.DataArray, tiling: Tiling) -> xr.DataArray:
    """``result`` on the grid of ``tile``'s extent, without its (scaled) overlap."""
    result = result.drop_vars([c for c in result.coords if c in ("x", "y")])
    regridded = {}
    for dim in ("y", "x"):
        coord, count = tile[dim].values, result.sizes[dim]
        step = pixel_step(coord, PIXEL_SIZE)
        regridded[dim] = _regrid(coord, count, step, step * coord.size / count)
    result = result.assign_coords(regridded)
    oy, ox = tiling.overlap_y, tiling.overlap_x
    return result.isel(y=slice(oy, oy + tiling.size_y), x=slice(ox, ox + tiling.size_x))


def per_date(
    cube: xr.DataArray, run: Callable[[list[xr.DataArray]], list[xr.DataArray]]
) -> xr.DataArray:
    """``run`` over every date of ``cube`` (dims ``bands, y, x``, the date in
    ``attrs["t"]``), the results stacked along ``t`` again."""
    if "t" not in cube.dims:
        return run([cube])[0]
    dates = [cube.isel(t=i) for i in range(cube.sizes["t"])]
    for date in dates:
        date.attrs["t"] = str(np.datetime_as_string(date["t"].values, unit="s")) + "Z"
    slices = [d.drop_vars("t") for d in dates]
    results = run(slices)
    return xr.concat(results, dim=cube["t"], join="override")


def label_like(result: xr.DataArray, source: xr.DataArray, dim: str) -> xr.DataArray:
    """Give ``result`` the labels of ``source`` along ``dim`` when it lost them."""
    lost = dim in result.dims and dim not in result.coords and dim in source.coords
    if lost and result.sizes[dim] == source.sizes[dim]:
        return result.assign_coords({dim: source[dim].values})
    return result


def band_metadata_kept(result: xr.DataArray, source: xr.DataArray, code: str) -> xr.DataArray:
    """``result``'s bands named as Copernicus names them after a UDF without
    ``apply_metadata``: it keeps the cube's band metadata (geopysparkdatacube.py
    ``apply_tiles`` L935-938), so the bands are the input's names in order, whatever the
    UDF's array called them, and a band beyond them ``unkown_band_<i>`` (sic; the
    netCDF writer's name, geotrellis-extensions NetCDFRDDWriter.scala L176-181). A
    warning says so when the UDF's names differ."""
    if "apply_metadata" in code or "bands" not in result.dims or "bands" not in source.coords:
        return result
    given = [str(b) for b in result["bands"].values] if "bands" in result.coords else None
    names = [str(b) for b in source["bands"].values]
    count = result.sizes["bands"]
    from hybrid.backends.local.processes.cube_dimensions import (
        names_as_written,
        with_band_names,
    )

    kept = names_as_written(names, count)
    if given is not None and given != kept:
        from hybrid.run_warnings import warn

        warn(_renamed_note(given, kept, names))
    return with_band_names(result.assign_coords(bands=kept), "bands", names)


def _renamed_note(given: list[str], kept: list[str], names: list[str]) -> str:
    """The warning of :func:`band_metadata_kept`. With fewer bands than the cube had,
    Copernicus's metadata still names all of them: its netCDF writer then defines a
    variable per name and fills only the first ones (the branch meant to cut the names
    repeats the ``<`` test, NetCDFRDDWriter.scala L176-186, L195-197), and its JSON
    writer, finding the count out of sync, names the bands ``band_<i>``
    (geopysparkdatacube.py ``_collect_as_xarray`` L2903-2905). Not emulated here."""
    note = (
        f"the UDF returned the bands {given}; Copernicus keeps the cube's band names "
        f"unless the UDF defines apply_metadata, so they are {kept}"
    )
    if len(kept) >= len(names):
        return note + " (as here)"
    extra = names[len(kept) :]
    return (
        f"{note} here, while Copernicus's metadata keeps all of {names}: its netCDF "
        f"also holds the variables {extra} with no values, its JSON names the bands "
        "band_0... (or fails without t); add apply_metadata or rename_labels to name them"
    )


def restore(result: xr.DataArray, added_bands: bool) -> Any:
    """Drop the ``bands`` dimension :func:`canonical` added, when it is still single."""
    if added_bands and "bands" in result.dims and result.sizes["bands"] == 1:
        return result.isel(bands=0, drop=True)
    return result
