"""The raw input of a workflow, as an independent check computes on it with numpy.

Each workflow test downloads the bands it needs with a bare ``load_collection`` (same
server, same AOI and dates) as netCDF and recomputes the workflow's answer in numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

#: a 63 x 89 px field in the middle of the embedded sample (the seed AOI)
BBOX = {"west": 6.660, "south": 45.236, "east": 6.668, "north": 45.244}
#: a few weeks of the sample: five dates, some of them cloudy. Not 9 June: that day a
#: second orbit covers part of the area, and which one a pixel takes then depends on the
#: extent loaded (Copernicus's per-key overlap rule), which a kernel's buffer widens
DATES = ["2023-06-10", "2023-07-05"]


def raw_bands(
    connection: Any,
    bands: Sequence[str],
    path: Path,
    *,
    bbox: Mapping[str, Any] = BBOX,
    dates: Sequence[str] = DATES,
    **load: Any,
) -> xr.Dataset:
    """The bands of ``bbox`` over ``dates`` as the server loads them (netCDF, in memory)."""
    cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=dict(bbox),
        temporal_extent=list(dates),
        bands=list(bands),
        **load,
    )
    cube.download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def read_tiff(path: Path) -> np.ndarray:
    import rasterio

    with rasterio.open(path) as ds:
        out: np.ndarray = ds.read().astype(np.float64)
        if ds.nodata is not None and not np.isnan(ds.nodata):
            out[out == ds.nodata] = np.nan
        return out


def dilation_masks(
    connection: Any,
    path: Path,
    like: xr.Dataset,
    dates: Sequence[str],
    *,
    kernels: tuple[int, int, int] = (17, 77, 3),
    **load: Any,
) -> xr.DataArray:
    """(t, y, x) booleans: ``to_scl_dilation_mask(kernel1_size=17, kernel2_size=77,
    erosion_kernel_size=3)`` (the notebooks' arguments; ``kernels`` gives other
    ``(kernel1_size, kernel2_size, erosion_kernel_size)``, the process's defaults are
    ``(17, 201, 0)``) of the SCL on ``like``'s grid for the SCL load's dates (``load``:
    e.g. its ``max_cloud_cover``), computed by the CloudFilterStrategy reference
    (tests/engine/scl_reference.py) on the SCL read ceil(kernel2_size / 2) px (39 for
    77) wider each side, as Copernicus reads it for the kernel (load_params.py), zero
    beyond the data."""
    import pyproj

    from tests.engine.scl_reference import ref_mask

    xs, ys, step = like["x"].values, like["y"].values, 10.0
    crs = like["crs"].attrs["crs_wkt"]
    to_lonlat = pyproj.Transformer.from_crs(pyproj.CRS.from_wkt(crs), 4326, always_xy=True)
    k1, k2, erosion = kernels
    px = -(-k2 // 2)
    margin = (px + 21) * step
    lon0, lat0 = to_lonlat.transform(xs[0] - margin, ys[-1] - margin)
    lon1, lat1 = to_lonlat.transform(xs[-1] + margin, ys[0] + margin)
    wide = {"west": lon0, "south": lat0, "east": lon1, "north": lat1}
    scl = raw_bands(connection, ["SCL"], path, bbox=wide, dates=dates, **load)["SCL"]
    buffered = scl.sel(
        x=slice(xs[0] - px * step, xs[-1] + px * step),
        y=slice(ys[0] + px * step, ys[-1] - px * step),
    )
    assert buffered.sizes["x"] == xs.size + 2 * px and buffered.sizes["y"] == ys.size + 2 * px
    masks = [ref_mask(v, erosion=erosion, k1=k1, k2=k2)[px:-px, px:-px] for v in buffered.values]
    return xr.DataArray(np.stack(masks), dims=("t", "y", "x"), coords={"t": scl["t"].values})


def finite_share(values: np.ndarray) -> float:
    return float(np.isfinite(values).mean())


def nanmax_t(values: np.ndarray) -> np.ndarray:
    """Max over the first (time) axis ignoring NaN; NaN where every date is NaN."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = np.nanmax(values, axis=0)
    return out


def pixels_inside(raw: xr.Dataset, geometry: Any) -> np.ndarray:
    """(y, x) booleans: the pixels of ``raw`` whose centre lies in the lon/lat
    ``geometry`` (GeoJSON or shapely), the pixels Copernicus takes for a polygon."""
    import pyproj
    import shapely
    from shapely.geometry import shape
    from shapely.ops import transform

    polygon = shape(geometry) if isinstance(geometry, Mapping) else geometry
    crs = pyproj.CRS.from_wkt(raw["crs"].attrs["crs_wkt"])
    to_grid = pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform
    xs, ys = np.meshgrid(raw["x"].values, raw["y"].values)
    out: np.ndarray = shapely.contains_xy(transform(to_grid, polygon), xs, ys)
    return out


def _field(ring: list[tuple[float, float]], **properties: Any) -> dict[str, Any]:
    coordinates = [[list(p) for p in (*ring, ring[0])]]
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": coordinates},
    }


_W, _S, _E, _N = BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"]
#: two fields inside BBOX ("Field A", "Field B" of the client's docs/basics.rst)
FIELDS = {
    "type": "FeatureCollection",
    "features": [
        _field([(_W + 0.001, _S + 0.001), (_W + 0.004, _S + 0.0012),
                (_W + 0.0042, _S + 0.003), (_W + 0.001, _S + 0.003)], name="A", area_ha=1.5),
        _field([(_E - 0.003, _N - 0.003), (_E - 0.001, _N - 0.003),
                (_E - 0.001, _N - 0.001), (_E - 0.003, _N - 0.0012)], name="B"),
    ],
}  # fmt: skip
