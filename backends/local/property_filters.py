"""load_collection's ``properties`` as the conditions its scene search evaluates.

As Copernicus reads them for SENTINEL2_L2A (a ``load_stac`` collection): each property
is one comparison of the callback's ``value`` with a constant, sent as CQL2 with the
value as written (20.5 stays 20.5) [openeo-python-driver
``openeo_driver/filter_properties.py`` L14-76 ``extract_literal_match``: eq, lte, gte and
``array_contains`` (-> ``in``), a constant on the left mirrors lte/gte; geopyspark-driver
``load_stac.py`` L2598-2614: an ``eq`` on text with ``*``/``?`` becomes a wildcard
match]. Here lt, gt, neq and between are taken too (the spec's comparisons). The names
and how each provider's items are read: :mod:`hybrid.stac.item_properties`.

A name neither Copernicus's items nor its layer catalog's adaptations know
(``eo:mgrs``, ``s2:mgrs_tile``) is not refused there: ``PropertyFilter`` sends it to the
STAC API as written (load_stac.py L1536-1539, L1609, L2702-2716) and its post-query matcher
drops every item that lacks it (L1628, L2633: ``name in properties and ...``), so a load
whose items all lack it finds nothing: 400 ``NoDataAvailable`` (L120-123, L268-269).
Here too: the condition is evaluated on the item's own property, items without it are
dropped.

A constant that is a parameter of the enclosing process (``max_cloud_cover=Parameter(...)``
of a stored UDP: ``{"from_parameter": "max_cloud_cover"}``) is valid until the process
runs: the openEO API's ``POST /validation`` "MUST NOT throw an error for unresolvable
process parameters" (openapi.yaml L2153). Copernicus's dry run does throw there today
(python-driver ``processgraph/evaluator.py`` L231-236 ProcessParameterRequired,
``filter_properties.py`` L42-46 "Unknown parameter"), a bug its maintainers track
(openeo-python-driver#198). Once the UDP is called its value replaces the reference
(:mod:`hybrid.server.udp_expansion`) and is checked like any constant; a run that still
has the reference is refused (:func:`require_resolved`), as Copernicus refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hybrid.errors import ProcessParameterInvalid
from hybrid.params import COLLECTION_ID
from hybrid.stac.item_properties import FILTERABLE, LEGACY_NAMES, RENAMED
from hybrid.stac.query import CQL2_OPERATORS, Condition

#: comparisons a property condition may use (``between`` too, for numbers)
_COMPARISONS = ("lt", "lte", "gt", "gte", "eq", "neq")
_VALUE = {"from_parameter": "value"}


class _Unresolved(Exception):
    """A comparison's constant is a parameter of the enclosing process, without value yet."""


def property_conditions(node_id: str, properties: Any) -> tuple[Condition, ...]:
    """load_collection's ``properties`` as conditions, as Copernicus's load_stac sends
    them to its STAC API (legacy names adapted as its layer catalog says)."""
    if not properties:
        return ()
    if not isinstance(properties, Mapping):
        raise ProcessParameterInvalid("load_collection: properties must be an object", node=node_id)
    found: list[Condition] = []
    for name, condition in properties.items():
        legacy = LEGACY_NAMES.get(name)
        target = legacy.target if legacy is not None else name
        if name in RENAMED:
            raise ProcessParameterInvalid(
                f"load_collection: property filter on '{name}' is not supported; "
                f"{COLLECTION_ID} items name it '{RENAMED[name]}' "
                f"(e.g. {FILTERABLE[RENAMED[name]].example!r}): filter on that",
                node=node_id,
            )
        node = _single_node(node_id, name, condition)
        try:
            parsed = _comparison(node_id, name, target or "productType", node)
        except _Unresolved:
            continue  # checked once the process is called with a value (require_resolved)
        if target is None:
            continue  # dropped, as Copernicus's adaptation "drop" does
        prefix = legacy.prefix if legacy is not None else ""
        found.extend(_prefixed(c, target, prefix) for c in parsed)
    return tuple(found)


def _single_node(
    node_id: str, name: str, condition: Any, process: str = "load_collection"
) -> Mapping[str, Any]:
    sub = (condition or {}).get("process_graph") if isinstance(condition, Mapping) else None
    if not isinstance(sub, Mapping) or len(sub) != 1:
        raise ProcessParameterInvalid(
            f"{process}: the {name} filter must be one comparison "
            f"({', '.join(_COMPARISONS)}, between or array_contains) of the value with a "
            "constant",
            node=node_id,
        )
    (node,) = sub.values()
    return node if isinstance(node, Mapping) else {}


def _prefixed(condition: Condition, name: str, prefix: str) -> Condition:
    """The condition on ``name``, text values with ``prefix`` (``add-MGRS-prefix``)."""
    value = condition.value
    if prefix and isinstance(value, tuple):
        value = tuple(f"{prefix}{v}" if isinstance(v, str) else v for v in value)
    elif prefix and isinstance(value, str):
        value = f"{prefix}{value}"
    return Condition(name, condition.op, value)


def _comparison(
    node_id: str, name: str, target: str, node: Mapping[str, Any], process: str = "load_collection"
) -> list[Condition]:
    """One comparison node of a property filter as conditions (between gives two); a
    property not in :data:`FILTERABLE` compares as its constant is (number or text)."""
    op = str(node.get("process_id"))
    args = node.get("arguments") or {}
    kind = FILTERABLE[target].kind if target in FILTERABLE else _constant_kind(args)

    def constant(value: Any) -> float | str:
        if _parameter(value) is not None:
            raise _Unresolved
        ok = (
            isinstance(value, str)
            if kind is str
            else (isinstance(value, int | float) and not isinstance(value, bool))
        )
        if not ok:
            raise ProcessParameterInvalid(
                f"{process}: {name} filter '{op}' needs a "
                f"{'text' if kind is str else 'number'} constant, got {value!r}",
                node=node_id,
            )
        return value if isinstance(value, str) else float(value)

    data = args.get("data")
    if op == "array_contains" and args.get("value") == _VALUE and isinstance(data, list):
        return [Condition(name, "in", tuple(constant(v) for v in data))]
    if op == "between" and kind is float and args.get("x") == _VALUE:
        upper = "<" if args.get("exclude_max") else "<="
        return [
            Condition(name, ">=", constant(args.get("min"))),
            Condition(name, upper, constant(args.get("max"))),
        ]
    allowed = _COMPARISONS if kind is float else ("eq", "neq")
    for own, other, mirror in (("x", "y", False), ("y", "x", True)):
        if op in allowed and args.get(own) == _VALUE:
            value = constant(args.get(other))
            if mirror:
                op = {"lt": "gt", "lte": "gte", "gt": "lt", "gte": "lte"}.get(op, op)
            wildcard = op == "eq" and isinstance(value, str) and any(c in value for c in "*?")
            return [Condition(name, "like" if wildcard else CQL2_OPERATORS[op], value)]
    raise ProcessParameterInvalid(
        f"{process}: {name} filter '{op}' is not supported; use one of "
        f"{', '.join(allowed)}{' or between' if kind is float else ''} or array_contains "
        "comparing the value with a constant (e.g. load_collection(max_cloud_cover=20))",
        node=node_id,
    )


def _constant_kind(args: Mapping[str, Any]) -> type:
    """float when the comparison's constant (the argument that is not the value, or
    array_contains' first element) is a number, else str."""
    others = [v for k, v in args.items() if v != _VALUE and k in ("x", "y", "min", "data")]
    first = others[0] if others else None
    first = first[0] if isinstance(first, list) and first else first
    number = isinstance(first, int | float) and not isinstance(first, bool)
    return float if number else str


def stac_property_conditions(node_id: str, properties: Any) -> tuple[Condition, ...]:
    """load_stac's ``properties`` on any item property as conditions, as Copernicus's
    ``PropertyFilter`` reads them (one comparison of the value with a constant each)."""
    if not properties:
        return ()
    if not isinstance(properties, Mapping):
        raise ProcessParameterInvalid("load_stac: properties must be an object", node=node_id)
    found: list[Condition] = []
    for name, condition in properties.items():
        node = _single_node(node_id, str(name), condition, "load_stac")
        try:
            found.extend(_comparison(node_id, str(name), str(name), node, "load_stac"))
        except _Unresolved:
            continue  # checked once the process is called with a value (require_resolved)
    return tuple(found)


def _parameter(value: Any) -> str | None:
    """The name of the process parameter ``value`` refers to (not the callback's own)."""
    if isinstance(value, Mapping) and set(value) == {"from_parameter"} and value != _VALUE:
        return str(value["from_parameter"])
    return None


def require_resolved(node_id: str, properties: Any, process: str = "load_collection") -> None:
    """Before a load runs: no property filter may still read a parameter without value
    (Copernicus: ``filter_properties.py`` L42-46, "Unknown parameter")."""
    for name, parameter in _parameters_read(properties):
        raise ProcessParameterInvalid(
            f"{process}: the {name} filter reads the parameter '{parameter}', which "
            f"has no value here: call the user-defined process with {parameter} (or give "
            "the parameter a default)",
            node=node_id,
        )


def _parameters_read(properties: Any) -> list[tuple[str, str]]:
    """(property, parameter) for each process parameter the property filters read."""
    found: list[tuple[str, str]] = []
    for name, condition in (properties or {}).items() if isinstance(properties, Mapping) else ():
        graph = condition.get("process_graph") if isinstance(condition, Mapping) else None
        nodes = graph.values() if isinstance(graph, Mapping) else ()
        for node in nodes:
            args = node.get("arguments") if isinstance(node, Mapping) else None
            for value in (args or {}).values():
                items = value if isinstance(value, list) else [value]
                found.extend((name, p) for p in map(_parameter, items) if p is not None)
    return found
