"""resample_cube_spatial's grid: the target's layout over the data's extent, as Copernicus.

Copernicus's resample_cube_spatial reprojects the data's tiles onto the target's CRS and
layout (openeo-geotrellis-extensions ``OpenEOProcesses.scala`` ``resampleCubeSpatial``
L832-853) and keeps the data's metadata (openeo-geopyspark-driver 9baf2e10
``geopysparkdatacube.py`` ``resample_cube_spatial`` L1447-1485: ``metadata=self.metadata``),
whose extent save_result crops to, keeping the pixels overlapping it (L2093-2106). So the
result holds the target's pixels over the data's extent, not the target's extent.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hybrid.backends.local.processes.vector import cube_crs

#: the share of a pixel an overlap must exceed (edges equal up to rounding do not overlap)
_EDGE_TOLERANCE = 1e-6


def layout_over(target: Any, data: Any, process: str) -> Any:
    """A reference cube on ``target``'s layout (CRS, pixel size and alignment, extended
    beyond it) over ``data``'s extent: the ``target`` pixels overlapping the envelope of
    ``data``'s pixel extent reprojected by its corners into ``target``'s CRS; ``target``
    itself when either has no x/y or a single pixel along one."""
    import xarray as xr

    from hybrid.grid import corner_envelope

    dims = ("x", "y")
    if not all(c.sizes.get(d, 0) > 1 for c in (target, data) for d in dims):
        return target
    edges = {d: _pixel_edges(data[d].values) for d in dims}
    source, crs = cube_crs(data, process), cube_crs(target, process)
    bounds = (edges["x"][0], edges["y"][0], edges["x"][1], edges["y"][1])
    xmin, ymin, xmax, ymax = bounds if source == crs else corner_envelope(bounds, source, crs)
    labels = {
        "x": _overlapping_centres(target["x"].values, xmin, xmax),
        "y": _overlapping_centres(target["y"].values, ymin, ymax),
    }
    # the target's scalar coordinates too (rioxarray's ``spatial_ref`` holds its CRS)
    scalars = {str(c): target[c] for c in target.coords if not target[c].dims}
    return xr.DataArray(
        np.zeros((labels["y"].size, labels["x"].size), dtype=np.uint8),
        dims=("y", "x"),
        coords={**scalars, **labels},
        attrs=dict(target.attrs),
    )


def _pixel_edges(centres: Any) -> tuple[float, float]:
    """The outer edges of the pixels centred on a regular ``centres``."""
    values = np.asarray(centres, dtype=np.float64)
    half = abs(float(values[1] - values[0])) / 2
    return float(values.min()) - half, float(values.max()) + half


def _overlapping_centres(base: Any, low: float, high: float) -> Any:
    """The centres of ``base``'s regular grid (extended beyond it) of the pixels that
    overlap (``low``, ``high``), in ``base``'s order."""
    values = np.asarray(base, dtype=np.float64)
    origin, step = float(values[0]), float(values[1] - values[0])
    size = abs(step)
    ends = sorted(((low - origin) / step, (high - origin) / step))
    first, last = math.floor(ends[0] - 1), math.ceil(ends[1] + 1)
    centres = origin + step * np.arange(first, last + 1, dtype=np.float64)
    eps = _EDGE_TOLERANCE * size
    return centres[(centres + size / 2 > low + eps) & (centres - size / 2 < high - eps)]
