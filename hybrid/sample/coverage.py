"""What the embedded sample covers, and a warning when a load reaches beyond it.

The sample is synthetic Sentinel-2 scenes a few kilometres around the seed AOI
(lon 6.620..6.721, lat 45.208..45.282), 2023-04-28 to 2023-10-02. Copernicus has data
around it and outside that season: a load beyond the sample's scenes gets no data there
without any error (the run is a valid one of the sample), which a comparison with a
Copernicus recording of the same graph would find unexplained. So it says so, once per
load, in the run's warnings (the job's log in the emulator).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from hybrid.grid import BBox

#: the share of the requested area that may lie outside the scenes without a warning
#: (the grid snaps outward by up to a pixel)
TOLERATED = 0.01


def warn_beyond_sample(items: Sequence[Any], bbox: BBox, start: str, end: str) -> None:
    """Warn when ``bbox`` (in its CRS: a spatial_extent in UTM is compared in lon/lat)
    or the interval [``start``, ``end``) reaches beyond the sample's ``items`` (its
    scenes matching the load)."""
    from hybrid.grid import lonlat_bbox
    from hybrid.run_warnings import warn

    footprint = _footprint(items)
    outside = _outside_share(footprint, lonlat_bbox(bbox))
    first, last = _season()
    beyond_dates = start[:10] < first or end[:10] > (last + dt.timedelta(days=1)).isoformat()
    if outside <= TOLERATED and not beyond_dates:
        return
    w, s, e, n = footprint.bounds
    parts = [f"{outside:.0%} of the requested area"] if outside > TOLERATED else []
    parts += ["some of the requested dates"] if beyond_dates else []
    warn(
        f"the embedded sample's scenes lie within lon {w:.3f}..{e:.3f}, lat {s:.3f}..{n:.3f} "
        f"(not all of it: their footprint is no lon/lat rectangle) from {first} to {last}; "
        f"outside them ({', '.join(parts)}) there is no data here, where "
        "Copernicus has data: give --stac (a provider, or a catalog made by hybrid cache) "
        "for other areas and dates"
    )


def _footprint(items: Sequence[Any]) -> Any:
    import shapely
    from shapely.geometry import shape

    return shapely.union_all([shape(item.geometry) for item in items if item.geometry])


def _outside_share(footprint: Any, bbox: BBox) -> float:
    from shapely.geometry import box

    asked = box(bbox.west, bbox.south, bbox.east, bbox.north)
    if asked.area <= 0:
        return 0.0
    return float(asked.difference(footprint).area / asked.area)


def _season() -> tuple[str, dt.date]:
    """The first day (text) and the last day of the sample: all of its acquisitions',
    not only those matching the load (a cloud limit leaves dates out, not the season)."""
    from hybrid.sample.schedule import acquisitions

    days = [a.date for a in acquisitions()]
    return min(days).isoformat(), max(days)
