"""The item properties a SENTINEL2_L2A ``properties`` filter may test, read alike from
the items of every provider this project reads.

On Copernicus, SENTINEL2_L2A is a ``load_stac`` collection: the ``properties`` of
load_collection go to its STAC API (stac.dataspace.copernicus.eu, sentinel-2-l2a) under
the names the user wrote, as CQL2, and every answer is filtered once more in-process
(openeo-geopyspark-driver ``openeogeotrellis/layercatalog.py`` L772-780 passes them to
``load_stac``; ``load_stac.py`` L1018-1050 ``PropertyFilter`` and
``post_query_property_filtering``; ``PropertyFilter.build_matcher`` L2618-2631: an item
lacking the property never matches). So a filter names a property of the CDSE items,
with the value as CDSE writes it:

- ``grid:code``: the MGRS tile with its prefix, ``"MGRS-31UFS"``;
- ``sat:relative_orbit``: a number (``108``); ``sat:orbit_state``: ``"descending"``;
- ``eo:cloud_cover``, ``gsd``, ``platform`` (``"sentinel-2a"``), ``constellation``.

Names of the former OpenSearch source are translated as the layer catalog's
``property_filter_adaptations`` say (``AdaptingPropertyFilter``, load_stac.py
L2731-2806; the example in ``docs/layercatalog.md`` L195-210 is SENTINEL2_L2A's):
``tileId`` becomes ``grid:code`` with the ``MGRS-`` prefix added (``"31UFS"`` ->
``"MGRS-31UFS"``), ``productType`` is dropped (every item is L2A). The live CDSE layer
catalog is not public; other legacy names (``relativeOrbitNumber``,
``orbitDirection``) are refused with the STAC name to use, so a graph never means
something else here than there. Any other name is taken as written and compared with
the item's own property; an item without it never matches (as ``PropertyFilter``'s
post-query matcher, load_stac.py L2633), so ``eo:mgrs`` finds nothing on Copernicus's
items, which name the tile ``grid:code``.

The providers store these facts differently: CDSE has them all; Earth Search has
``grid:code`` and the relative orbit only inside ``s2:product_uri`` (``_R108_``) and no
orbit state; Planetary Computer has ``s2:mgrs_tile`` (``31UFS``), ``sat:*`` and the orbit
in its ids. :func:`property_value` reads each from wherever the item keeps it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hybrid.stac.selection import mgrs_tile

_RELATIVE_ORBIT = re.compile(r"_R(\d{3})_")


@dataclass(frozen=True)
class FilterableProperty:
    """One property a load_collection ``properties`` filter may test."""

    #: the name on Copernicus (its STAC items' property)
    name: str
    #: ``float`` (numbers) or ``str`` (text)
    kind: type
    #: a value as Copernicus's items hold it (messages show its ``repr``)
    example: float | str
    #: sent to STAC APIs in the search (every provider holds it under this name); the
    #: others are only evaluated in-process on the API's answer
    sent_to_api: bool
    #: reads the value from an item (None: the item does not record it)
    read: Callable[[Any], Any]


@dataclass(frozen=True)
class LegacyName:
    """A property name of Copernicus's former OpenSearch source and its adaptation."""

    name: str
    #: the STAC property it becomes; None: the filter is dropped
    target: str | None
    #: prefix added to text values (``add-MGRS-prefix``)
    prefix: str = ""


def _plain(name: str) -> Callable[[Any], Any]:
    return lambda item: item.properties.get(name)


def _grid_code(item: Any) -> str | None:
    """``MGRS-31UFS``: CDSE's and Earth Search's ``grid:code``, else built from the
    tile the item records elsewhere (``s2:mgrs_tile``, ``mgrs:*``, the id)."""
    code = item.properties.get("grid:code")
    if isinstance(code, str) and code:
        return code
    tile = mgrs_tile(item)
    return f"MGRS-{tile}" if tile != item.id else None


def _relative_orbit(item: Any) -> int | None:
    """``sat:relative_orbit``, else the ``R108`` of the product name (Earth Search's
    ``s2:product_uri``, Planetary Computer and CDSE ids)."""
    value = item.properties.get("sat:relative_orbit")
    if value is not None:
        return int(value)
    for text in (item.properties.get("s2:product_uri"), item.id):
        found = _RELATIVE_ORBIT.search(str(text or ""))
        if found:
            return int(found.group(1))
    return None


#: the filterable properties by name, in the order messages list them
FILTERABLE: dict[str, FilterableProperty] = {
    p.name: p
    for p in (
        FilterableProperty("eo:cloud_cover", float, 20, True, _plain("eo:cloud_cover")),
        FilterableProperty("gsd", float, 10, True, _plain("gsd")),
        FilterableProperty("platform", str, "sentinel-2a", True, _plain("platform")),
        FilterableProperty("constellation", str, "sentinel-2", True, _plain("constellation")),
        FilterableProperty("grid:code", str, "MGRS-31UFS", False, _grid_code),
        FilterableProperty("sat:relative_orbit", float, 108, False, _relative_orbit),
        FilterableProperty("sat:orbit_state", str, "descending", False, _plain("sat:orbit_state")),
    )
}
#: OpenSearch names Copernicus adapts (its layer catalog's property_filter_adaptations)
LEGACY_NAMES: dict[str, LegacyName] = {
    n.name: n for n in (LegacyName("tileId", "grid:code", "MGRS-"), LegacyName("productType", None))
}
#: OpenSearch names not known to be adapted: the STAC name to use instead
RENAMED = {"relativeOrbitNumber": "sat:relative_orbit", "orbitDirection": "sat:orbit_state"}


def queryables() -> dict[str, Any]:
    """The filterable properties as the JSON Schema ``properties`` of the collection's
    queryables (openEO API 1.2 ``GET /collections/{id}/queryables``)."""
    out: dict[str, Any] = {}
    for prop in FILTERABLE.values():
        schema: dict[str, Any] = {"type": "number" if prop.kind is float else "string"}
        if prop.name == "eo:cloud_cover":
            schema.update(minimum=0, maximum=100)
        if prop.name == "sat:orbit_state":
            schema["enum"] = ["ascending", "descending"]
        out[prop.name] = {"title": prop.name, **schema, "examples": [prop.example]}
    return out


def property_value(item: Any, name: str) -> Any:
    """The value of filterable property ``name`` for ``item`` (None: not recorded)."""
    known = FILTERABLE.get(name)
    return known.read(item) if known is not None else item.properties.get(name)
