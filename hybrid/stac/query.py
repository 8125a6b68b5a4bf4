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
from dataclasses import dataclass
from typing import Any

from hybrid.errors import UsageError
from hybrid.grid import BBox

#: openEO comparison process -> CQL2 operator (``between`` becomes ``>=`` and ``<=``)
CQL2_OPERATORS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "eq": "=", "neq": "<>"}


@dataclass(frozen=True)
class Condition:
    """One property condition: ``properties[name] <op> value`` (op as in CQL2)."""

    name: str
    #: one of ``<``, ``<=``, ``>``, ``>=``, ``=``, ``<>``
    op: str
    value: float | str

    def holds(self, actual: Any) -> bool:
        """Whether an item's property value satisfies the condition (absent: never)."""
        if actual is None:
            return False
        if isinstance(self.value, str):
            text = str(actual)
            return text == self.value if self.op == "=" else text != self.value
        try:
            number = float(actual)
        except (TypeError, ValueError):
            return False
        limit = self.value
        return {
            "<": number < limit,
            "<=": number <= limit,
            ">": number > limit,
            ">=": number >= limit,
            "=": number == limit,
            "<>": number != limit,
        }[self.op]

    def cql2(self) -> dict[str, Any]:
        return {"op": self.op, "args": [{"property": self.name}, self.value]}

    def __str__(self) -> str:
        return (
            f"{self.name} {self.op} {self.value:g}"
            if not isinstance(self.value, str)
            else f"{self.name} {self.op} '{self.value}'"
        )


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
    """The CQL2-json filter of ``conditions`` (None when there are none)."""
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0].cql2()
    return {"op": "and", "args": [c.cql2() for c in conditions]}


def parse_instant(value: str, *, what: str) -> dt.datetime:
    """An ISO date or RFC 3339 timestamp as an aware UTC datetime."""
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            f"{what} '{value}' is not a date; use YYYY-MM-DD (e.g. 2023-05-01)"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def matches(item: Any, query: SceneQuery) -> bool:
    """Whether an item falls in the query (the in-process search of static catalogs)."""
    when = item.datetime or _start_datetime(item)
    if when is None:
        return False
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if not parse_instant(query.start, what="start") <= when < parse_instant(query.end, what="end"):
        return False
    if not all(c.holds(item.properties.get(c.name)) for c in query.all_conditions()):
        return False
    if item.bbox is None:
        return True
    bb = item.bbox
    west, south, east, north = (bb[0], bb[1], bb[3], bb[4]) if len(bb) == 6 else bb
    b = query.bbox
    return not (east < b.west or west > b.east or north < b.south or south > b.north)


def _start_datetime(item: Any) -> dt.datetime | None:
    value = item.properties.get("start_datetime")
    return parse_instant(value, what="item start_datetime") if value else None
