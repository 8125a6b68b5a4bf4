"""A synthetic Alpine valley as a function of position in the common UTM 32N frame.

An ENE-WSW valley floor around 1065 m with a braided, turbid river, a small lake,
villages and small crop parcels (meadows mown twice, pastures, maize, cereals, fallow),
forested slopes (denser on the north-facing side), alpine grassland above the tree
line and rock higher up, reaching ~2400 m at the edges of the sample. Land cover is
piecewise constant per parcel, keyed by integer hashes of the parcel's grid cell, so
any grid sampling the same ground sees the same parcels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Fixed anchor of the valley (metres, EPSG:32632), near the seed AOI's centre.
E0 = 316736.0
N0 = 5012822.0

# land-cover codes
WATER, MEADOW, PASTURE, MAIZE, CEREAL, FALLOW, FOREST = 1, 2, 3, 4, 5, 6, 7
ALPINE, ROCK, GRAVEL, BUILT, OTHER = 8, 9, 10, 11, 12
VEGETATED = (MEADOW, PASTURE, MAIZE, CEREAL, FALLOW, FOREST, ALPINE, BUILT)

# Reflectance end-members (blue, green, red, nir), surface reflectance 0..1.
CROP_VEG = (0.030, 0.075, 0.035, 0.420)
FOREST_VEG = (0.020, 0.045, 0.025, 0.290)
SOIL = (0.075, 0.105, 0.135, 0.200)
WATER_REFL = (0.060, 0.080, 0.055, 0.030)
ROCK_REFL = (0.130, 0.150, 0.170, 0.215)
BUILT_REFL = (0.100, 0.110, 0.125, 0.170)
OTHER_REFL = (0.180, 0.200, 0.210, 0.240)
SNOW_REFL = (0.920, 0.900, 0.870, 0.780)

# Phenology per code: gmin, gmax, start, end (day of year), rise and fall widths (days).
# Green-up May-June, peak July, decline from September; forests mix larch (deciduous).
_PHENO: dict[int, tuple[float, float, float, float, float, float]] = {
    WATER: (0.0, 0.0, 150, 250, 8, 8),
    MEADOW: (0.15, 0.90, 132, 266, 8, 9),
    PASTURE: (0.15, 0.75, 138, 260, 9, 9),
    MAIZE: (0.03, 0.93, 170, 258, 7, 6),
    CEREAL: (0.05, 0.88, 85, 196, 10, 4),
    FALLOW: (0.06, 0.28, 130, 250, 10, 10),
    FOREST: (0.50, 0.90, 136, 278, 8, 9),
    ALPINE: (0.08, 0.58, 172, 248, 7, 8),
    ROCK: (0.01, 0.03, 180, 240, 10, 10),
    GRAVEL: (0.02, 0.08, 150, 250, 10, 10),
    BUILT: (0.15, 0.30, 125, 280, 10, 10),
    OTHER: (0.05, 0.10, 150, 250, 10, 10),
}
_NO_CUT = 999.0


def hash01(a: np.ndarray, b: np.ndarray | int, salt: int) -> np.ndarray:
    """Deterministic uniform [0, 1) numbers from integer keys (splitmix64 finaliser)."""
    ua = np.asarray(a, dtype=np.int64).view(np.uint64)
    ub = np.asarray(np.broadcast_to(np.asarray(b, dtype=np.int64), ua.shape)).view(np.uint64)
    h = ua * np.uint64(0x9E3779B97F4A7C15) ^ ub * np.uint64(0xC2B2AE3D27D4EB4F)
    h = h ^ np.uint64((salt * 0x165667B19E3779F9) & 0xFFFFFFFFFFFFFFFF)
    h ^= h >> np.uint64(31)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    out: np.ndarray = (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return out


def valley_axis(east: np.ndarray) -> np.ndarray:
    """Northing of the valley's centre line."""
    de = east - E0
    return (
        N0
        + 0.12 * de
        + 180.0 * np.sin(2 * np.pi * de / 4100.0 + 0.7)
        + 60.0 * np.sin(2 * np.pi * de / 1500.0 + 2.1)
    )


def floor_half_width(east: np.ndarray) -> np.ndarray:
    return 650.0 + 120.0 * np.sin(2 * np.pi * (east - E0) / 5300.0 + 1.3)


def elevation(east: np.ndarray, north: np.ndarray) -> np.ndarray:
    """Terrain height (m): flat floor, ~25° slopes, ridges and spurs higher up."""
    de = east - E0
    d = np.abs(north - valley_axis(east))
    x = (d - floor_half_width(east)) / 120.0
    rise = 120.0 * np.logaddexp(0.0, x)  # smooth max(0, d - half width)
    spurs = 70.0 * np.sin(2 * np.pi * de / 1900.0 + 0.4 * d / 1000.0 + 0.9) * np.clip(
        rise / 600.0, 0.0, 1.0
    ) + 40.0 * np.sin(2 * np.pi * de / 730.0 + 2.6) * np.clip(rise / 400.0, 0.0, 1.0)
    out: np.ndarray = 1065.0 + 0.006 * de + 0.48 * rise + spurs
    return out


def river_north(east: np.ndarray) -> np.ndarray:
    return valley_axis(east) + 0.45 * floor_half_width(east) * np.sin(
        2 * np.pi * (east - E0) / 2300.0 + 0.3
    )


@dataclass(frozen=True)
class Surface:
    """Static properties of every pixel of one grid (arrays of the grid's shape)."""

    code: np.ndarray
    """Land-cover code (uint8)."""
    pheno: np.ndarray
    """(8, H, W) float32: gmin, gmax, start, end, rise, fall, first cut, second cut."""
    veg: np.ndarray
    """(4, H, W) float32 reflectance of full green cover."""
    ground: np.ndarray
    """(4, H, W) float32 reflectance of the background (soil, rock, water, roofs)."""
    elevation: np.ndarray
    slope_e: np.ndarray
    """dz/dE and dz/dN of the terrain."""
    slope_n: np.ndarray
    snow_noise: np.ndarray
    """Local offset (m) of the snow line: snow patches, not a flat contour."""


def _parcels(east: np.ndarray, north: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer keys of the parcel each point falls in (strips across the valley)."""
    theta = np.arctan(0.12)
    u = (east - E0) * np.cos(theta) + (north - N0) * np.sin(theta)
    v = -(east - E0) * np.sin(theta) + (north - N0) * np.cos(theta)
    i = np.floor(u / 90.0).astype(np.int64)
    length = 130.0 + 170.0 * hash01(i, 0, seed * 101 + 1)
    j = np.floor((v + hash01(i, 0, seed * 101 + 2) * length) / length).astype(np.int64)
    return i, j


def build_surface(
    east: np.ndarray, north: np.ndarray, *, seed: int, low: np.ndarray, mid: np.ndarray
) -> Surface:
    """Classify every point and give it reflectance end-members and a phenology.

    ``low`` and ``mid`` are smooth unit-variance noise fields sampled at the same
    points (correlation lengths ~300 m and ~120 m) that break up forest edges, the
    tree line and the snow line.
    """
    elev = elevation(east, north)
    side = north - valley_axis(east)  # > 0: north side, facing south (sunny)
    on_floor = np.abs(side) < floor_half_width(east)
    pi, pj = _parcels(east, north, seed)
    si = np.floor((east - E0) / 220.0).astype(np.int64) + 100000
    sj = np.floor((north - N0) / 160.0).astype(np.int64)
    code = _land_cover(side, elev, on_floor, (pi, pj), (si, sj), seed, low, mid)
    _add_water(code, east, north, on_floor, seed)
    _add_villages(code, east, north, seed)
    # parcels on the floor, 220 m x 160 m cells on the slopes
    ki, kj = np.where(on_floor, pi, si), np.where(on_floor, pj, sj)
    veg, ground = _end_members(code, ki, kj, seed)
    step = 5.0
    slope_e = (elevation(east + step, north) - elevation(east - step, north)) / (2 * step)
    slope_n = (elevation(east, north + step) - elevation(east, north - step)) / (2 * step)
    return Surface(
        code=code,
        pheno=_phenology(code, elev, ki, kj, seed),
        veg=veg,
        ground=ground,
        elevation=elev.astype(np.float32),
        slope_e=slope_e.astype(np.float32),
        slope_n=slope_n.astype(np.float32),
        snow_noise=(90.0 * mid).astype(np.float32),
    )


def _land_cover(
    side: np.ndarray,
    elev: np.ndarray,
    on_floor: np.ndarray,
    parcel: tuple[np.ndarray, np.ndarray],
    cell: tuple[np.ndarray, np.ndarray],
    seed: int,
    low: np.ndarray,
    mid: np.ndarray,
) -> np.ndarray:
    """The land-cover codes (uint8): crop parcels on the valley floor; forest (denser
    on the north-facing slope, ``side`` < 0), clearings (per slope ``cell``), alpine
    grassland and rock on the slopes."""
    h = hash01(*parcel, seed * 101 + 3)
    floor_code = np.select(
        [h < 0.40, h < 0.53, h < 0.65, h < 0.78, h < 0.84, h < 0.87],
        [MEADOW, PASTURE, MAIZE, CEREAL, FALLOW, OTHER],
        FOREST,
    )
    treeline = 1950.0 + 80.0 * low
    forest_thr = np.where(side < 0, -0.9, 0.15)
    clearing = np.where(hash01(*cell, seed * 101 + 4) < 0.6, MEADOW, PASTURE)
    slope_code = np.select(
        [elev > 2280.0 + 80.0 * mid, elev > treeline, low > forest_thr],
        [ROCK, ALPINE, FOREST],
        clearing,
    )
    code = np.zeros(side.shape, dtype=np.uint8)
    code[:] = np.where(on_floor, floor_code, slope_code)
    return code


def _add_water(
    code: np.ndarray, east: np.ndarray, north: np.ndarray, on_floor: np.ndarray, seed: int
) -> None:
    """The river, its gravel bars and a small lake, into ``code``."""
    dr = np.abs(north - river_north(east))
    bar = hash01(np.floor((east - E0) / 70.0).astype(np.int64), 7, seed * 101 + 5) < 0.4
    code[(dr < 50.0) & bar & on_floor] = GRAVEL
    code[dr < 16.0] = WATER
    le, ln = E0 - 2100.0, float(valley_axis(np.array(E0 - 2100.0))) + 180.0
    code[((east - le) / 230.0) ** 2 + ((north - ln) / 95.0) ** 2 < 1.0] = WATER


def _add_villages(code: np.ndarray, east: np.ndarray, north: np.ndarray, seed: int) -> None:
    """Villages on the sunny side and one on the shady side, with unclassified roofs,
    into ``code``."""
    villages = ((-1300, 1.05, 210), (900, 1.2, 170), (2600, -0.9, 240))
    block_e = np.floor(east / 40.0).astype(np.int64)
    block_n = np.floor(north / 40.0).astype(np.int64)
    for k, (ve, offset, radius) in enumerate(villages):
        vn = valley_axis(np.array(E0 + ve)) + offset * floor_half_width(np.array(E0 + ve))
        ang = np.arctan2(north - vn, east - (E0 + ve))
        r = np.hypot(east - (E0 + ve), north - vn) / (radius * (1 + 0.25 * np.sin(5 * ang + k)))
        inside = r < 1.0
        roofs = hash01(block_e, block_n, seed * 101 + 6 + k) < 0.25
        code[inside] = BUILT
        code[inside & roofs] = OTHER


def _phenology(
    code: np.ndarray, elev: np.ndarray, ki: np.ndarray, kj: np.ndarray, seed: int
) -> np.ndarray:
    """Per-code base values, jittered per parcel or slope cell (``ki``, ``kj``), and the
    meadows' cutting days: :attr:`Surface.pheno`."""
    table = np.zeros((13, 6), dtype=np.float32)
    for c, row in _PHENO.items():
        table[c] = row
    pheno = np.empty((8, *code.shape), dtype=np.float32)
    pheno[:6] = np.moveaxis(table[code], -1, 0)
    jit = hash01(ki, kj, seed * 101 + 7) - 0.5
    jit2 = hash01(ki, kj, seed * 101 + 8) - 0.5
    jit3 = hash01(ki, kj, seed * 101 + 9) - 0.5
    crop = np.isin(code, (MEADOW, PASTURE, MAIZE, CEREAL, FALLOW, ALPINE))
    pheno[1] += np.where(crop | (code == FOREST), 0.10 * jit, 0.0)
    pheno[2] += np.where(crop, 16.0 * jit2, 0.0)
    pheno[3] += np.where(crop, 16.0 * jit3, 0.0)
    # alpine grass greens up later higher up
    pheno[2] += np.where(code == ALPINE, 0.05 * (elev - 2000.0), 0.0)
    meadow = code == MEADOW
    pheno[6] = np.where(meadow, 166.0 + 14.0 * jit3, _NO_CUT)
    pheno[7] = np.where(meadow & (jit > -0.2), 222.0 + 14.0 * jit2, _NO_CUT)
    return pheno


def _end_members(
    code: np.ndarray, ki: np.ndarray, kj: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """:attr:`Surface.veg` and :attr:`Surface.ground` (soil brightness per parcel or
    slope cell ``ki``, ``kj``)."""
    veg = np.empty((4, *code.shape), dtype=np.float32)
    ground = np.empty((4, *code.shape), dtype=np.float32)
    soil_brightness = 0.85 + 0.35 * hash01(ki, kj, seed * 101 + 10)
    for b in range(4):
        veg[b] = np.where(code == FOREST, FOREST_VEG[b], CROP_VEG[b])
        ground[b] = np.select(
            [code == WATER, code == ROCK, code == GRAVEL, code == BUILT, code == OTHER],
            [WATER_REFL[b], ROCK_REFL[b], ROCK_REFL[b] * 1.1, BUILT_REFL[b], OTHER_REFL[b]],
            SOIL[b] * soil_brightness,
        )
    return veg, ground


def greenness(surface: Surface, doy: float) -> np.ndarray:
    """Fractional green cover (0..1) on day of year ``doy``: a double logistic
    green-up/senescence per parcel, with mowing dips on meadows."""
    gmin, gmax, start, end, rise, fall, cut1, cut2 = surface.pheno
    up = 1.0 / (1.0 + np.exp(-(doy - start) / rise))
    down = 1.0 / (1.0 + np.exp(-(doy - end) / fall))
    g = gmin + (gmax - gmin) * (up - down)
    for cut in (cut1, cut2):
        after = doy >= cut
        g = np.where(after, g * (1.0 - 0.55 * np.exp(-(doy - np.minimum(cut, doy)) / 15.0)), g)
    out: np.ndarray = np.clip(g, 0.0, 1.0).astype(np.float32)
    return out
