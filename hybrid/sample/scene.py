"""Render one granule: 10 m reflectance bands (stored DN) and the 20 m SCL.

Stored DN follow processing baseline >= 04.00: DN = 1000 + 10000 * reflectance, so the
harmonised value DN - 1000 is the reflectance x 10000. Every valid DN is >= 1001;
nodata is 0 in every band and in SCL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from hybrid.sample import landscape as ls
from hybrid.sample.grid import Layout, Window, pixel_centres
from hybrid.sample.weather import Sky, SkyAt, Sun, sample_sky

BOA_ADD_OFFSET = 1000
CLOUD_REFL = np.array([0.50, 0.49, 0.48, 0.52], dtype=np.float32)[:, None, None]
CIRRUS_REFL = np.array([0.07, 0.06, 0.055, 0.05], dtype=np.float32)[:, None, None]
SNOW_REFL = np.array(ls.SNOW_REFL, dtype=np.float32)[:, None, None]

# SCL classes
SCL_NODATA, SCL_DARK, SCL_SHADOW, SCL_VEGETATION, SCL_BARE, SCL_WATER = 0, 2, 3, 4, 5, 6
SCL_UNCLASSIFIED, SCL_CLOUD_MEDIUM, SCL_CLOUD_HIGH, SCL_CIRRUS, SCL_SNOW = 7, 8, 9, 10, 11
CLOUD_CLASSES = (SCL_CLOUD_MEDIUM, SCL_CLOUD_HIGH, SCL_CIRRUS)


@dataclass(frozen=True)
class Grid:
    """One pixel grid (a tile window at one resolution) with its static landscape."""

    window: Window
    res: int
    east: np.ndarray
    north: np.ndarray
    coords: np.ndarray
    """(2, H, W) fractional frame-grid indices of the pixel centres."""
    surface: ls.Surface


def static_noise(layout: Layout, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two smooth unit-variance fields on the frame grid (~300 m and ~120 m)."""
    rng = np.random.default_rng([seed, 0, 3])
    out = []
    for sigma in (8.0, 3.0):
        f = ndimage.gaussian_filter(rng.standard_normal(layout.frame_shape), sigma)
        out.append(((f - f.mean()) / f.std()).astype(np.float32))
    return out[0], out[1]


def make_grid(
    window: Window, res: int, layout: Layout, noise: tuple[np.ndarray, np.ndarray], *, seed: int
) -> Grid:
    east, north = pixel_centres(window, res)
    coords = layout.frame_coords(east, north).astype(np.float32)
    low, mid = (
        ndimage.map_coordinates(f, coords, order=1, mode="nearest", output=np.float32)
        for f in noise
    )
    surface = ls.build_surface(east, north, seed=seed, low=low, mid=mid)
    return Grid(window, res, east, north, coords, surface)


@dataclass(frozen=True)
class Ground:
    """Cloud-free surface of one grid on one day."""

    reflectance: np.ndarray
    """(4, H, W) float32 blue, green, red, nir, terrain illumination included."""
    ndvi: np.ndarray
    snow: np.ndarray
    """Snow fraction 0..1."""
    light: np.ndarray
    """Terrain illumination factor (1 on flat ground)."""


def snow_line(doy: float) -> float:
    """Elevation (m) above which the ground is snow-covered: ~1500 m at the end of
    April, rising ~25 m a day; the highest ridges of the sample clear in late June."""
    return 1500.0 + 25.0 * (doy - 118.0)


def ground(grid: Grid, doy: float, sun: Sun) -> Ground:
    s = grid.surface
    g = ls.greenness(s, doy)
    refl = s.veg * g + s.ground * (1.0 - g)
    ndvi = (refl[3] - refl[2]) / (refl[3] + refl[2])
    snow = np.clip((s.elevation + s.snow_noise - snow_line(doy)) / 120.0 + 0.5, 0.0, 1.0)
    snow = _steps(snow, 20)
    snow[s.code == ls.WATER] = 0.0
    refl = refl * (1.0 - snow) + SNOW_REFL * snow
    az, el = math.radians(sun.azimuth), math.radians(sun.elevation)
    sx, sy, sz = math.sin(az) * math.cos(el), math.cos(az) * math.cos(el), math.sin(el)
    norm = np.sqrt(s.slope_e**2 + s.slope_n**2 + 1.0)
    cos_i = (-s.slope_e * sx - s.slope_n * sy + sz) / norm
    light = _steps(0.2 + 0.8 * np.clip(cos_i / sz, 0.0, 1.6), 25).astype(np.float32)
    return Ground(refl * light, ndvi, snow.astype(np.float32), light)


def _steps(x: np.ndarray, n: int) -> np.ndarray:
    out: np.ndarray = np.rint(x * n) / n
    return out


def render_bands(
    grid: Grid, doy: float, sky: Sky, at: SkyAt | None = None, gr: Ground | None = None
) -> np.ndarray:
    """(4, H, W) uint16 stored DN of B02, B03, B04, B08 (0 = nodata); ``at``: the sky
    already sampled on ``grid``, ``gr``: its :func:`ground` already computed."""
    at = at if at is not None else sample_sky(sky, grid.coords, grid.east, grid.north)
    surf = (gr if gr is not None else ground(grid, doy, sky.sun)).reflectance
    # Smooth modulations come in small steps: rasters stay compressible (real scenes
    # are noisier, but a sample of ~50 MB cannot carry 15 bits of noise per pixel).
    a = _steps(at.cloud, 16)[None]
    shadow = _steps(at.shadow, 16)[None]
    top = surf * (1.0 - 0.7 * shadow) * (1.0 - a)
    top += a * CLOUD_REFL * (0.8 + 0.2 * a) + _steps(at.cirrus, 16)[None] * CIRRUS_REFL
    dn = np.clip(np.rint(BOA_ADD_OFFSET + 10000.0 * top), BOA_ADD_OFFSET + 1, 32767)
    out = dn.astype(np.uint16)
    out[:, at.nodata] = 0
    return out


def render_scl(grid: Grid, doy: float, sky: Sky, *, cautious: bool = False) -> np.ndarray:
    """(H, W) uint8 scene classification. ``cautious`` mimics a reprocessing whose
    cloud detection flags haze and faint cirrus as cloud too."""
    at: SkyAt = sample_sky(sky, grid.coords, grid.east, grid.north)
    gr = ground(grid, doy, sky.sun)
    code = grid.surface.code
    scl = np.full(code.shape, SCL_VEGETATION, dtype=np.uint8)
    vegetated = np.isin(code, ls.VEGETATED)
    scl[vegetated & (gr.ndvi < 0.35) & (code != ls.FOREST)] = SCL_BARE
    scl[np.isin(code, (ls.ROCK, ls.GRAVEL))] = SCL_BARE
    scl[code == ls.OTHER] = SCL_UNCLASSIFIED
    scl[code == ls.WATER] = SCL_WATER
    scl[gr.light < 0.4] = SCL_DARK
    scl[gr.snow >= 0.5] = SCL_SNOW
    clear = at.cloud < (0.2 if cautious else 0.3)
    scl[(at.shadow >= (0.35 if cautious else 0.45)) & clear] = SCL_SHADOW
    haze = (at.cloud >= 0.3) & (at.cloud < 0.5)
    scl[haze] = SCL_CLOUD_MEDIUM if cautious else SCL_UNCLASSIFIED
    scl[(at.cirrus >= (0.35 if cautious else 0.5)) & (at.cloud < 0.5)] = SCL_CIRRUS
    scl[at.cloud >= 0.5] = SCL_CLOUD_MEDIUM
    scl[at.cloud >= 0.85] = SCL_CLOUD_HIGH
    scl[at.nodata] = SCL_NODATA
    return scl


def cloud_cover(scl: np.ndarray) -> float:
    """eo:cloud_cover: percentage of SCL 8, 9, 10 among valid (non-zero) pixels."""
    valid = int(np.count_nonzero(scl))
    if valid == 0:
        return 0.0
    cloudy = int(np.count_nonzero(np.isin(scl, CLOUD_CLASSES)))
    return 100.0 * cloudy / valid
