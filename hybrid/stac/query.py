"""What load_collection asks of a STAC source, and the one predicate both kinds of source use.

Copernicus (load_stac path) turns ``max_cloud_cover`` and every ``properties`` condition
into a CQL2 filter sent to its STAC API, as written: ``lt`` stays ``<``, 20.5 stays 20.5
[openeo-geopyspark-driver openeogeotrellis/load_stac.py, ``PropertyFilter.to_cql2_filter``
in ``_ItemCollection.from_stac_api``]; the items the API returns are filtered once more
in-process (``post_query_property_filtering``, default on). Here the same conditions are
sent as CQL2-json to APIs (:func:`cql2_filter`) and evaluated by :func:`matches` for
static catalogs and on every API answer.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from typing import Any

from hybrid.errors import ProcessParameterInvalid, UsageError
from hybrid.grid import BBox
from hybrid.stac.item_properties import FILTERABLE, property_value

#: openEO comparison process -> CQL2 operator (``between`` becomes ``>=`` and ``<=``,
#: ``array_contains`` ``in``)
CQL2_OPERATORS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "eq": "=", "neq": "<>"}


class NotComparable(ProcessParameterInvalid):
    """An item's property value that a property filter's order comparison cannot read."""


@dataclass(frozen=True)
class Condition:
    """One property condition: ``properties[name] <op> value`` (op as in CQL2, plus
    ``like``: an ``eq`` on text with ``*``/``?`` wildcards, matched with fnmatch and never
    sent to an API, as Copernicus's ``PropertyFilter`` does, load_stac.py L2598-2614)."""

    name: str
    #: one of ``<``, ``<=``, ``>``, ``>=``, ``=``, ``<>``, ``like``, ``in``
    op: str
    #: a number, a text, or the tuple of values of ``in`` (``array_contains``)
    value: float | str | tuple[float | str, ...]

    @property
    def sent_to_api(self) -> bool:
        """Whether a STAC API search carries the condition (else only in-process)."""
        known = FILTERABLE.get(self.name)
        return self.op != "like" and (known is None or known.sent_to_api)

    def holds(self, actual: Any, item: Any = None, process: str = "load_collection") -> bool:
        """Whether an item's property value satisfies the condition (absent: never).

        A value that is not a number (``"eo:cloud_cover": "12.5"``) against a number
        compares as Copernicus's ``PropertyFilter`` compares it, with Python's operators
        on the value as the item writes it (openeo-geopyspark-driver load_stac.py
        L2604-2616): never equal, and an order comparison (``lte``, ``gte``) fails the
        job there with a TypeError; here it is refused as one clear line naming the
        ``item`` and the property (:class:`NotComparable`)."""
        if actual is None:
            return False
        if isinstance(self.value, tuple):
            return any(Condition(self.name, "=", v).holds(actual, item) for v in self.value)
        if isinstance(self.value, str):
            text = str(actual)
            if self.op == "like":
                return fnmatch.fnmatchcase(text, self.value)
            return text == self.value if self.op == "=" else text != self.value
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            if self.op in ("=", "<>"):
                return self.op == "<>"
            raise NotComparable(self._not_a_number(actual, item, process))
        number = float(actual)
        limit = self.value
        return {
            "<": number < limit,
            "<=": number <= limit,
            ">": number > limit,
            ">=": number >= limit,
            "=": number == limit,
            "<>": number != limit,
        }[self.op]

    def _not_a_number(self, actual: Any, item: Any, process: str) -> str:
        which = f"item {getattr(item, 'id', item)}" if item is not None else "an item"
        return (
            f"{process}: {which} has {self.name} {actual!r}, which is not a number, so "
            f"the filter {self} cannot compare it (Copernicus's load_stac fails on it too); "
            f"give the item a numeric {self.name} or drop the filter"
        )

    def cql2(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"op": self.op, "args": [{"property": self.name}, value]}

    def __str__(self) -> str:
        def shown(v: float | str) -> str:
            return f"'{v}'" if isinstance(v, str) else f"{v:g}"

        if isinstance(self.value, tuple):
            return f"{self.name} in ({', '.join(shown(v) for v in self.value)})"
        return f"{self.name} {self.op} {shown(self.value)}"


def cloud_condition(max_cloud_cover: float) -> Condition:
    """``max_cloud_cover`` as Copernicus applies it: ``eo:cloud_cover <= max``."""
    return Condition("eo:cloud_cover", "<=", float(max_cloud_cover))


@dataclass(frozen=True)
class SceneQuery:
    """What load_collection asks of a STAC source."""

    #: lon/lat bbox to intersect (already including any kernel buffer)
    bbox: BBox
    #: first day included, ``YYYY-MM-DD`` or an RFC 3339 timestamp
    start: str
    #: first day excluded
    end: str
    max_cloud_cover: float | None = None
    #: further property conditions (load_collection ``properties``), all must hold
    conditions: tuple[Condition, ...] = ()

    def all_conditions(self) -> tuple[Condition, ...]:
        """``conditions`` plus the ``max_cloud_cover`` one."""
        extra = () if self.max_cloud_cover is None else (cloud_condition(self.max_cloud_cover),)
        return (*self.conditions, *extra)

    def describe_filter(self) -> str:
        """The conditions in words, for messages (``no property filter`` if none)."""
        found = self.all_conditions()
        return " and ".join(str(c) for c in found) if found else "no property filter"


def cql2_filter(conditions: tuple[Condition, ...]) -> dict[str, Any] | None:
    """The CQL2-json filter of the ``conditions`` an API is sent (None when none is)."""
    conditions = tuple(c for c in conditions if c.sent_to_api)
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0].cql2()
    return {"op": "and", "args": [c.cql2() for c in conditions]}


def parse_instant(value: str, *, what: str) -> dt.datetime:
    """An ISO date or RFC 3339 timestamp as an aware UTC datetime."""
    from hybrid.rfc3339 import aware_datetime

    try:
        parsed = aware_datetime(value.strip())
    except ValueError as exc:
        raise UsageError(
            f"{what} '{value}' is not a date; use YYYY-MM-DD (e.g. 2023-05-01)"
        ) from exc
    return parsed.astimezone(dt.UTC)


def matches(item: Any, query: SceneQuery) -> bool:
    """Whether an item falls in the query (the in-process search of static catalogs)."""
    when = item.datetime or _start_datetime(item)
    if when is None:
        return False
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if not parse_instant(query.start, what="start") <= when < parse_instant(query.end, what="end"):
        return False
    if not all(c.holds(_recorded(item, c), item) for c in query.all_conditions()):
        return False
    return _meets(item, query.bbox)


def _meets(item: Any, b: BBox) -> bool:
    """Whether the item's footprint (its ``geometry``; its ``bbox`` when it has none)
    intersects the lon/lat box, as a STAC API's ``bbox`` search intersects the items'
    geometries (pgSTAC ``ST_Intersects``, the search Copernicus's load_stac sends to
    its STAC API: load_stac.py L1543): a partial-swath product whose bbox reaches the box
    but whose footprint does not is no product there, and none here, whether the source
    is a static catalog or an API."""
    footprint = _footprint(getattr(item, "geometry", None))
    if footprint is not None:
        from shapely.geometry import box

        return bool(footprint.intersects(box(b.west, b.south, b.east, b.north)))
    if item.bbox is None:
        return True
    bb = item.bbox
    west, south, east, north = (bb[0], bb[1], bb[3], bb[4]) if len(bb) == 6 else bb
    return not (east < b.west or west > b.east or north < b.south or south > b.north)


def _footprint(geometry: Any) -> Any:
    """The item's ``geometry`` as a shape when shapely reads it and it is valid; else None
    (its bbox decides, as Copernicus's load_stac intersects a static catalog's items:
    load_stac.py L1354), not an error out of the search."""
    if not geometry:
        return None
    from shapely.errors import ShapelyError
    from shapely.geometry import shape

    try:
        footprint = shape(geometry)
    except (ShapelyError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return footprint if footprint.is_valid else None


def _recorded(item: Any, condition: Condition) -> Any:
    """The item's value of the condition's property; a property Copernicus's items all
    record (grid:code, sat:*) but this item does not: one clear error, not an empty
    result (Copernicus would find it on its own items)."""
    value = property_value(item, condition.name)
    known = FILTERABLE.get(condition.name)
    if value is None and known is not None and not known.sent_to_api:
        everywhere = [p.name for p in FILTERABLE.values() if p.name != "sat:orbit_state"]
        raise ProcessParameterInvalid(
            f"load_collection: the property filter {condition} cannot be evaluated here: "
            f"item {item.id} does not record {condition.name} (Copernicus's items do); "
            f"every source here can be filtered on {', '.join(everywhere)} and tileId; "
            "drop that filter or read a source that records it (--stac cdse)"
        )
    return value


def _start_datetime(item: Any) -> dt.datetime | None:
    value = item.properties.get("start_datetime")
    return parse_instant(value, what="item start_datetime") if value else None
