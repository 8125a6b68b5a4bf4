"""aspect and slope: Horn's gradient of each band, as Copernicus computes them.

Copernicus's experimental processes (openeo-python-driver 9e5b49b2
``process_implementations/terrain.py`` L8-45; openeo-geopyspark-driver 9baf2e10
``geopysparkdatacube.py`` ``aspect``/``slope`` L3156-3176, radians since 5b39ad86,
CHANGELOG "aspect and slope processes now return radians instead of degrees") call
geotrellis-extensions' ``OpenEOProcesses.aspect``/``slope``, which are newer than the
snapshot of that repository read here (2a25a26e, October 2024). What they compute is
taken from geotrellis's surface calculation (locationtech/geotrellis 72e24891
``raster/mapalgebra/focal/hillshade/SurfacePointCalculation.scala``, ``SurfacePoint``)
and pinned by the driver's own tests (``tests/test_apply_process.py`` ``test_aspect``,
``test_slope``: exact values, reproduced in ``tests/engine/test_terrain.py``):

- per band and date, each pixel's 3 x 3 neighbourhood gives Horn's partial derivatives,
  ``dz/dx = (ne + 2e + se - nw - 2w - sw) / (8 cell width)`` and ``dz/dy = (sw + 2s +
  se - nw - 2n - ne) / (8 cell height)``, rows counted downwards (y grows to the
  south); a neighbour that is no data, or beyond the cube's edge, counts as the
  pixel's own value; a pixel that is no data gives NaN;
- aspect is ``atan2(dz/dy, -dz/dx)`` in [0, 2 pi): the direction the slope faces
  (downhill), counter-clockwise from east (east 0, north pi/2, west pi, south 3 pi/2);
  NaN where flat (both derivatives 0). The driver's description says "from due North";
  its code and test do not (a surface rising to the east, facing west, is pi);
- slope is ``atan(z * sqrt((dz/dx)^2 + (dz/dy)^2))`` in radians with ``z`` 1 in a
  projected reference system (cell sizes in its units, metres for UTM) and, in a
  geographic one, ``1 / (111320 cos(latitude))`` with the latitude of the centre of
  the layout tile ("key") the pixel lies in, cell sizes in degrees: the driver's test
  value, ``8.988587354220929e-06`` for one unit per 1-degree cell of a key centred at
  2 degrees, is that formula to the last digit (geopyspark-geotrellis
  ``ZFactorCalculator.createLatLngZFactorCalculator`` has the same form). Keys are
  counted from the cube's top-left pixel, as large as Copernicus makes them for the
  cube's size (:func:`hybrid.stac.overlap.key_size`);
- the result is float64 (the test compares a cell with ``math.pi`` exactly) and each
  band is renamed ``<band>_aspect`` / ``<band>_slope``.

Beyond the cube's edges Copernicus's layout tiles hold no data (its COG sources read the
load's target region only and pad the rest, :mod:`hybrid.stac.overlap`), so the edge
pixels count their own value there, as here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hybrid.grid import pixel_step

#: metres of one degree, as Copernicus's latitude z-factor has it
METRES_PER_DEGREE = 111320.0


def aspect(data: Any) -> Any:
    """The aspect of every band of ``data`` in radians (module docstring)."""
    return _renamed(_surface(data, "aspect", _aspect_block), "aspect")


def slope(data: Any) -> Any:
    """The slope of every band of ``data`` in radians (module docstring)."""
    import xarray as xr

    gradient = _surface(data, "slope", _gradient_block)
    factor = _z_factors(data)
    steep = gradient if factor is None else (factor * gradient).transpose(*gradient.dims)
    return _renamed(xr.apply_ufunc(np.arctan, steep, dask="allowed", keep_attrs=True), "slope")


def _surface(data: Any, process: str, block_function: Any) -> Any:
    """``block_function(block, cell_width, cell_height)`` over every x/y slice of
    ``data`` with a one-pixel halo, NaN beyond the edges (float64, lazily)."""
    from hybrid.backends.local.cube_arrays import as_cube, require_raster, values_last
    from hybrid.backends.local.halo import map_with_border

    require_raster(data, process)
    cube, values = values_last(data, ("y", "x"))
    width, height = _cell_sizes(cube)
    out = map_with_border(
        block_function, values.astype(np.float64), (1, 1), np.float64, width=width, height=height
    )
    return as_cube(out, cube, data)


def _cell_sizes(cube: Any) -> tuple[float, float]:
    """The width and height of a pixel from the coordinates (one axis of one pixel
    takes the other's; a lone pixel's gradient is 0 whatever its size)."""
    sizes = []
    for dim in ("x", "y"):
        coords = np.asarray(cube[dim].values, dtype=np.float64)
        step = pixel_step(coords)
        sizes.append(None if step is None else abs(step))
    width, height = sizes
    return width or height or 1.0, height or width or 1.0


def _neighbours(block: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The centre of a haloed block and its eight neighbours, each no-data neighbour
    replaced by the centre's value (geotrellis ``calcSurface``)."""
    centre = block[..., 1:-1, 1:-1]
    rows = {"n": slice(0, -2), "": slice(1, -1), "s": slice(2, None)}
    cols = {"w": slice(0, -2), "": slice(1, -1), "e": slice(2, None)}
    found = {}
    for row_name, row in rows.items():
        for col_name, col in cols.items():
            if row_name or col_name:
                value = block[..., row, col]
                found[row_name + col_name] = np.where(np.isnan(value), centre, value)
    return centre, found


def _derivatives(block: np.ndarray, width: float, height: float) -> tuple[Any, Any]:
    """Horn's dz/dx, dz/dy of a haloed block's centre, summed in geotrellis's order (the
    same float64 results); NaN where the centre is no data."""
    centre, v = _neighbours(block)
    dzdx = (v["ne"] + 2 * v["e"] + v["se"] - v["nw"] - 2 * v["w"] - v["sw"]) / (8 * width)
    dzdy = (v["sw"] + 2 * v["s"] + v["se"] - v["nw"] - 2 * v["n"] - v["ne"]) / (8 * height)
    missing = np.isnan(centre)
    return np.where(missing, np.nan, dzdx), np.where(missing, np.nan, dzdy)


def _framed(inner: np.ndarray, block: np.ndarray) -> np.ndarray:
    """``inner`` (the block without its outer ring) in a NaN frame of ``block``'s shape."""
    out = np.full(block.shape, np.nan)
    out[..., 1:-1, 1:-1] = inner
    return out


def _aspect_block(block: np.ndarray, width: float, height: float) -> np.ndarray:
    """geotrellis ``SurfacePoint.aspect``: NaN where flat, [0, 2 pi) elsewhere."""
    dzdx, dzdy = _derivatives(block, width, height)
    angle = np.arctan2(dzdy, -dzdx)
    angle = np.where(angle < 0, angle + 2 * math.pi, angle)
    angle = np.where(angle == 2 * math.pi, 0.0, angle)
    angle = np.where((dzdx == 0) & (dzdy == 0), np.nan, angle)
    return _framed(angle, block)


def _gradient_block(block: np.ndarray, width: float, height: float) -> np.ndarray:
    """sqrt((dz/dx)^2 + (dz/dy)^2), NaN where the pixel is no data."""
    dzdx, dzdy = _derivatives(block, width, height)
    return _framed(np.sqrt(dzdx * dzdx + dzdy * dzdy), block)


def _z_factors(data: Any) -> Any:
    """None in a projected reference system; in a geographic one, per row, 1 / (111320
    cos(latitude of the centre of the row's layout tile)) (module docstring)."""
    import xarray as xr

    from hybrid.backends.local.processes.vector import cube_crs
    from hybrid.stac.overlap import key_size

    if not cube_crs(data, "slope").is_geographic:
        return None
    y = np.asarray(data["y"].values, dtype=np.float64)
    _width, height = _cell_sizes(data)
    top = float(y.max()) + height / 2
    rows = np.rint((top - y) / height - 0.5)
    side = key_size(data.sizes["x"], data.sizes["y"])
    latitude = top - (rows // side + 0.5) * side * height
    factors = 1.0 / (METRES_PER_DEGREE * np.cos(latitude * (math.pi / 180)))
    return xr.DataArray(factors, dims=("y",), coords={"y": data["y"]})


def _renamed(cube: Any, suffix: str) -> Any:
    """Each band label with ``_suffix`` (a cube without bands keeps its labels)."""
    if "bands" not in cube.dims:
        return cube
    labels = [f"{band}_{suffix}" for band in cube["bands"].values]
    return cube.assign_coords(bands=labels)


def _spec(pid: str, what: str, returns: str) -> dict[str, Any]:
    return {
        "id": pid,
        "summary": f"Compute {pid} on elevation data",
        "description": what,
        "categories": ["cubes", "elevation"],
        "experimental": True,
        "parameters": [
            {"name": "data", "description": "Data cube containing elevation data.",
             "schema": {"type": "object", "subtype": "datacube"}},
        ],
        "returns": {"description": returns, "schema": {"type": "object", "subtype": "datacube"}},
    }  # fmt: skip


SPECS: dict[str, dict[str, Any]] = {
    "aspect": _spec(
        "aspect",
        "Computes the aspect of every band from elevation data (Horn's method): the "
        "direction the slope faces, in radians counter-clockwise from east (east 0, north "
        "pi/2, west pi, south 3 pi/2), NaN where flat.",
        "A data cube with the aspect of each band, named `<band>_aspect`.",
    ),
    "slope": _spec(
        "slope",
        "Computes the slope of every band from elevation data (Horn's method), in radians "
        "relative to the horizontal plane; in a geographic reference system a degree is "
        "111320 m times the cosine of the latitude.",
        "A data cube with the slope of each band, named `<band>_slope`.",
    ),
}
