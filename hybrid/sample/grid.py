"""Pixel grids of the sample: MGRS tile windows aligned like real Sentinel-2 tiles.

All synthetic fields are functions of position in one common frame, UTM zone 32N
(EPSG:32632) metres, so a 31TGL pixel and a 32TLR pixel over the same ground see the
same landscape and the same clouds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import shapely
from affine import Affine
from pyproj import Transformer
from shapely.geometry import Polygon, box

from hybrid.sample.aoi import SEED_AOI

#: The common frame every synthetic field is defined in.
FRAME_EPSG = 32632
#: Real Sentinel-2 tile origins (and our windows) lie on multiples of 60 m.
SNAP_M = 60
#: 10 m bands and the 20 m SCL.
RES_BANDS = 10
RES_SCL = 20


@dataclass(frozen=True)
class Tile:
    """An MGRS tile: its code, CRS and the upper-left corner of the full 109.8 km tile."""

    code: str
    epsg: int
    origin_x: float
    origin_y: float

    @property
    def utm_zone(self) -> int:
        return int(self.code[:2])

    @property
    def latitude_band(self) -> str:
        return self.code[2]

    @property
    def grid_square(self) -> str:
        return self.code[3:]


TILES: dict[str, Tile] = {
    "32TLR": Tile("32TLR", 32632, 300000.0, 5100000.0),
    "31TGL": Tile("31TGL", 32631, 699960.0, 5100000.0),
}


@dataclass(frozen=True)
class Window:
    """The part of a tile the sample covers; bounds on the tile's 60 m lattice."""

    tile: Tile
    left: float
    bottom: float
    right: float
    top: float

    def shape(self, res: int) -> tuple[int, int]:
        return (round((self.top - self.bottom) / res), round((self.right - self.left) / res))

    def transform(self, res: int) -> Affine:
        return Affine(float(res), 0.0, self.left, 0.0, -float(res), self.top)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.left, self.bottom, self.right, self.top)


@cache
def _transformer(src: int, dst: int) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def reproject_xy(x: np.ndarray, y: np.ndarray, src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays between two EPSG codes (x/y or lon/lat order)."""
    if src == dst:
        return x, y
    ox, oy = _transformer(src, dst).transform(x, y)
    return np.asarray(ox), np.asarray(oy)


def reproject_geometry(geom: Polygon, src: int, dst: int) -> Polygon:
    """Transform a shapely polygon vertex by vertex (densify it first if it is large)."""
    tr = _transformer(src, dst)
    out: Polygon = shapely.transform(geom, tr.transform, interleaved=False)
    return out


def densify(poly: Polygon, step: float) -> Polygon:
    """Insert vertices every ``step`` units so a reprojected outline stays faithful."""
    out: Polygon = poly.segmentize(step)
    return out


def aoi_polygon(epsg: int = FRAME_EPSG) -> Polygon:
    """The seed AOI as a polygon in ``epsg`` (densified before reprojection)."""
    ring = SEED_AOI["coordinates"][0]
    lonlat = densify(Polygon(ring), 0.0005)
    return reproject_geometry(lonlat, 4326, epsg)


def _snap_out(bounds: tuple[float, float, float, float], tile: Tile) -> Window:
    left, bottom, right, top = bounds

    def down(v: float, o: float) -> float:
        return o + math.floor((v - o) / SNAP_M) * SNAP_M

    def up(v: float, o: float) -> float:
        return o + math.ceil((v - o) / SNAP_M) * SNAP_M

    return Window(
        tile=tile,
        left=down(left, tile.origin_x),
        bottom=down(bottom, tile.origin_y),
        right=up(right, tile.origin_x),
        top=up(top, tile.origin_y),
    )


@dataclass(frozen=True)
class Layout:
    """The windows of both tiles and the frame grid the random fields live on."""

    windows: dict[str, Window]
    frame_left: float
    frame_top: float
    frame_cell: float
    frame_shape: tuple[int, int]

    def frame_coords(self, east: np.ndarray, north: np.ndarray) -> np.ndarray:
        """Fractional (row, col) frame indices of frame-CRS points, for map_coordinates."""
        rows = (self.frame_top - north) / self.frame_cell - 0.5
        cols = (east - self.frame_left) / self.frame_cell - 0.5
        return np.stack([rows, cols])

    def frame_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Easting and northing of every frame cell centre (2-D arrays)."""
        h, w = self.frame_shape
        east = self.frame_left + (np.arange(w) + 0.5) * self.frame_cell
        north = self.frame_top - (np.arange(h) + 0.5) * self.frame_cell
        return np.meshgrid(east, north)


def make_layout(
    *, margin_m: float, east_extra_m: float, west_extra_m: float, pad_m: float = 3000.0
) -> Layout:
    """Windows covering the AOI plus ``margin_m`` on every side, 32TLR reaching
    ``east_extra_m`` further east and 31TGL ``west_extra_m`` further west."""
    left, bottom, right, top = aoi_polygon().bounds
    core = (left - margin_m, bottom - margin_m, right + margin_m, top + margin_m)
    lr = _snap_out((core[0], core[1], core[2] + east_extra_m, core[3]), TILES["32TLR"])
    gl_frame = densify(box(core[0] - west_extra_m, core[1], core[2], core[3]), 100.0)
    gl = _snap_out(reproject_geometry(gl_frame, FRAME_EPSG, 32631).bounds, TILES["31TGL"])
    windows = {"32TLR": lr, "31TGL": gl}
    envelope = box(*lr.bounds).union(window_outline(gl)).bounds
    cell = 40.0
    f_left = math.floor((envelope[0] - pad_m) / cell) * cell
    f_top = math.ceil((envelope[3] + pad_m) / cell) * cell
    width = math.ceil((envelope[2] + pad_m - f_left) / cell)
    height = math.ceil((f_top - envelope[1] + pad_m) / cell)
    return Layout(windows, f_left, f_top, cell, (height, width))


def window_outline(window: Window) -> Polygon:
    """The window's rectangle in the common frame (densified, so curved if reprojected)."""
    rect = densify(box(*window.bounds), 100.0)
    return reproject_geometry(rect, window.tile.epsg, FRAME_EPSG)


def pixel_centres(window: Window, res: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame-CRS easting and northing of every pixel centre of ``window`` at ``res``."""
    h, w = window.shape(res)
    x = window.left + (np.arange(w) + 0.5) * res
    y = window.top - (np.arange(h) + 0.5) * res
    xx, yy = np.meshgrid(x, y)
    return reproject_xy(xx, yy, window.tile.epsg, FRAME_EPSG)
