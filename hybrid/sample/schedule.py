"""The acquisitions of the sample season: dates, platforms, orbits and weather.

The schedule is fixed (the seed only changes the random fields drawn for each date), so
the special cases the project's tests rely on exist in every default sample:

- 2023-04-28 and 2023-10-02 fall outside the seed period, 2023-09-30 is its exclusive end;
- 2023-06-02: clouds concentrated over the AOI (AOI far cloudier than the tile);
- 2023-07-27: clouds everywhere but over the AOI (tile far cloudier than the AOI);
- 2023-07-02: 32TLR above 20 % cloud cover, 31TGL below (clouds east of 31TGL's extent);
- 2023-07-12: a second, reprocessed 32TLR item with higher cloud cover (sequence 1);
- 2023-06-09, 2023-08-13, 2023-10-02: acquisitions from the neighbouring orbit whose
  swath edge leaves a nodata strip (crossing the AOI on 2023-06-09);
- late April to June: snow above a snow line rising ~25 m a day (most in May, gone by July).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Where cloud cover is concentrated, relative to the AOI.
FOCI = ("none", "aoi", "away", "east", "north", "south")


@dataclass(frozen=True)
class Weather:
    """Sky conditions of one acquisition."""

    cloud: float
    """Target fraction of the 32TLR extent under cloud (0..1); ignored for focus "east"."""
    focus: str = "none"
    """One of :data:`FOCI`: where the clouds gather."""
    cirrus: float = 0.0
    """Target fraction of the extent under thin cirrus (0..1)."""


@dataclass(frozen=True)
class SwathEdge:
    """A straight swath edge (tilted like the orbit track) with nodata on one side."""

    offset_m: float
    """Easting of the edge at the AOI centre's northing, relative to the AOI centre."""
    nodata_side: str
    """"west" or "east": the side of the edge without data."""


@dataclass(frozen=True)
class Acquisition:
    """One datatake over the area: the tiles it yields and what the sky looked like."""

    sensing: dt.datetime
    """Sensing time (UTC) of the 32TLR granule."""
    platform: str
    """"sentinel-2a" or "sentinel-2b"."""
    relative_orbit: int
    weather: Weather
    tiles: tuple[str, ...]
    """MGRS tiles delivered for this datatake ("32TLR" always first)."""
    swath_edge: SwathEdge | None = None
    reprocessed: bool = False
    """True: a second 32TLR item (sequence 1) with a more cautious cloud mask exists."""

    @property
    def date(self) -> dt.date:
        return self.sensing.date()


_BASE_ORBIT = 108
_SIDE_ORBIT = 8
_FIRST = dt.date(2023, 4, 28)

# (cloud, focus, cirrus, with 31TGL, reprocessed) per 5-day base acquisition, in order.
_BASE: tuple[tuple[float, str, float, bool, bool], ...] = (
    (0.35, "none", 0.0, True, False),  # 04-28 outside the seed period
    (0.10, "none", 0.08, False, False),  # 05-03
    (0.60, "none", 0.0, False, False),  # 05-08
    (0.04, "none", 0.0, True, False),  # 05-13
    (0.30, "north", 0.0, False, False),  # 05-18 partial cloud over the AOI
    (0.97, "none", 0.0, False, False),  # 05-23 overcast
    (0.15, "none", 0.0, False, False),  # 05-28
    (0.15, "aoi", 0.0, False, False),  # 06-02 clouds over the AOI
    (0.00, "none", 0.0, False, False),  # 06-07 clear
    (0.45, "none", 0.15, False, False),  # 06-12
    (0.22, "south", 0.0, False, False),  # 06-17 partial cloud over the AOI
    (0.02, "none", 0.0, True, False),  # 06-22
    (0.70, "none", 0.0, False, False),  # 06-27
    (0.00, "east", 0.0, True, False),  # 07-02 32TLR > 20 %, 31TGL < 20 %
    (0.06, "none", 0.0, False, False),  # 07-07
    (0.08, "aoi", 0.0, False, True),  # 07-12 duplicate 32TLR item
    (0.00, "none", 0.0, True, False),  # 07-17 clear
    (0.85, "none", 0.0, False, False),  # 07-22
    (0.50, "away", 0.0, False, False),  # 07-27 clouds everywhere but the AOI
    (0.10, "none", 0.0, False, False),  # 08-01
    (0.35, "south", 0.0, False, False),  # 08-06 partial cloud over the AOI
    (0.05, "none", 0.0, False, False),  # 08-11
    (0.99, "none", 0.0, False, False),  # 08-16 overcast
    (0.12, "none", 0.0, True, False),  # 08-21
    (0.25, "none", 0.35, False, False),  # 08-26 heavy cirrus
    (0.03, "none", 0.0, False, False),  # 08-31
    (0.55, "none", 0.0, False, False),  # 09-05
    (0.08, "none", 0.0, False, False),  # 09-10
    (0.40, "north", 0.0, False, False),  # 09-15
    (0.00, "none", 0.0, True, False),  # 09-20 clear
    (0.18, "none", 0.0, False, False),  # 09-25
    (0.10, "none", 0.0, False, False),  # 09-30 the seed period's exclusive end
)

# Neighbouring-orbit acquisitions: (date, platform, cloud, 31TGL, swath edge).
_SIDE: tuple[tuple[dt.date, str, float, bool, SwathEdge], ...] = (
    (dt.date(2023, 6, 9), "sentinel-2a", 0.10, True, SwathEdge(-250.0, "west")),
    (dt.date(2023, 8, 13), "sentinel-2b", 0.15, False, SwathEdge(-1500.0, "west")),
    (dt.date(2023, 10, 2), "sentinel-2a", 0.20, True, SwathEdge(1400.0, "east")),
)


def acquisitions() -> tuple[Acquisition, ...]:
    """All acquisitions of the sample season, sorted by sensing time."""
    out: list[Acquisition] = []
    for k, (cloud, focus, cirrus, tgl, repro) in enumerate(_BASE):
        day = _FIRST + dt.timedelta(days=5 * k)
        # sensing times drift by a few seconds between passes, like real granules
        sensing = dt.datetime.combine(day, dt.time(10, 37, 40), tzinfo=dt.UTC)
        sensing += dt.timedelta(milliseconds=(k * 7919) % 12000)
        out.append(
            Acquisition(
                sensing=sensing,
                platform="sentinel-2b" if k % 2 == 0 else "sentinel-2a",
                relative_orbit=_BASE_ORBIT,
                weather=Weather(cloud=cloud, focus=focus, cirrus=cirrus),
                tiles=("32TLR", "31TGL") if tgl else ("32TLR",),
                reprocessed=repro,
            )
        )
    for j, (day, platform, cloud, tgl, edge) in enumerate(_SIDE):
        sensing = dt.datetime.combine(day, dt.time(10, 27, 52), tzinfo=dt.UTC)
        sensing += dt.timedelta(milliseconds=(j * 4561) % 9000)
        out.append(
            Acquisition(
                sensing=sensing,
                platform=platform,
                relative_orbit=_SIDE_ORBIT,
                weather=Weather(cloud=cloud),
                tiles=("32TLR", "31TGL") if tgl else ("32TLR",),
                swath_edge=edge,
            )
        )
    return tuple(sorted(out, key=lambda a: a.sensing))
