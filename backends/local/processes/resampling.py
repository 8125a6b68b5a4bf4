"""resample_spatial: reprojection and/or a new resolution, with odc-geo (lazy).

openeo-processes-dask's version labels the result with the SOURCE reference system
(``reprojected.attrs["crs"] = data_cp.rio.crs``), keeps the source resolution's number
in the target units (10 m becomes 10 degrees in EPSG:4326) and needs rioxarray's CRS,
which the local cubes do not carry.

Here: the CRS comes from the cube (``attrs["crs"]``, as the loader writes it), the
target grid is odc-geo's for the target CRS (``resolution`` 0 = odc-geo's choice of a
resolution equivalent to the source one; a number or ``[x, y]`` in the target units);
a new pixel size in the load's own CRS keeps the Copernicus load layout (``_on_layout``),
and the openEO spec's methods map to GDAL's resampling of the same name
(``near`` = nearest, ``cubicspline`` = cubic_spline), except those Copernicus has none
for (:data:`NEAR_ON_COPERNICUS`), which resample with ``near`` as there. Nodata is NaN.
An integer cube's resampled values are stored as whole numbers, as Copernicus stores
them (:mod:`hybrid.backends.local.resample_pushdown`). ``align`` is accepted and
ignored, as on Copernicus (openeo-geopyspark-driver,
openeogeotrellis/geopysparkdatacube.py, ``resample_spatial``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hybrid.backends.local.processes.vector import cube_crs
from hybrid.backends.local.resample_pushdown import stored
from hybrid.errors import ProcessParameterInvalid
from hybrid.grid import pixel_step
from hybrid.limits import check_resample_pixels

#: cube attribute set by the loads: the Copernicus load layout (xmin, ymax, pixel size,
#: columns, rows) of the extent (with any kernel buffer) snapped to the load grid
LAYOUT = "load_layout"
#: pixels per side of a Copernicus layout tile (DataCubeParameters.tileSize default)
TILE = 256

#: openEO method -> GDAL/rasterio resampling name
METHODS = {
    "near": "nearest",
    "bilinear": "bilinear",
    "cubic": "cubic",
    "cubicspline": "cubic_spline",
    "lanczos": "lanczos",
    "average": "average",
    "mode": "mode",
    "max": "max",
    "min": "min",
    "med": "med",
}
#: the spec's methods Copernicus has no resampling for: it logs "Invalid/unsupported
#: resample method" and resamples with near (openeo-geopyspark-driver
#: geopysparkdatacube.py ``_get_resample_method`` L1694-1710, used by resample_spatial,
#: resample_cube_spatial and the load push-down, datacube_parameters.py L74)
NEAR_ON_COPERNICUS = ("q1", "q3", "rms", "sum")


def copernicus_method(method: str, process: str) -> str:
    """The method Copernicus resamples with for the openEO ``method`` (a warning when it
    is not the one asked for); an unknown one refused in one line."""
    if method in NEAR_ON_COPERNICUS:
        from hybrid.run_warnings import warn

        warn(
            f"{process}: Copernicus has no '{method}' resampling and falls back to 'near' "
            "(with a warning in its log); so does this run, to give the same values"
        )
        return "near"
    if method not in METHODS:
        raise ProcessParameterInvalid(
            f"{process}: method '{method}' is unknown; use one of "
            f"{', '.join([*METHODS, *NEAR_ON_COPERNICUS])}"
        )
    return method


def _target_crs(projection: Any, source: Any) -> Any:
    import pyproj

    if projection is None:
        return source
    projection = getattr(projection, "root", projection)
    try:
        return pyproj.CRS.from_user_input(
            int(projection) if str(projection).isdigit() else projection
        )
    except pyproj.exceptions.CRSError as exc:
        raise ProcessParameterInvalid(
            f"resample_spatial: projection {projection!r} is not a known reference system ({exc})"
        ) from None


def _resolution(resolution: Any) -> Any:
    if isinstance(resolution, list | tuple):
        if len(resolution) != 2:
            raise ProcessParameterInvalid("resample_spatial: resolution needs [x, y]")
        x, y = (float(v) for v in resolution)
    else:
        x = y = float(resolution or 0)
    if x < 0 or y < 0 or (x == 0) != (y == 0):
        raise ProcessParameterInvalid(f"resample_spatial: invalid resolution {resolution!r}")
    if x == 0:
        return None
    from odc.geo import resxy_

    return resxy_(x, -y)


def resample_spatial(
    data: Any,
    resolution: Any = 0,
    projection: Any = None,
    method: str = "near",
    align: str = "upper-left",
    integer_resampling: str | None = None,
    in_load: bool = False,
) -> Any:
    """``integer_resampling``: the cube is an integer one (cell_types marks it) and its
    resampled values are stored as whole numbers this way
    (:func:`hybrid.backends.local.resample_pushdown.stored`). ``in_load``: Copernicus
    resamples in the load (:func:`hybrid.backends.local.resample_pushdown.push_down`), on
    the load's extent snapped to multiples of the new pixel size."""
    method = copernicus_method(method, "resample_spatial")
    for dim in ("x", "y"):
        if dim not in data.dims:
            raise ProcessParameterInvalid(f"resample_spatial: the cube has no '{dim}' dimension")
    source = cube_crs(data, "resample_spatial")
    target = _target_crs(projection, source)
    res = _resolution(resolution)
    if target == source and res is None:
        return data
    if res is not None:
        check_resample_pixels(data, source, target, res)
    out, layout = _resampled(data, (source, target), res, METHODS[method], in_load)
    renames = {d: n for d, n in (("longitude", "x"), ("latitude", "y")) if d in out.dims}
    out = out.rename(renames) if renames else out
    out = out.drop_vars([c for c in out.coords if c not in out.dims])
    out = out.transpose(*data.dims)
    if integer_resampling is not None and method != "near":
        out = stored(out, integer_resampling)
    out.attrs = _attributes(data.attrs, target, layout, reprojected=target != source)
    return out


def _resampled(
    data: Any, crs: tuple[Any, Any], res: Any, resampling: Any, in_load: bool
) -> tuple[Any, tuple[float, ...] | None]:
    """``data`` (y, x last) warped from ``crs`` (source, target) to the resolution ``res``
    (None: the target CRS's own), on the grid Copernicus would give it, and the new load
    layout when a reprojection moved it (else None)."""
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import assign_crs, xr_reproject

    source, target = crs
    src = data.drop_vars([c for c in data.coords if c not in data.dims])
    src = assign_crs(src.transpose(..., "y", "x"), crs=source)
    layout = data.attrs.get(LAYOUT)
    if res is None:
        return xr_reproject(src, target, resampling=resampling, dst_nodata=np.nan), None
    if target == source and layout and in_load:
        from hybrid.backends.local.processes.load_warp import on_lattice

        return on_lattice(src, layout, res, resampling), None
    if target == source and layout:
        return _on_layout(src, layout, res, resampling), None
    if layout and not in_load:
        return _on_reprojected_layout(src, layout, (source, target), res, resampling)
    box = GeoBox.from_bbox(src.odc.geobox.extent.to_crs(target).boundingbox, target, resolution=res)
    return xr_reproject(src, box, resampling=resampling, dst_nodata=np.nan), None


def _attributes(
    attrs: dict[str, Any], target: Any, layout: Any, *, reprojected: bool
) -> dict[str, Any]:
    """The attributes of a cube resampled into ``target``: its CRS; once reprojected,
    the new layout (:data:`LAYOUT`) when known, else none (the load's is in its CRS)."""
    from hybrid.backends.local.file_pixels import FILE_PIXELS

    epsg = target.to_epsg()
    found = {**attrs, "crs": f"EPSG:{epsg}" if epsg else target.to_wkt(), FILE_PIXELS: {}}
    if reprojected:
        found.pop(LAYOUT, None)
        if layout is not None:
            found[LAYOUT] = layout
    if epsg:
        found["epsg"] = epsg
    else:
        found.pop("epsg", None)
    return found


def resample_cube_spatial(
    data: Any,
    target: Any,
    method: str = "near",
    options: Any = None,
    integer_resampling: str | None = None,
) -> Any:
    """openeo-processes-dask's resample_cube_spatial; an integer cube's values stored as
    whole numbers as :func:`resample_spatial` stores them; the result in the target's
    CRS and layout (the stock process keeps the data's ``epsg``, so a target in another
    CRS was cropped at save_result in the data's) over the data's extent, as Copernicus
    (:func:`hybrid.backends.local.processes.target_layout.layout_over`; it had the target's)."""
    from openeo_processes_dask.process_implementations.cubes.resample import (
        resample_cube_spatial as stock,
    )

    from hybrid.backends.local.processes.target_layout import layout_over

    method = copernicus_method(method, "resample_cube_spatial")
    crs = cube_crs(target, "resample_cube_spatial")
    reprojected = crs != cube_crs(data, "resample_cube_spatial")
    layout = target.attrs.get(LAYOUT)
    target = layout_over(target, data, "resample_cube_spatial")
    out = stock(data=data, target=target, method=method, options=options)
    if integer_resampling is not None and method != "near":
        out = out.copy(data=stored(out.data, integer_resampling))
    out.attrs = _attributes(dict(out.attrs), crs, layout, reprojected=reprojected)
    return out


def _on_layout(src: Any, layout: Any, res: Any, resampling: str) -> Any:
    """``src`` at a new pixel size on the grid Copernicus resamples to, NaN where its
    load has no data.

    The load's layout starts at the west and north edges of its (snapped) extent and
    holds whole 256-px tiles, read in full, so there are real values east and south of
    the extent up to the tiles' edges and none beyond them (geotrellis
    ``LayoutDefinition(grid, tileCols, tileRows)`` pads right and down;
    openeo-geotrellis-extensions DatacubeSupport.scala ``getLayout`` L42-97,
    FileLayerProvider.scala ``rasterRegionForKey`` L1284-1297). resample_spatial keeps
    that layout's west and SOUTH edges and only changes the pixel size
    (openeo-geopyspark-driver geopysparkdatacube.py ``_layout_for_resolution``
    L1661-1692, ``tile_to_layout`` L1588-1590)."""
    from affine import Affine
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import xr_reproject

    xmin, ymax, size, cols, rows = (float(v) for v in layout)
    east = xmin + math.ceil(cols / TILE) * TILE * size
    south = ymax - math.ceil(rows / TILE) * TILE * size
    rx, ry = abs(float(res.x)), abs(float(res.y))
    have = src.odc.geobox.extent.boundingbox
    first_col = math.floor((have.left - xmin) / rx)
    last_col = math.ceil((have.right - xmin) / rx)
    first_row = math.floor((have.bottom - south) / ry)
    last_row = math.ceil((have.top - south) / ry)
    top = south + last_row * ry
    box = GeoBox(
        (last_row - first_row, last_col - first_col),
        Affine(rx, 0.0, xmin + first_col * rx, 0.0, -ry, top),
        src.odc.geobox.crs,
    )
    out = xr_reproject(src, box, resampling=resampling, dst_nodata=np.nan)
    x, y = out.coords[box.dimensions[1]], out.coords[box.dimensions[0]]
    inside = (x >= xmin) & (x < east) & (y > south) & (y <= ymax)
    return out.where(inside)


def _on_reprojected_layout(
    src: Any, layout: Any, crs: tuple[Any, Any], res: Any, resampling: str
) -> tuple[Any, tuple[float, ...] | None]:
    """``src`` in the target CRS (``crs``: source, target) at a new pixel size, on the
    grid Copernicus resamples to, and that grid's layout (None for unequal x/y sizes).

    Copernicus reprojects the extent of its load layout (whole 256-px tiles,
    :func:`_on_layout`) by its four corners and lays the new pixels from the envelope's
    south-west corner, in whole tiles (openeo-geopyspark-driver geopysparkdatacube.py
    ``resample_spatial`` L1558-1590, ``_reproject_extent`` L2931-2946,
    ``_layout_for_resolution`` L1661-1692); save_result then crops to the load's extent
    (:mod:`hybrid.backends.local.result_crop`). The pixels of that grid around
    ``src`` are computed here."""
    from affine import Affine
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import xr_reproject

    from hybrid.grid import corner_envelope

    xmin, ymax, size, cols, rows = (float(v) for v in layout)
    east = xmin + math.ceil(cols / TILE) * TILE * size
    south = ymax - math.ceil(rows / TILE) * TILE * size
    west0, south0, east0, north0 = corner_envelope((xmin, south, east, ymax), *crs)
    rx, ry = abs(float(res.x)), abs(float(res.y))
    have = src.odc.geobox.extent.to_crs(crs[1]).boundingbox
    first_col = max(math.floor((have.left - west0) / rx), 0)
    last_col = math.ceil((have.right - west0) / rx)
    first_row = max(math.floor((have.bottom - south0) / ry), 0)
    last_row = math.ceil((have.top - south0) / ry)
    box = GeoBox(
        (last_row - first_row, last_col - first_col),
        Affine(rx, 0.0, west0 + first_col * rx, 0.0, -ry, south0 + last_row * ry),
        crs[1],
    )
    out = xr_reproject(src, box, resampling=resampling, dst_nodata=np.nan)
    if rx != ry:
        return out, None
    tiles_x = math.ceil(math.ceil((east0 - west0) / rx) / TILE)
    tiles_y = math.ceil(math.ceil((north0 - south0) / ry) / TILE)
    return out, (west0, south0 + tiles_y * TILE * ry, rx, tiles_x * TILE, tiles_y * TILE)


def _nearest_index(centres: Any, source: Any) -> tuple[Any, Any]:
    """For each of ``centres``, the index of the ``source`` pixel containing it (regular
    ``source`` centres) and whether there is one."""
    source = np.asarray(source, dtype=np.float64)
    step = pixel_step(source, 1.0)
    position = np.floor((np.asarray(centres, dtype=np.float64) - source[0]) / step + 0.5)
    inside = (position >= 0) & (position < source.size)
    return np.clip(position, 0, max(source.size - 1, 0)).astype(np.int64), inside


def onto_grid(cube: Any, reference: Any, process: str) -> Any:
    """``cube`` on the x/y pixels of ``reference`` by nearest neighbour (reprojected first
    if its CRS differs): each reference pixel takes the ``cube`` pixel its centre lies
    in, NaN where there is none. Copernicus resamples a mask onto the data's layout and
    the second cube of merge_cubes onto the first's this way (openeo-geotrellis-extensions
    ``OpenEOProcesses.scala`` ``rasterMask`` L1072-1079, ``resampleCubeSpatial_spacetime``
    with ``NearestNeighbor``)."""
    import xarray as xr

    if cube_crs(cube, process) != cube_crs(reference, process):
        epsg = cube_crs(reference, process).to_epsg()
        cube = resample_spatial(cube, projection=epsg or cube_crs(reference, process).to_wkt())
    cols, in_x = _nearest_index(reference["x"].values, cube["x"].values)
    rows, in_y = _nearest_index(reference["y"].values, cube["y"].values)
    picked = cube.isel(x=xr.DataArray(cols, dims="x"), y=xr.DataArray(rows, dims="y"))
    picked = picked.assign_coords(x=reference["x"].values, y=reference["y"].values)
    inside = xr.DataArray(in_y, dims="y") & xr.DataArray(in_x, dims="x")
    if bool(inside.all()):
        return picked
    out = picked.where(inside)
    out.attrs = dict(picked.attrs)
    return out


def same_grid(a: Any, b: Any) -> bool:
    """Whether two cubes have the same x and y labels (up to 1e-6)."""
    for dim in ("x", "y"):
        one, other = np.asarray(a[dim].values), np.asarray(b[dim].values)
        if one.shape != other.shape or not np.allclose(one, other, rtol=0, atol=1e-6):
            return False
    return True
