"""Which scenes a load uses, and in which order they are mosaicked.

As the Copernicus backend does (FileLayerProvider): one product per (date, MGRS tile),
the one with the lowest cloud cover; timestamps truncated to the UTC date; where tiles
overlap on a date, the product already in the target CRS first, the others filling
only its gaps.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
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
    when = item.datetime
    if when is None:
        when = dt.datetime.fromisoformat(item.properties["start_datetime"].replace("Z", "+00:00"))
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.date()


def _cloud(item: Any) -> float:
    value = item.properties.get("eo:cloud_cover")
    return float(value) if value is not None else float("inf")


@dataclass(frozen=True)
class DailyScenes:
    """The items of one date, in mosaic order (first wins, the rest fill gaps)."""

    date: dt.date
    items: tuple[Any, ...]


def select_scenes(items: list[Any], *, target_epsg: int) -> list[DailyScenes]:
    """One item per (date, tile), grouped per date in mosaic order, dates ascending."""
    best: dict[tuple[dt.date, str], Any] = {}
    for item in items:
        key = (acquisition_date(item), mgrs_tile(item))
        current = best.get(key)
        if current is None or (_cloud(item), item.id) < (_cloud(current), current.id):
            best[key] = item
    per_date: dict[dt.date, list[Any]] = defaultdict(list)
    for (date, _tile), item in best.items():
        per_date[date].append(item)
    return [
        DailyScenes(
            date,
            tuple(
                sorted(
                    per_date[date],
                    key=lambda i: (item_epsg(i) != target_epsg, _cloud(i), i.id),
                )
            ),
        )
        for date in sorted(per_date)
    ]
