"""The 10 m UTM grid Copernicus derives from a lon/lat AOI (bbox only, snapped outward)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyproj import Transformer
from rasterio.transform import Affine
from shapely.geometry import box, shape
from shapely.ops import unary_union

RESOLUTION = 10.0


@dataclass(frozen=True)
class Grid:
    """Output extent (snapped to 10 m) plus a pixel buffer for loading."""

    epsg: int
    #: output extent (xmin, ymin, xmax, ymax) in metres
    bounds: tuple[float, float, float, float]
    #: pixels added on every side for loading
    buffer: int

    @property
    def width(self) -> int:
        return round((self.bounds[2] - self.bounds[0]) / RESOLUTION)

    @property
    def height(self) -> int:
        return round((self.bounds[3] - self.bounds[1]) / RESOLUTION)

    @property
    def load_bounds(self) -> tuple[float, float, float, float]:
        pad = self.buffer * RESOLUTION
        xmin, ymin, xmax, ymax = self.bounds
        return (xmin - pad, ymin - pad, xmax + pad, ymax + pad)

    @property
    def load_shape(self) -> tuple[int, int]:
        return (self.height + 2 * self.buffer, self.width + 2 * self.buffer)

    @property
    def load_transform(self) -> Affine:
        xmin, _, _, ymax = self.load_bounds
        return Affine(RESOLUTION, 0.0, xmin, 0.0, -RESOLUTION, ymax)

    @property
    def x(self) -> np.ndarray:
        """Output pixel-centre x, ascending."""
        return self.bounds[0] + RESOLUTION * (np.arange(self.width, dtype=np.float64) + 0.5)

    @property
    def y(self) -> np.ndarray:
        """Output pixel-centre y, descending (north-up)."""
        return self.bounds[3] - RESOLUTION * (np.arange(self.height, dtype=np.float64) + 0.5)

    def crop(self, array: np.ndarray) -> np.ndarray:
        """Remove the buffer from the last two (y, x) axes of a load-grid array."""
        b = self.buffer
        return array[..., b : b + self.height, b : b + self.width]


def aoi_geometry(aoi: dict[str, Any]) -> Any:
    """GeoJSON geometry, Feature or FeatureCollection -> one shapely geometry."""
    kind = aoi.get("type")
    if kind == "FeatureCollection":
        return unary_union([shape(f["geometry"]) for f in aoi["features"]])
    if kind == "Feature":
        return shape(aoi["geometry"])
    return shape(aoi)


def aoi_lonlat_bounds(aoi: dict[str, Any]) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = aoi_geometry(aoi).bounds
    return (float(xmin), float(ymin), float(xmax), float(ymax))


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the UTM zone containing (lon, lat): 326zz north, 327zz south."""
    zone = math.floor((lon + 180.0) / 6.0) % 60 + 1
    return (32600 if lat >= 0.0 else 32700) + zone


def target_epsg(lonlat_bounds: tuple[float, float, float, float]) -> int:
    point = box(*lonlat_bounds).representative_point()
    return utm_epsg(point.x, point.y)


def reproject_corners(
    lonlat_bounds: tuple[float, float, float, float], epsg: int
) -> tuple[float, float, float, float]:
    """Envelope of the bbox's four corners in ``epsg`` (no densification)."""
    xmin, ymin, xmax, ymax = lonlat_bounds
    transformer = Transformer.from_crs(4326, epsg, always_xy=True)
    xs, ys = transformer.transform([xmin, xmin, xmax, xmax], [ymin, ymax, ymin, ymax])
    return (min(xs), min(ys), max(xs), max(ys))


def snap_outward(
    bounds: tuple[float, float, float, float], step: float = RESOLUTION
) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = bounds
    return (
        math.floor(xmin / step) * step,
        math.floor(ymin / step) * step,
        math.ceil(xmax / step) * step,
        math.ceil(ymax / step) * step,
    )


def make_grid(aoi: dict[str, Any], *, kernel_size: int, epsg: int | None = None) -> Grid:
    """AOI -> bbox -> ``epsg`` (default: UTM of its representative point) -> 4-corner
    envelope -> snap 10 m."""
    lonlat = aoi_lonlat_bounds(aoi)
    epsg = epsg or target_epsg(lonlat)
    bounds = snap_outward(reproject_corners(lonlat, epsg))
    return Grid(epsg=epsg, bounds=bounds, buffer=math.ceil(kernel_size / 2))
