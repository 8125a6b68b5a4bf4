"""The bands the NDVI workflow does not use, so that every SENTINEL2_L2A band exists.

Copernicus serves B01..B12, B8A, SCL, AOT and WVP (``cdse/SENTINEL2_L2A.json``): 10 m
B02 B03 B04 B08; 20 m B05 B06 B07 B8A B11 B12 (and SCL); 60 m B01 B09. The sample
derives the extra reflectance bands from the same ground and sky as its 10 m bands
(:mod:`hybrid.sample.scene`), with simple but plausible spectra:

- red edge (B05, B06, B07) and narrow NIR (B8A) lie between red and NIR, closer to NIR
  the longer the wavelength (the vegetation red edge); B01 is a little brighter than
  blue (aerosol scattering); B09 sits in a water-vapour absorption band (~1/3 of NIR);
- SWIR (B11, B12) is bright for soil and rock, medium for vegetation, and dark for
  water and snow (snow's NDSI > 0.4);
- clouds are bright in every band, a little darker in the SWIR; cirrus is faint.

Ground, sky and elevation are averaged from 10 m over 2 x 2 (20 m) or 6 x 6 (60 m)
blocks, then composited and stored in steps of 20 DN (0.002 reflectance, keeping the
sample small); a block with any nodata pixel is nodata. AOT (aerosol optical thickness,
scale 0.001) and WVP (water vapour, cm, scale 0.001) are smooth fields that fall with
elevation, stored at 20 m without the BOA offset, 0 = nodata.

Nothing here changes the values of B02, B03, B04, B08 or SCL.
"""

from __future__ import annotations

import math

import numpy as np

from hybrid.sample.scene import BOA_ADD_OFFSET, Grid, Ground, ground
from hybrid.sample.weather import Sky, SkyAt, sample_sky

#: band -> (weights on blue, green, red, nir of the ground, constant), resolution (m)
_SURFACE: dict[str, tuple[tuple[float, float, float, float, float], int]] = {
    "B01": ((1.02, 0.0, 0.0, 0.0, 0.008), 60),
    "B05": ((0.0, 0.0, 0.75, 0.25, 0.0), 20),
    "B06": ((0.0, 0.0, 0.30, 0.70, 0.0), 20),
    "B07": ((0.0, 0.0, 0.12, 0.88, 0.0), 20),
    "B8A": ((0.0, 0.0, -0.03, 1.03, 0.0), 20),
    "B09": ((0.0, 0.0, 0.0, 0.33, 0.0), 60),
    "B11": ((0.0, 0.0, 0.80, 0.45, 0.0), 20),
    "B12": ((0.0, 0.0, 0.90, 0.25, 0.0), 20),
}
#: how much of the SWIR a snow-covered pixel keeps
_SNOW_SWIR = {"B11": 0.10, "B12": 0.06}
#: top-of-atmosphere reflectance of thick cloud and of cirrus per band
_CLOUD = {"B01": 0.51, "B05": 0.50, "B06": 0.50, "B07": 0.51, "B8A": 0.52, "B09": 0.45,
          "B11": 0.38, "B12": 0.28}  # fmt: skip
_CIRRUS = {"B01": 0.075, "B05": 0.05, "B06": 0.05, "B07": 0.05, "B8A": 0.05, "B09": 0.04,
           "B11": 0.03, "B12": 0.02}  # fmt: skip
#: reflectance is stored in steps of this many DN (0.002): the sample stays small
QUANTUM = 20
#: the order the bands are returned in
EXTRA_BANDS = ("B01", "B05", "B06", "B07", "B8A", "B09", "B11", "B12", "AOT", "WVP")
#: resolution (m) of each extra band
RESOLUTION = {**{b: res for b, (_, res) in _SURFACE.items()}, "AOT": 20, "WVP": 20}


def _steps(x: np.ndarray, n: int) -> np.ndarray:
    out: np.ndarray = np.rint(x * n) / n
    return out


def render_extra_bands(
    grid: Grid, doy: float, sky: Sky, at: SkyAt | None = None, gr: Ground | None = None
) -> dict[str, np.ndarray]:
    """band -> uint16 stored DN of the extra bands, from the 10 m ``grid`` (0 = nodata).

    ``at``: the sky already sampled on ``grid``, ``gr``: its :func:`ground` already
    computed (each saves computing it again)."""
    at = at if at is not None else sample_sky(sky, grid.coords, grid.east, grid.north)
    gr = gr if gr is not None else ground(grid, doy, sky.sun)
    layers = {
        "refl": gr.reflectance,
        "snow": gr.snow[None],
        "cloud": _steps(at.cloud, 16)[None],
        "shadow": _steps(at.shadow, 16)[None],
        "cirrus": _steps(at.cirrus, 16)[None],
        "nodata": at.nodata[None].astype(np.float32),
    }
    # averaged to each resolution first: the composite is computed on few pixels
    coarse = {
        res: {k: _blocks(v, res // grid.res) for k, v in layers.items()}
        for res in sorted(set(RESOLUTION.values()))
    }
    coarse[RESOLUTION["AOT"]]["elevation"] = _blocks(
        grid.surface.elevation[None].astype(np.float32), RESOLUTION["AOT"] // grid.res
    )
    out: dict[str, np.ndarray] = {}
    for band, (weights, res) in _SURFACE.items():
        c = coarse[res]
        refl, a = c["refl"], c["cloud"][0]
        surf = sum(w * refl[i] for i, w in enumerate(weights[:4])) + weights[4]
        surf = np.maximum(surf, 0.002)
        if band in _SNOW_SWIR:
            surf = surf * (1.0 - (1.0 - _SNOW_SWIR[band]) * c["snow"][0])
        top = surf * (1.0 - 0.7 * c["shadow"][0]) * (1.0 - a)
        top = top + a * _CLOUD[band] * (0.8 + 0.2 * a) + c["cirrus"][0] * _CIRRUS[band]
        out[band] = _store(top, c["nodata"][0] > 0, offset=BOA_ADD_OFFSET, quantum=QUANTUM)
    c = coarse[RESOLUTION["AOT"]]
    elevation = c["elevation"][0]
    season = math.sin(2 * math.pi * (doy - 100.0) / 365.0)
    aot = (0.09 + 0.04 * season) * np.exp(-(elevation - 1000.0) / 3000.0)
    wvp = (1.3 + 0.9 * season) * np.exp(-(elevation - 500.0) / 2500.0)
    out["AOT"] = _store(_steps(aot, 200), c["nodata"][0] > 0, scale=1000)
    out["WVP"] = _store(_steps(wvp, 50), c["nodata"][0] > 0, scale=1000)
    return {b: out[b] for b in EXTRA_BANDS}


def _blocks(values: np.ndarray, factor: int) -> np.ndarray:
    """Mean over ``factor`` x ``factor`` blocks of the last two axes of (N, H, W), in
    float32.

    Adds the ``factor`` rows, then the ``factor`` columns of each block one after the
    other, in the order (and so with the float32 rounding) of
    ``reshape(...).sum(axis=2, dtype=float32)`` then ``.sum(axis=3)``, which gave the
    sample's values, at a fraction of the cost of numpy's strided reductions.
    """
    if factor == 1:
        return values
    n, h, w = values.shape
    grid = values.astype(np.float32, copy=False).reshape(n, h // factor, factor, w)
    rows = grid[:, :, 0, :].copy()
    for k in range(1, factor):
        rows += grid[:, :, k, :]
    cols = rows.reshape(n, h // factor, w // factor, factor)
    out = cols[..., 0].copy()
    for k in range(1, factor):
        out += cols[..., k]
    return out / np.float32(factor * factor)


def _store(
    values: np.ndarray, nodata: np.ndarray, *, offset: int = 0, scale: int = 10000, quantum: int = 1
) -> np.ndarray:
    """Scaled, offset DN (uint16) in steps of ``quantum`` DN (so that the rasters stay
    compressible); 0 where ``nodata``."""
    steps = np.rint(scale * values.astype(np.float64) / quantum) * quantum
    dn = np.clip(offset + steps, offset + 1, 32767).astype(np.uint16)
    dn[nodata] = 0
    return dn
