"""resample_spatial: reprojection and/or a new resolution, with odc-geo (lazy).

openeo-processes-dask's version labels the result with the SOURCE reference system
(``reprojected.attrs["crs"] = data_cp.rio.crs``), keeps the source resolution's number
in the target units (10 m becomes 10 degrees in EPSG:4326) and needs rioxarray's CRS,
which the local cubes do not carry.

Here: the CRS comes from the cube (``attrs["crs"]``, as the loader writes it), the
target grid is odc-geo's for the target CRS (``resolution`` 0 = odc-geo's choice of a
resolution equivalent to the source one; a number or ``[x, y]`` in the target units),
and every method of the openEO spec maps to GDAL's resampling of the same name
(``near`` = nearest, ``cubicspline`` = cubic_spline). Nodata is NaN. ``align`` is
accepted and ignored, as on Copernicus (openeo-geopyspark-driver,
openeogeotrellis/geopysparkdatacube.py, ``resample_spatial``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.backends.local.processes.vector import cube_crs
from hybrid.errors import ProcessParameterInvalid

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
    "q1": "q1",
    "q3": "q3",
    "rms": "rms",
    "sum": "sum",
}


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
) -> Any:
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import xr_reproject

    if method not in METHODS:
        raise ProcessParameterInvalid(
            f"resample_spatial: method '{method}' is unknown; use one of {', '.join(METHODS)}"
        )
    for dim in ("x", "y"):
        if dim not in data.dims:
            raise ProcessParameterInvalid(f"resample_spatial: the cube has no '{dim}' dimension")
    source = cube_crs(data, "resample_spatial")
    target = _target_crs(projection, source)
    res = _resolution(resolution)
    if target == source and res is None:
        return data
    src = data.drop_vars([c for c in data.coords if c not in data.dims])
    from odc.geo.xr import assign_crs

    src = assign_crs(src.transpose(..., "y", "x"), crs=source)
    if res is None:
        how: Any = target
        out = xr_reproject(src, how, resampling=METHODS[method], dst_nodata=np.nan)
    else:
        box = GeoBox.from_bbox(
            src.odc.geobox.extent.to_crs(target).boundingbox, target, resolution=res
        )
        out = xr_reproject(src, box, resampling=METHODS[method], dst_nodata=np.nan)
    renames = {d: n for d, n in (("longitude", "x"), ("latitude", "y")) if d in out.dims}
    out = out.rename(renames) if renames else out
    out = out.drop_vars([c for c in out.coords if c not in out.dims])
    out = out.transpose(*data.dims)
    epsg = target.to_epsg()
    out.attrs = {**data.attrs, "crs": f"EPSG:{epsg}" if epsg else target.to_wkt()}
    if epsg:
        out.attrs["epsg"] = epsg
    else:
        out.attrs.pop("epsg", None)
    return out
