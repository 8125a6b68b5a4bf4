"""Which scenes a load uses: reprocessed duplicates resolved, items grouped per date.

As the Copernicus backend does in its load_stac path [openeo-geopyspark-driver
openeogeotrellis/load_stac.py ``ItemDeduplicator`` (~L1709-1910)]:

- two items are duplicates when their nominal datetimes are less than 30 s apart, their
  ``platform``, ``constellation``, ``gsd``, ``processing:level``, ``product:timeliness``,
  ``product:type``, ``sat:absolute_orbit``, ``sat:orbit_state`` (and SAR fields) are
  equal, their bboxes agree within 1e-3 degree and their geometries are equal within
  3e-4 degree (or overlap with a Dice coefficient >= 0.99); groups are formed greedily
  in nominal-datetime order;
- of a group the item with the greatest ``(updated, id)`` is kept - the most recently
  updated processing (``updated`` compared as text, absent counts as ""; ties: the
  greater id, which for Planetary Computer and CDSE ends with the product's
  generation time). FIELD_NOTES section 1 says "same tile and sensing time" and "most
  recently published/updated"; the code compares the fields above and ``updated`` only.
- timestamps are truncated to the UTC date; per date the items are in ascending source
  name (asset path) order, the order FileLayerProvider merges them in; which item may
  serve which 256-px key is :mod:`hybrid.stac.overlap`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

_TILE_IN_ID = re.compile(r"_T?(\d{2}[C-X][A-Z]{2})_")


def declared_epsg(fields: Any) -> int | None:
    """EPSG code from STAC projection fields (``proj:epsg`` or ``proj:code``), or None."""
    epsg = fields.get("proj:epsg")
    if epsg is None:
        code = fields.get("proj:code")
        if isinstance(code, str) and code.upper().startswith("EPSG:"):
            epsg = code.split(":", 1)[1]
    return int(epsg) if epsg is not None else None


def item_epsg(item: Any) -> int | None:
    """The item's native CRS (its own projection fields, else its first asset's), or None."""
    epsg = declared_epsg(item.properties)
    if epsg is None:
        for asset in item.assets.values():
            epsg = declared_epsg(asset.extra_fields)
            if epsg is not None:
                break
    return epsg


def mgrs_tile(item: Any) -> str:
    """The MGRS tile of an item (``32TLR``), from its properties or its id."""
    props = item.properties
    code = props.get("grid:code")
    if isinstance(code, str) and code.upper().startswith("MGRS-"):
        return code[5:].upper()
    zone, band, square = (
        props.get("mgrs:utm_zone"),
        props.get("mgrs:latitude_band"),
        props.get("mgrs:grid_square"),
    )
    if zone is not None and band and square:
        return f"{int(zone):02d}{band}{square}".upper()
    for key in ("s2:mgrs_tile", "tilename", "tileId"):
        if props.get(key):
            return str(props[key]).upper().lstrip("T")
    found = _TILE_IN_ID.search(item.id)
    return found.group(1) if found else item.id


def acquisition_date(item: Any) -> dt.date:
    """The UTC date of the item's :func:`nominal_datetime` (load_collection's date)."""
    return nominal_datetime(item).astimezone(dt.UTC).date()


#: nominal datetimes closer than this are the same acquisition (``time_shift_max``)
TIME_SHIFT_MAX_S = 30.0
#: properties that must be equal between duplicates (``DEFAULT_DUPLICATION_PROPERTIES``)
DUPLICATION_PROPERTIES = (
    "platform", "constellation", "gsd", "processing:level", "product:timeliness",
    "product:type", "sar:frequency_band", "sar:instrument_mode", "sar:observation_direction",
    "sar:polarizations", "sat:absolute_orbit", "sat:orbit_state",
)  # fmt: skip
#: bbox tolerance (degrees) and geometry tolerance (degrees) / Dice threshold
BBOX_EPSILON = 1e-3
GEOMETRY_EPSILON = 3e-4
DICE_THRESHOLD = 0.99


@dataclass(frozen=True)
class DailyScenes:
    """The items of one date, in merge order (ascending source name)."""

    date: dt.date
    items: tuple[Any, ...]
    #: older processings of the same acquisitions, not used (for ``hybrid scenes``)
    replaced: tuple[Any, ...] = ()


def nominal_datetime(item: Any) -> dt.datetime:
    """The item's ``datetime``, else its ``start_datetime`` (load_stac.py L321), in the
    offset the item writes it with (a naive one is UTC); read as pystac reads an item's
    ``datetime``."""
    import pystac.utils

    when = item.datetime
    if when is None:
        when = pystac.utils.str_to_datetime(item.properties["start_datetime"])
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _same_bbox(a: Any, b: Any) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return (
            len(a) == 4
            and len(b) == 4
            and all(abs(x - y) <= BBOX_EPSILON for x, y in zip(a, b, strict=True))
        )
    return a is None and b is None


def _same_geometry(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        import shapely
        from shapely.geometry import shape

        one, two = shape(a), shape(b)
        if shapely.equals_exact(shapely.normalize(one), shapely.normalize(two), GEOMETRY_EPSILON):
            return True
        total = one.area + two.area
        return total > 0 and 2 * one.intersection(two).area / total >= DICE_THRESHOLD
    return a is None and b is None


def is_duplicate(one: Any, two: Any) -> bool:
    """Whether two items are processings of the same acquisition (the driver's test)."""
    gap = abs((nominal_datetime(one) - nominal_datetime(two)).total_seconds())
    return (
        gap < TIME_SHIFT_MAX_S
        and all(one.properties.get(p) == two.properties.get(p) for p in DUPLICATION_PROPERTIES)
        and _same_bbox(one.bbox, two.bbox)
        and _same_geometry(one.geometry, two.geometry)
    )


def recency(item: Any) -> tuple[str, str]:
    """What decides among duplicates: ``updated`` (as text), then the id."""
    return str(item.properties.get("updated", "")), item.id


def duplicate_groups(items: list[Any]) -> Iterator[list[Any]]:
    """Groups of duplicates, formed greedily in nominal-datetime order."""
    ordered = sorted(items, key=nominal_datetime)
    handled: set[int] = set()
    for i, first in enumerate(ordered):
        if i in handled:
            continue
        group = [first]
        horizon = nominal_datetime(first) + dt.timedelta(seconds=TIME_SHIFT_MAX_S)
        for j in range(i + 1, len(ordered)):
            if nominal_datetime(ordered[j]) > horizon:
                break
            if is_duplicate(first, ordered[j]):
                group.append(ordered[j])
                handled.add(j)
        yield group


def smallest_href(item: Any) -> str:
    """An item's smallest asset href (its id without assets): the merge order of items
    whose bands' assets are not known (:func:`hybrid.stac.providers.band_path` is)."""
    hrefs = sorted(a.href for a in item.assets.values())
    return hrefs[0] if hrefs else item.id


def select_scenes(
    items: list[Any], merge_order: Callable[[Any], str] = smallest_href
) -> list[DailyScenes]:
    """The newest processing of each acquisition, grouped per UTC date, dates ascending;
    per date sorted by ``merge_order`` (the load's: :func:`hybrid.stac.providers.band_path`
    of its first band)."""
    kept: dict[dt.date, list[Any]] = defaultdict(list)
    replaced: dict[dt.date, list[Any]] = defaultdict(list)
    for group in duplicate_groups(items):
        best = max(group, key=recency)
        date = acquisition_date(best)
        kept[date].append(best)
        replaced[date].extend(i for i in group if i is not best)
    return [
        DailyScenes(
            date,
            tuple(sorted(kept[date], key=merge_order)),
            tuple(sorted(replaced[date], key=lambda i: i.id)),
        )
        for date in sorted(kept)
    ]
