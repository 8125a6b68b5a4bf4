"""Pipeline (c): the seed workflow hand-fused in numpy/scipy, reading the COGs with rasterio.

The practical floor the engine is measured against. It computes what the process
graph computes (cloud = SCL in the cloud classes, Gaussian dilation as two 1-D
convolutions with zero border over the buffered load grid, mask where the smoothed
fraction exceeds the threshold, NDVI on harmonised DN, monthly nan-mean) but date by
date, streaming: one date's window in memory per thread, and one running sum and
count per month. The STAC catalog is read with pystac and assumed to be the benchmark's
(one item per date, one tile, already in the output CRS, no cloud filtering needed).
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hybrid.grid import BBox as _BBox
from hybrid.grid import Grid, kernel_buffer, output_grid
from hybrid.params import Workflow

#: DN offset of processing baseline >= 04.00 (the benchmark scenes are 05.09)
BOA_OFFSET = np.float32(-1000.0)


@dataclass(frozen=True)
class FusedInputs:
    catalog: Path
    bounds: tuple[float, float, float, float]
    epsg: int
    workflow: Workflow


def _items(catalog: Path, start: str, end: str, max_cloud: float | None) -> list[Any]:
    import pystac

    root = pystac.Collection.from_file(str(catalog))
    lo = dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC)
    hi = dt.datetime.fromisoformat(end).replace(tzinfo=dt.UTC)
    items = [
        i
        for i in root.get_items(recursive=True)
        if i.datetime is not None and lo <= i.datetime < hi
        and (max_cloud is None or float(i.properties.get("eo:cloud_cover", 0)) <= max_cloud)
    ]  # fmt: skip
    return sorted(items, key=lambda i: i.datetime)


def _read(href: str, grid: Grid, factor: int) -> np.ndarray:
    """The pixels of ``grid`` from a COG whose pixels are ``factor`` x the grid's (nearest)."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(href) as src:
        res = src.transform.a
        col = (grid.xmin - src.transform.c) / res
        row = (src.transform.f - grid.ymax) / res
        c0, r0 = int(np.floor(col)), int(np.floor(row))
        w = int(np.ceil(col + grid.width / factor)) - c0
        h = int(np.ceil(row + grid.height / factor)) - r0
        data = src.read(1, window=Window(c0, r0, w, h), boundless=False)
    if factor == 1:
        return data
    up = np.repeat(np.repeat(data, factor, axis=0), factor, axis=1)
    dy, dx = round((row - r0) * factor), round((col - c0) * factor)
    return up[dy : dy + grid.height, dx : dx + grid.width]


def _date_ndvi(item: Any, grid: Grid, inner: tuple[slice, slice], wf: Workflow) -> np.ndarray:
    """NDVI of one date over the inner grid, NaN where masked or nodata."""
    from scipy import ndimage

    from hybrid.kernel import gaussian_kernel

    def href(key: str) -> str:
        return item.assets[key].get_absolute_href()

    scl = _read(href("scl"), grid, 2)
    cloud = np.isin(scl, wf.cloud_classes).astype(np.float64)
    k = np.asarray(gaussian_kernel(wf.kernel_size, wf.kernel_std))
    g = k.sum(axis=1) / np.sqrt(k.sum())  # the Gaussian is the outer product g g^T
    smooth = ndimage.convolve1d(cloud, g, axis=0, mode="constant", cval=0.0)
    smooth = ndimage.convolve1d(smooth, g, axis=1, mode="constant", cval=0.0)
    keep = smooth[inner] <= wf.threshold
    red = _read(href("red"), grid, 1)[inner]
    nir = _read(href("nir"), grid, 1)[inner]
    keep &= (red != 0) & (nir != 0)
    r = red.astype(np.float32) + BOA_OFFSET
    n = nir.astype(np.float32) + BOA_OFFSET
    with np.errstate(all="ignore"):
        ndvi = (n - r) / (n + r)
    ndvi[~keep | (n + r == 0)] = np.nan  # x / 0 is NaN on Copernicus
    return ndvi


def run_fused(inputs: FusedInputs, out_dir: Path, *, threads: int = 2) -> Path:
    """Compute the monthly mean NDVI and write ``out_dir/openEO.nc``."""
    import xarray as xr
    from pyproj import CRS

    from hybrid.io.netcdf import write_netcdf

    wf = inputs.workflow
    if wf.period != "month" or wf.reducer != "mean":
        raise ValueError("the fused pipeline implements the monthly mean only")
    xmin, ymin, xmax, ymax = inputs.bounds
    grid = output_grid(_BBox(xmin, ymin, xmax, ymax, crs=f"EPSG:{inputs.epsg}"))
    buffer = kernel_buffer((wf.kernel_size, wf.kernel_size))
    load = grid.buffered(buffer)
    inner = (slice(buffer, buffer + grid.height), slice(buffer, buffer + grid.width))
    items = _items(inputs.catalog, wf.start, wf.end, wf.max_cloud_cover)
    months = sorted({i.datetime.date().replace(day=1) for i in items})
    sums = {m: np.zeros((grid.height, grid.width), np.float64) for m in months}
    counts = {m: np.zeros((grid.height, grid.width), np.int32) for m in months}
    lock = threading.Lock()

    def one(item: Any) -> None:
        ndvi = _date_ndvi(item, load, inner, wf)
        month = item.datetime.date().replace(day=1)
        valid = ~np.isnan(ndvi)
        with lock:
            sums[month][valid] += ndvi[valid]
            counts[month] += valid

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, items))
    with np.errstate(all="ignore"):
        stack = np.stack([(sums[m] / counts[m]).astype(np.float32) for m in months])
    cube = xr.DataArray(
        stack,
        dims=("t", "y", "x"),
        coords={
            "t": [np.datetime64(m.isoformat(), "ns") for m in months],
            "y": grid.y_centres(),
            "x": grid.x_centres(),
        },
        name="var",
        attrs={"crs_wkt": CRS.from_epsg(grid.epsg).to_wkt()},
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_netcdf(cube, out_dir / "openEO.nc", attrs={"hybrid_pipeline": "fused"})
