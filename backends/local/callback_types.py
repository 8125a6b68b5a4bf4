"""The cell type of a callback's result on Copernicus, worked out from the callback as
openeo-geotrellis-extensions' ``OpenEOProcessScriptBuilder`` works out its
``resultingDataType`` (OpenEOProcessScriptBuilder.scala at 2a25a26e).

Copernicus builds a callback bottom-up, and every process records the cell type of its
result under the argument name its parent reads (``expressionEnd`` L1086-1247):

- a parameter has a type only when it is ``data``, the builder's
  ``defaultDataParameterName`` (``fromParameter`` L975-979): the cube's cell type for
  ``reduce_dimension``, ``aggregate_temporal(_period)`` and ``apply_dimension`` over
  ``t``, float32 for ``apply_dimension`` over ``bands`` (geopysparkdatacube.py L357);
  an ``apply`` callback's ``x`` has none (openeo-geopyspark-driver passes
  ``default_input_parameter`` but the setter is commented out, processgraphvisiting.py
  L19-24);
- a number constant: an integer that fits int32, any other number float32 when it
  has at most 7 significant digits as Java writes it, else float64
  (``constantArgument`` L937-955); a boolean is no cell type;
- ``add``/``subtract``/``multiply``: the union of the two types when both have one,
  else float32 (``xyFunction`` L883-901, ``cellTypeUnion`` L87-104); ``divide``,
  ``normalized_difference``, ``power``, ``mean``, ``sd``, ``variance`` float32;
- ``max``/``min`` keep the type of ``data``, ``median``/``first``/``last``/
  ``array_interpolate_linear`` and ``absolute``/``ceil``/``floor``/``round`` keep the
  type of their input when it has one (``PRESERVE_DATATYPE_MODE``), else float32;
  ``count`` is int32; ``int`` keeps an integer input type, else int32 (``intFunction``
  L1733-1747); ``linear_scale_range`` to an integer range converts (L1271-1322);
  comparisons and logic are bits; ``if`` the union of ``accept`` and ``reject``;
  ``array_find`` int16 (``arrayFind`` L643); ``array_create`` its array's type,
  ``array_append``, ``array_concat`` and ``array_modify`` the union of their two
  arrays' types, float32 for one without (L1372, L1391, L1421, L1435-1441; a literal
  list's type: :meth:`_Walk.array`);
- anything else float32 (``resultingDataType`` is reset at every ``expressionEnd``),
  ``sum``, ``product`` and the forced floats above among them.

The types are numpy dtype names; ``bool`` for geotrellis's bit cells.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from typing import Any

from hybrid.graph_structure import callback_graph

#: bits of each cell type (geotrellis ``CellType.bits``)
BIT_COUNT = {
    "bool": 1, "int8": 8, "uint8": 8, "int16": 16, "uint16": 16,
    "int32": 32, "float32": 32, "float64": 64,
}  # fmt: skip
_UNSIGNED = frozenset({"uint8", "uint16"})
_FLOATING = frozenset({"float32", "float64"})
FLOAT32 = "float32"
INT32 = "int32"
INT16 = "int16"
BITS = "bool"

_XY_UNION = frozenset({"add", "subtract", "multiply"})
_KEEP_DATA = frozenset({"max", "min", "median", "first", "last", "array_interpolate_linear"})
_KEEP_X = frozenset({"abs", "absolute", "ceil", "floor", "round"})
#: array processes whose result has the union of the types of these two arguments
_ARRAY_UNION = {
    "array_append": ("data", "value"),
    "array_concat": ("array1", "array2"),
    "array_modify": ("data", "values"),
}
_BIT_RESULT = frozenset(
    {"gt", "lt", "gte", "lte", "eq", "neq", "between", "any", "and", "all", "or", "xor",
     "is_nodata", "is_nan"}
)  # fmt: skip
#: how deep a chain of a callback's nodes is followed (deeper: float32); Python's
#: recursion limit stays far away
_DEPTH = 200


def union(a: str, b: str) -> str:
    """geotrellis-extensions ``cellTypeUnion`` (L87-104) on dtype names."""
    if BIT_COUNT[a] != BIT_COUNT[b]:
        return a if BIT_COUNT[a] > BIT_COUNT[b] else b
    if a in _FLOATING and b not in _FLOATING:
        return a
    if (a in _UNSIGNED) != (b in _UNSIGNED):
        if BIT_COUNT[a] == 8:
            return "int16"
        if a in _FLOATING or b in _FLOATING:
            return a if a in _FLOATING else b
        return INT32
    return b


def constant_type(value: Any) -> str | None:
    """The cell type Copernicus gives a number constant (``constantArgument``): a JSON
    integer that fits is a Java Integer, int32; any other number (py4j passes a Double,
    or a Long) float32 when ``BigDecimal(x.doubleValue()).precision <= 7``, else
    float64."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int) and -(2**31) <= value < 2**31:
        return INT32
    return FLOAT32 if _java_precision(float(value)) <= 7 else "float64"


def _java_precision(value: float) -> int:
    """``BigDecimal(value).precision`` in Scala: the digits of Java's
    ``Double.toString`` (plain with at least one decimal from 1e-3 to 1e7, so
    ``1234567.0`` has 8; else ``d.dddE±n`` with at least two digits, ``3.0E9``)."""
    text = repr(value)
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return len(decimal.Decimal(text).as_tuple().digits)
    return max(len(decimal.Decimal(text).normalize().as_tuple().digits), 2)


def callback_type(callback: Any, typed: Mapping[str, str]) -> str:
    """The cell type of ``callback``'s result (``{"process_graph": ...}``), its
    parameters typed as ``typed`` says (a name missing: no type)."""
    nodes = callback_graph(callback)
    if nodes is None:
        return FLOAT32
    results = [n for n in nodes.values() if isinstance(n, Mapping) and n.get("result")]
    if len(results) != 1:
        return FLOAT32
    return _Walk(nodes, typed).node(results[0], 0)


def counts_in_place(callback: Any) -> bool:
    """Whether ``callback`` is a lone ``count`` of its ``data`` without a condition
    expression. Over time Copernicus writes such counts into the first date's tile
    (``countValid``/``countAll`` through ``multibandReduce``, L223-224, L403-409; the
    dates' tiles have the cube's type, OpenEOProcesses.scala ``timeseriesForBand``
    L48-57), and no tile is converted to the builder's int32 (``applyTimeDimension``
    L134-147, ``aggregateTemporal`` L494-548) while the writers take the tiles' type
    (NetCDFRDDWriter.scala L158-160, geotiff/package.scala L444, L480-485): the result
    has the cube's type. A ``condition`` expression converts to int32 (L410-413)."""
    nodes = callback_graph(callback)
    if nodes is None or len(nodes) != 1:
        return False
    (node,) = nodes.values()
    arguments = (node.get("arguments") or {}) if isinstance(node, Mapping) else {}
    return (
        node.get("process_id") == "count"
        and arguments.get("data") == {"from_parameter": "data"}
        and arguments.get("condition") in (None, True)
    )


class _Walk:
    def __init__(self, nodes: Mapping[str, Any], typed: Mapping[str, str]) -> None:
        self.nodes = nodes
        self.typed = typed

    def value(self, value: Any, depth: int) -> str | None:
        """The type a parent records for an argument ``value``; None: none."""
        if isinstance(value, Mapping):
            if "from_parameter" in value:
                return self.typed.get(str(value["from_parameter"]))
            node = self.nodes.get(str(value.get("from_node")))
            return self.node(node, depth + 1) if isinstance(node, Mapping) else None
        return constant_type(value)

    def array(self, value: Any, depth: int) -> str | None:
        """The type an array argument has (``typeOrElse`` L1713-1730): a literal list's
        elements' union (``arrayEnd`` L1038-1042 records each one's type name) when
        every element is a process or typed parameter; a number or boolean element is
        recorded by its Java class name, which is no cell type, so the whole list has
        none; another node's result its type."""
        if not isinstance(value, list):
            return self.value(value, depth)
        if not value or any(not isinstance(v, Mapping) for v in value):
            return None
        types = [t for t in (self.value(v, depth) for v in value) if t is not None]
        if not types:
            return None
        merged = types[0]
        for other in types[1:]:
            merged = union(merged, other)
        return merged

    def node(self, node: Mapping[str, Any], depth: int) -> str:
        if depth > _DEPTH:
            return FLOAT32
        process = node.get("process_id")
        arguments = node.get("arguments") or {}

        def argument(name: str) -> str | None:
            return self.value(arguments.get(name), depth) if name in arguments else None

        if process in _BIT_RESULT:
            return BITS
        if process in _XY_UNION:
            x, y = argument("x"), argument("y")
            return union(x, y) if x is not None and y is not None else FLOAT32
        if process in _KEEP_DATA or process == "array_element":
            return argument("data") or FLOAT32
        if process in _KEEP_X:
            return argument("x") or FLOAT32
        if process == "count":
            return INT32
        if process == "array_find":
            return INT16
        if process in _ARRAY_UNION:
            first, second = (self.array(arguments.get(n), depth) for n in _ARRAY_UNION[process])
            return union(first or FLOAT32, second or FLOAT32)
        if process == "array_create":
            return self.array(arguments.get("data"), depth) or FLOAT32
        if process == "int":
            x = argument("x")
            return x if x is not None and x not in _FLOATING else INT32
        if process == "if":
            accept = argument("accept") or FLOAT32
            reject = argument("reject")
            return accept if reject is None else union(accept, reject)
        if process == "linear_scale_range":
            return _scaled_type(arguments)
        return FLOAT32


def _scaled_type(arguments: Mapping[str, Any]) -> str:
    from hybrid.backends.local.processes.elementwise import integer_cell_type

    cell_type = integer_cell_type(arguments.get("outputMin", 0.0), arguments.get("outputMax", 1.0))
    return FLOAT32 if cell_type is None else cell_type[0]
