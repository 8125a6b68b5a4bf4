"""The sky of one acquisition: sun position, cloud and cirrus fields, shadows, swath edge.

Clouds are smoothed random fields on the frame grid (40 m cells in EPSG:32632) plus a
deterministic bias that puts them where the schedule wants them; they are sampled
bilinearly at each pixel centre, so both tiles of a datatake see the same clouds.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from hybrid.sample.grid import Layout, aoi_polygon
from hybrid.sample.schedule import Acquisition, SwathEdge

#: AOI centre in lon/lat, where sun angles are computed.
_SUN_LON, _SUN_LAT = 6.66479, 45.24502
#: Swath edges run NNE-SSW like a descending Sentinel-2 track (easting per northing).
_EDGE_TILT = 0.21
_NEVER = 1e9


@dataclass(frozen=True)
class Sun:
    azimuth: float
    """Degrees clockwise from north."""
    elevation: float
    """Degrees above the horizon."""


def sun_position(when: dt.datetime, lon: float = _SUN_LON, lat: float = _SUN_LAT) -> Sun:
    """Solar azimuth and elevation (NOAA's approximation, ~0.5° accurate)."""
    utc = when.astimezone(dt.UTC)
    doy = utc.timetuple().tm_yday
    hours = utc.hour + utc.minute / 60 + utc.second / 3600
    g = 2 * math.pi / 365 * (doy - 1 + (hours - 12) / 24)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(g)
        - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g)
        - 0.040849 * math.sin(2 * g)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(g)
        + 0.070257 * math.sin(g)
        - 0.006758 * math.cos(2 * g)
        + 0.000907 * math.sin(2 * g)
        - 0.002697 * math.cos(3 * g)
        + 0.00148 * math.sin(3 * g)
    )
    solar_minutes = hours * 60 + eqtime + 4 * lon
    ha = math.radians(solar_minutes / 4 - 180)
    phi = math.radians(lat)
    cos_zen = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(ha)
    zen = math.acos(max(-1.0, min(1.0, cos_zen)))
    az = math.atan2(math.sin(ha), math.cos(ha) * math.sin(phi) - math.tan(decl) * math.cos(phi))
    return Sun(azimuth=(math.degrees(az) + 180.0) % 360.0, elevation=90.0 - math.degrees(zen))


def earth_sun_factor(day: dt.date) -> float:
    """Sentinel-2's reflectance conversion factor (inverse squared Earth-Sun distance)."""
    doy = day.timetuple().tm_yday
    return 1.0 / (1.0 - 0.01673 * math.cos(0.0172 * (doy - 4))) ** 2


@dataclass(frozen=True)
class Sky:
    """Frame-grid fields of one acquisition; see :func:`sample_sky` for pixel values."""

    cloud: np.ndarray
    cloud_threshold: float
    cirrus: np.ndarray
    cirrus_threshold: float
    shadow_shift: tuple[float, float]
    """(rows, cols) on the frame grid from a pixel to the cloud that shades it."""
    sun: Sun
    edge: SwathEdge | None


def _unit(field: np.ndarray) -> np.ndarray:
    out: np.ndarray = (field - field.mean()) / (field.std() + 1e-12)
    return out


def _bump(de: np.ndarray, dn: np.ndarray, sigma_e: float, sigma_n: float) -> np.ndarray:
    out: np.ndarray = np.exp(-0.5 * ((de / sigma_e) ** 2 + (dn / sigma_n) ** 2))
    return out


def _threshold(field: np.ndarray, inside: np.ndarray, fraction: float) -> float:
    if fraction <= 0.0:
        return _NEVER
    if fraction >= 1.0:
        return -_NEVER
    return float(np.quantile(field[inside], 1.0 - fraction))


def make_sky(acq: Acquisition, layout: Layout, *, seed: int) -> Sky:
    """Draw the cloud and cirrus fields of ``acq`` (deterministic in seed and date)."""
    rng = np.random.default_rng([seed, acq.date.toordinal(), 17])
    shape = layout.frame_shape
    coarse = _unit(ndimage.gaussian_filter(rng.standard_normal(shape), 9.0))
    fine = _unit(ndimage.gaussian_filter(rng.standard_normal(shape), 3.0))
    streaks = _unit(ndimage.gaussian_filter(rng.standard_normal(shape), (3.0, 14.0)))
    height = 1200.0 + 1300.0 * float(rng.random())

    east, north = layout.frame_centres()
    left, bottom, right, top = aoi_polygon().bounds
    ce, cn = (left + right) / 2, (bottom + top) / 2
    lr = layout.windows["32TLR"]
    inside = (east > lr.left) & (east < lr.right) & (north > lr.bottom) & (north < lr.top)

    w = acq.weather
    field = _unit(coarse + 0.3 * fine)
    if w.focus == "east":
        # a cloud front east of the 31TGL extent: 32TLR cloudy, 31TGL (almost) clear
        cut = right + 1400.0
        field = 0.8 * field + 3.5 * np.tanh((east - cut) / 500.0)
        threshold = 0.0
    else:
        if w.focus == "aoi":
            field = field + 3.0 * _bump(east - ce, north - cn, 900.0, 1900.0)
        elif w.focus == "away":
            field = field - 4.0 * _bump(east - ce, north - cn, 1300.0, 2700.0)
        elif w.focus in ("north", "south"):
            sign = 1.0 if w.focus == "north" else -1.0
            field = field + 2.0 * sign * np.tanh((north - cn) / 400.0)
        threshold = _threshold(field, inside, w.cloud)

    sun = sun_position(acq.sensing)
    reach = height / math.tan(math.radians(sun.elevation))
    shift_e = reach * math.sin(math.radians(sun.azimuth))
    shift_n = reach * math.cos(math.radians(sun.azimuth))
    cell = layout.frame_cell
    return Sky(
        cloud=field.astype(np.float32),
        cloud_threshold=threshold,
        cirrus=streaks.astype(np.float32),
        cirrus_threshold=_threshold(streaks, inside, w.cirrus),
        shadow_shift=(-shift_n / cell, shift_e / cell),
        sun=sun,
        edge=acq.swath_edge,
    )


@dataclass(frozen=True)
class SkyAt:
    """The sky sampled at pixel centres (arrays of the grid's shape)."""

    cloud: np.ndarray
    """Cloud opacity 0..1 (>= 0.5 is cloud)."""
    shadow: np.ndarray
    """Opacity of the cloud between the pixel and the sun."""
    cirrus: np.ndarray
    """Cirrus density 0..1 (>= 0.5 is cirrus)."""
    nodata: np.ndarray
    """True outside the swath."""


def sample_sky(sky: Sky, coords: np.ndarray, east: np.ndarray, north: np.ndarray) -> SkyAt:
    """Evaluate the sky at pixels whose frame indices are ``coords`` (2, H, W)."""

    def opacity(field: np.ndarray, threshold: float, at: np.ndarray, width: float) -> np.ndarray:
        if threshold >= _NEVER:
            return np.zeros(at.shape[1:], dtype=np.float32)
        values = ndimage.map_coordinates(field, at, order=1, mode="nearest", output=np.float32)
        out: np.ndarray = np.clip(0.5 + (values - threshold) / width, 0.0, 1.0)
        return out

    shifted = coords + np.asarray(sky.shadow_shift, dtype=coords.dtype)[:, None, None]
    nodata = np.zeros(east.shape, dtype=bool)
    if sky.edge is not None:
        left, bottom, right, top = aoi_polygon().bounds
        line = (left + right) / 2 + sky.edge.offset_m + _EDGE_TILT * (north - (bottom + top) / 2)
        nodata = east < line if sky.edge.nodata_side == "west" else east > line
    return SkyAt(
        cloud=opacity(sky.cloud, sky.cloud_threshold, coords, 0.6),
        shadow=opacity(sky.cloud, sky.cloud_threshold, shifted, 0.6),
        cirrus=opacity(sky.cirrus, sky.cirrus_threshold, coords, 0.6),
        nodata=nodata,
    )


def valid_half_plane(
    edge: SwathEdge | None, bounds: tuple[float, float, float, float]
) -> list[tuple[float, float]] | None:
    """Corners (frame CRS) of the valid side of a swath edge, large enough to clip
    anything within ``bounds``; None when there is no edge."""
    if edge is None:
        return None
    left, bottom, right, top = aoi_polygon().bounds
    ce, cn = (left + right) / 2 + edge.offset_m, (bottom + top) / 2
    lo, hi = bounds[1] - 10000.0, bounds[3] + 10000.0
    x_lo, x_hi = ce + _EDGE_TILT * (lo - cn), ce + _EDGE_TILT * (hi - cn)
    far = 1e5 if edge.nodata_side == "west" else -1e5
    return [(x_lo, lo), (x_hi, hi), (x_hi + far, hi), (x_lo + far, lo)]
