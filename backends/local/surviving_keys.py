"""Which dates a load keeps: those with a layout key that survives the load, per key.

Copernicus reads a load per layout tile ("key", 256 px, 512 on large grids) and date,
and a key of a date is a tile of the cube only when all of these hold
(openeo-geotrellis-extensions 2a25a26e):

- a data mask pushed into the load (``mask`` without replacement right after it) has a
  0 in the key's first band, read as integers: ``prepareMask`` keeps only those mask
  tiles (geotrellis-common DatacubeSupport.scala L279-293), and the data's keys are
  inner-joined with them before anything is read (FileLayerProvider.scala
  ``applySpaceTimeMask`` L406-428) and again after the read (DatacubeSupport.scala
  ``applyDataMask`` L262-265);
- a mask_scl_dilation applied while loading leaves a pixel of the key unmasked
  (``SCLConvolutionFilterStrategy.loadMasked`` returns no tile for a key masked all
  over, CloudFilterStrategy.scala L60-159, and masks the others' read, L152-153);
- the key's read (masked by the SCL dilation, not yet by the data mask) holds a value in
  some band: every all-no-data tile is dropped (FileLayerProvider.scala L664, L708,
  ``retainNoDataTiles`` false, L332).

A cube's dates are the dates of its tiles (NetCDFRDDWriter.scala L136-146), so a date
stays when ONE of its keys survives: a date whose only key with data is masked all
over, and whose clear key is empty, is gone. This module holds that rule
(:func:`per_key`, :func:`surviving`); the three places that apply it while loading
read as little as they can for it: the loader's empty dates
(:mod:`hybrid.backends.local.empty_dates`, load_stac's in
:mod:`hybrid.backends.local.stac_cube`), a mask applied in the load
(:mod:`hybrid.backends.local.processes.masking`) and mask_scl_dilation
(:mod:`hybrid.backends.local.processes.scl_dilation`).

Not followed: the data's keys are tested within its grid where a pushed mask reads them
(Copernicus reads them whole, past the extent east and south); a mask key whose own
load held no value (a comparison of a no-data SCL is 0 here, clear) clears the key,
where Copernicus has no mask tile there to join; a load none of whose keys survives
keeps its dates (an empty cube has no form here), except under a pushed mask.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: true in dask's config while a load's dates are probed: those computes read the load
#: (or a mask applied in it) only, before save_result computes the graph, and a dask
#: callback can tell them apart
PROBE = "hybrid.date-probe"


@dataclass(frozen=True)
class KeyLayout:
    """Layout keys in a cube's CRS: key (0, 0)'s north-west corner, the keys' side in CRS
    units, and how many keys there are down and across (pixels of other keys count in
    none)."""

    west: float
    north: float
    step: float
    rows: int
    cols: int

    def index(self, cube: Any) -> np.ndarray:
        """(y, x): the key number (row * cols + col) of each pixel centre of ``cube``,
        -1 outside the layout's keys."""
        rows = np.floor((self.north - cube["y"].values) / self.step).astype(int)
        cols = np.floor((cube["x"].values - self.west) / self.step).astype(int)
        down = (rows >= 0) & (rows < self.rows)
        inside = down[:, None] & ((cols >= 0) & (cols < self.cols))[None, :]
        return np.where(inside, rows[:, None] * self.cols + cols[None, :], -1)


def layout_over(west: float, north: float, side: float, extent: Sequence[float]) -> KeyLayout:
    """The keys of ``side`` laid from (``west``, ``north``) that cover ``extent`` (west,
    south, east, north), renumbered from the first of them."""
    left, bottom, right, top = extent
    first_col, first_row = math.floor((left - west) / side), math.floor((north - top) / side)
    cols = math.ceil((right - west) / side) - first_col
    rows = math.ceil((north - bottom) / side) - first_row
    return KeyLayout(west + first_col * side, north - first_row * side, side, rows, cols)


def with_data(cube: Any) -> Any:
    """(t, y, x): whether a pixel holds a value in some band (lazy)."""
    from hybrid.backends.local.processes.cube_dimensions import band_dimension

    bands = band_dimension(cube)
    valid = cube.notnull()
    return valid if bands is None else valid.any(dim=bands)


def clear_pixels(mask: Any) -> Any:
    """(t, y, x): the pixels a data mask leaves to the load, as ``prepareMask`` reads
    them: its first band as integers (``toArray``: a float in (-1, 1) is 0, NaN is no
    data) equal to 0."""
    from hybrid.backends.local.processes.cube_dimensions import band_dimension

    bands = band_dimension(mask)
    first = mask.isel({bands: 0}, drop=True) if bands is not None else mask
    return abs(first) < 1 if first.dtype.kind == "f" else first == 0


def per_key(flags: Any, layout: KeyLayout | None, only: Sequence[int] | None = None) -> Any:
    """(t, key): whether each key of ``layout`` (``only`` those given) holds a true pixel
    of the (t, y, x) ``flags`` on each date (lazy); keys without a pixel of ``flags`` are
    not listed. ``layout`` None: the whole cube on each date is one key (0)."""
    import xarray as xr

    if layout is None:
        others = [d for d in flags.dims if d != "t"]
        return flags.any(dim=others).expand_dims(key=[0], axis=-1)
    index = layout.index(flags)
    keys = np.unique(index[index >= 0])
    parts, labels = [], []
    for key in keys if only is None else np.intersect1d(keys, only):
        rows, cols = np.nonzero(index == key)
        part = flags.isel(y=slice(rows.min(), rows.max() + 1), x=slice(cols.min(), cols.max() + 1))
        parts.append(part.any(dim=("y", "x")))
        labels.append(int(key))
    if not parts:
        return flags.any(dim=("y", "x")).expand_dims(key=[], axis=-1)
    return xr.concat(parts, dim="key").assign_coords(key=labels).transpose("t", "key")


def surviving(*conditions: Any) -> np.ndarray:
    """Per date, whether some key meets every one of the (t, key) ``conditions`` (a key
    one of them does not list meets none); they are computed as a probe."""
    import xarray as xr

    both = conditions[0]
    for other in conditions[1:]:
        left, right = xr.align(both, other, join="outer", fill_value=False)
        both = left & right
    return np.asarray(computed(both.any(dim="key")), dtype=bool)


def surviving_at(keys: Any, positions: Any, flags: Any, layout: KeyLayout | None) -> np.ndarray:
    """Per date at ``positions`` of the (t, key) ``keys``, whether a key true there also
    holds a true pixel of the (t, y, x) ``flags`` of those dates: only the keys true on
    some of them are read."""
    part = keys.isel(t=positions)
    needed = part["key"].values[part.any(dim="t").values]
    return surviving(part, per_key(flags, layout, needed))


def kept_positions(survives: Sequence[bool], keep_all_if_none: bool) -> list[int]:
    """The positions of the dates that survive; all of them when none does and
    ``keep_all_if_none`` (an empty cube has no form here)."""
    kept = [i for i, keep in enumerate(survives) if keep]
    return kept if kept or not keep_all_if_none else list(range(len(survives)))


def computed(array: Any) -> Any:
    """The values of the (lazy) ``array``, computed as a probe (:data:`PROBE`)."""
    return np.asarray(probe_computed(array).values)


def probe_computed(array: Any) -> Any:
    """The (lazy) ``array`` computed as a probe (:data:`PROBE`), labels kept."""
    import dask

    from hybrid.backends.local.compute import scheduler_get

    with dask.config.set({PROBE: True}):
        return array.compute(scheduler=scheduler_get())
