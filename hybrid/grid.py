"""The output grid, chosen the way the Copernicus openEO backend chooses it.

- target CRS: the UTM zone of the bounding box's representative point
  (openeo_driver/util/utm.py);
- extent: the four corners of the lon/lat bbox reprojected (no densification), their
  envelope snapped outward to multiples of the pixel size (openeo_driver/util/geometry.py
  ``reproject_bounding_box``; DatacubeSupport.getLayout);
- pixel size: 10 m, the finest Sentinel-2 band;
- a pixel buffer of ``ceil(kernel / 2)`` around it when a kernel follows the load, cropped
  off again at the end, so inside the AOI there is no edge effect (load_params.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, overload

from hybrid.errors import ProcessParameterInvalid

#: Sentinel-2's finest resolution, the pixel size of the output grid
PIXEL_SIZE = 10.0


@dataclass(frozen=True)
class BBox:
    """A lon/lat (or projected) bounding box."""

    west: float
    south: float
    east: float
    north: float
    crs: str = "EPSG:4326"

    def __post_init__(self) -> None:
        values = (self.west, self.south, self.east, self.north)
        if not all(math.isfinite(v) for v in values):
            raise ProcessParameterInvalid(f"spatial extent has non-finite bounds {values}")
        if self.east < 0 < self.west and _is_lonlat(self.crs):
            raise ProcessParameterInvalid(
                f"spatial extent crosses the antimeridian (west={self.west} > east={self.east}); "
                "one grid cannot wrap around 180 degrees: split it into one extent each side"
            )
        if self.west >= self.east or self.south >= self.north:
            raise ProcessParameterInvalid(
                f"spatial extent is empty or reversed: west={self.west} east={self.east} "
                f"south={self.south} north={self.north}; west < east and south < north are needed"
            )


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid: origin at (xmin, ymax), square pixels."""

    #: EPSG code of the grid's CRS
    epsg: int
    xmin: float
    ymin: float
    xmax: float
    ymax: float
    resolution: float = PIXEL_SIZE

    @property
    def width(self) -> int:
        return round((self.xmax - self.xmin) / self.resolution)

    @property
    def height(self) -> int:
        return round((self.ymax - self.ymin) / self.resolution)

    @property
    def crs(self) -> str:
        return f"EPSG:{self.epsg}"

    def buffered(self, pixels: int) -> Grid:
        """The same grid grown by ``pixels`` on every side."""
        pad = pixels * self.resolution
        return Grid(
            self.epsg,
            self.xmin - pad,
            self.ymin - pad,
            self.xmax + pad,
            self.ymax + pad,
            self.resolution,
        )

    def x_centres(self) -> list[float]:
        r = self.resolution
        return [self.xmin + (i + 0.5) * r for i in range(self.width)]

    def y_centres(self) -> list[float]:
        """Pixel-centre y coordinates, north first (descending)."""
        r = self.resolution
        return [self.ymax - (j + 0.5) * r for j in range(self.height)]


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone containing (lon, lat); 180 degrees east is zone 1,
    as in openeo-python-driver ``openeo_driver/util/utm.py:13-25`` (``% 60``)."""
    zone = math.floor((lon + 180.0) / 6.0) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def target_epsg(bbox: BBox) -> int:
    """The UTM zone of the bbox's representative point, as Copernicus picks it: the point
    of the box in its own CRS, then that point in lon/lat (openeo-python-driver
    util/utm.py ``auto_utm_epsg_for_geometry`` L62-76, called by
    util/geometry.py ``BoundingBox.best_utm`` L716-723), not the point of the box's
    lon/lat envelope, which lies elsewhere for a projected box (an EPSG:3035 box across
    12 E at 60 N is zone 32 there, 33 by its envelope)."""
    from shapely.geometry import box

    point = box(bbox.west, bbox.south, bbox.east, bbox.north).representative_point()
    if _is_lonlat(bbox.crs):
        return utm_epsg(point.x, point.y)
    lon, lat = _transformer(bbox.crs, "EPSG:4326").transform(point.x, point.y)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ProcessParameterInvalid(
            f"spatial extent {bbox.west},{bbox.south},{bbox.east},{bbox.north} in {bbox.crs} "
            "has no place in lon/lat; "
            "give west/south/east/north in the CRS it names, or in degrees (EPSG:4326)"
        )
    return utm_epsg(lon, lat)


def bounds_union(bounds: Iterable[Sequence[float]]) -> tuple[float, float, float, float]:
    """The envelope (west, south, east, north) of ``bounds``, each a (west, south, east,
    north) in one CRS; ValueError when there are none."""
    boxes = list(bounds)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def corner_envelope(
    bounds: tuple[float, float, float, float], source: Any, target: Any
) -> tuple[float, float, float, float]:
    """The envelope (xmin, ymin, xmax, ymax) in ``target`` of the four corners of
    ``bounds`` (west, south, east, north in ``source``), without densifying, as
    Copernicus reprojects an extent (openeo-python-driver util/geometry.py
    ``reproject_bounding_box``; geopysparkdatacube.py ``_reproject_extent`` L2931-2946)."""
    west, south, east, north = bounds
    tr = _transformer(source, target)
    xs, ys = tr.transform([west, east, east, west], [south, south, north, north])
    return min(xs), min(ys), max(xs), max(ys)


def _transformer(source: Any, target: Any) -> Any:
    """pyproj's transformer (x, y order) from ``source`` to ``target``; a CRS pyproj
    cannot take there (an engineering CRS, no datum) is a clear 400, not a ``ProjError``."""
    from pyproj import Transformer
    from pyproj.exceptions import ProjError

    try:
        return Transformer.from_crs(source, target, always_xy=True)
    except ProjError:
        raise ProcessParameterInvalid(
            f"spatial extent CRS {str(source)[:80]} cannot be transformed to {target}: "
            "give the extent in an EPSG CRS, or in degrees (EPSG:4326)"
        ) from None


def lonlat_bbox(bbox: BBox) -> BBox:
    """The bbox in lon/lat (EPSG:4326); reprojected by its corners if needed."""
    if _is_lonlat(bbox.crs):
        return bbox
    bounds = (bbox.west, bbox.south, bbox.east, bbox.north)
    return BBox(*corner_envelope(bounds, bbox.crs, "EPSG:4326"))


def described_bbox(bbox: BBox) -> str:
    """west,south,east,north for messages, with its CRS and the lon/lat box when not in
    lon/lat (an extent in UTM metres given as degrees lies near 0 N, not where meant)."""

    def text(box: BBox) -> str:
        return f"{box.west:.5f},{box.south:.5f},{box.east:.5f},{box.north:.5f}"

    lonlat = lonlat_bbox(bbox)
    if lonlat is bbox:
        return text(bbox)
    return f"{text(bbox)} in {bbox.crs} (lon/lat {text(lonlat)})"


def _is_lonlat(crs: str | int) -> bool:
    return str(crs).upper() in {"EPSG:4326", "4326", "OGC:CRS84", "WGS84"}


def snap_outward(value: float, step: float, *, up: bool) -> float:
    """``value`` rounded outward to a multiple of ``step`` (tolerant of float noise)."""
    q = value / step
    nearest = round(q)
    if abs(q - nearest) < 1e-9:
        return nearest * step
    return (math.ceil(q) if up else math.floor(q)) * step


@overload
def pixel_step(centres: Any, default: float) -> float: ...
@overload
def pixel_step(centres: Any, default: None = None) -> float | None: ...
def pixel_step(centres: Any, default: float | None = None) -> float | None:
    """The signed distance from the first pixel centre of a coordinate axis (a numpy
    array) to the second: its pixel size, negative on a north-up ``y``; ``default`` for
    an axis of one pixel, which has no step to read."""
    return float(centres[1] - centres[0]) if centres.size > 1 else default


def centres_transform(x: Any, y: Any) -> Any:
    """The affine transform of the pixel corners of a grid given by its pixel centres
    ``x`` and ``y``, north up. An axis of one pixel takes the other axis's pixel size, as
    the grids are square (a one-row EPSG:4326 cube of 0.1-degree pixels is 0.1 degree
    high, not 10); 10 m when both axes have one pixel."""
    from affine import Affine

    dx = pixel_step(x, abs(pixel_step(y, -PIXEL_SIZE)))
    dy = pixel_step(y, -abs(dx))
    return Affine(dx, 0.0, x[0] - dx / 2, 0.0, dy, y[0] - dy / 2)


def output_grid(bbox: BBox, *, epsg: int | None = None, resolution: float = PIXEL_SIZE) -> Grid:
    """The grid Copernicus produces for a load over ``bbox``.

    The bbox corners are reprojected to the target CRS (default: the UTM zone of its
    representative point) and their envelope is snapped outward to ``resolution``.
    """
    epsg = epsg or target_epsg(bbox)
    bounds = (bbox.west, bbox.south, bbox.east, bbox.north)
    xmin, ymin, xmax, ymax = corner_envelope(bounds, bbox.crs, f"EPSG:{epsg}")
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        raise ProcessParameterInvalid(
            f"spatial extent {bbox} cannot be projected to EPSG:{epsg}; "
            "give west/south/east/north in degrees (EPSG:4326)"
        )
    return Grid(
        epsg,
        snap_outward(xmin, resolution, up=False),
        snap_outward(ymin, resolution, up=False),
        snap_outward(xmax, resolution, up=True),
        snap_outward(ymax, resolution, up=True),
        resolution,
    )


def kernel_buffer(kernel_shape: tuple[int, ...]) -> int:
    """Pixels Copernicus loads around the extent for a kernel: ceil(size / 2)."""
    return max(math.ceil(n / 2) for n in kernel_shape) if kernel_shape else 0


def lonlat_envelope(grid: Grid) -> BBox:
    """The lon/lat bbox enclosing a projected grid (for the catalog search)."""
    return lonlat_bbox(BBox(grid.xmin, grid.ymin, grid.xmax, grid.ymax, crs=grid.crs))


def search_box(extent: BBox, geometries: BBox | None, epsg: int) -> BBox:
    """The lon/lat box a load's products are searched in: its extent as given, in
    lon/lat, as Copernicus sends it to its STAC API (load_stac.py L1543), not the grid
    that covers it (wider by the grid's rotation against lon/lat); the envelope of the
    geometries' grid (in ``epsg``) when they decide the search
    (``backends.local.extents.LoadExtent.search``)."""
    if geometries is None:
        return lonlat_bbox(extent)
    return lonlat_envelope(output_grid(geometries, epsg=epsg))


def kept_pixels(keep: Any) -> slice | Any:
    """The positions where the boolean array ``keep`` is true, as a slice when they are
    one run (always so for the cells of regular, monotonic centres that overlap an
    interval), else as an index array.

    A slice keeps a dask array's blocks where they are (the edge blocks are cut); an
    index array is dask's ``take``, which it runs as a shuffle: every block split and
    joined again across its neighbours, a copy of the cube, and every block of the
    result depending on its neighbours' (benchmarks/README.md, "Fifteenth round")."""
    import numpy as np

    found = np.flatnonzero(np.asarray(keep, dtype=bool))
    if found.size == 0:
        return slice(0, 0)
    first, last = int(found[0]), int(found[-1])
    if last - first + 1 == found.size:
        return slice(first, last + 1)
    return found
