"""How Copernicus computes aggregate_spatial's reducer: as Spark SQL aggregates over one
column per band, typed integer for an integer cube and double for a float one
(openeo-geotrellis-extensions ``AggregatePolygonProcess.scala`` L217-225, L326-341;
the reducer's processes become aggregates in ``SparkAggregateScriptBuilder.scala``
L97-160). Two of them differ from the same process in a raster reducer:

- ``median``: ``median(col).cast(col.expr.dataType)``: the exact median, of which an
  integer cube keeps the integer part (the median of 1500 and 1501 is 1500), wherever
  the median sits in the reducer;
- ``quantiles``: ``percentile_approx(col, p, 100000)`` per probability: one of the
  values, not an interpolation between two (the value of rank ceil(p n)).

:func:`mark_spatial_reducers` marks those nodes of every aggregate_spatial reducer in
the engine's copy of the graph (the one ``with_cell_types`` made): medians of an
integer cube get
:data:`~hybrid.backends.local.cell_types.INPUT_CELL_TYPE`
(:func:`hybrid.backends.local.processes.statistics.median`), quantiles get
``nearest_rank`` (:func:`hybrid.backends.local.processes.quantiles.quantiles`), counts
``spark_count`` (0 where a geometry's pixels hold no valid value, where a raster
reducer gives nodata: :func:`hybrid.backends.local.processes.arrays.count`), and
``ignore_nodata: false`` is dropped from every aggregate but ``first``/``last``: Spark's
``avg``, ``min``, ``max``, ``sum``, ``median``, ``stddev``, ``variance``, ``product`` and
``percentile_approx`` skip null cells whatever the argument (SparkAggregateScriptBuilder.scala
L105, L120, L129-146 pass it only to ``first``/``last``), so a field with a nodata pixel
still gets its statistic of the valid ones, not nodata.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hybrid.backends.local.cell_types import INPUT_CELL_TYPE, CellTypes, integral
from hybrid.errors import ProcessParameterInvalid
from hybrid.graph_structure import callback_graph

#: the argument that makes quantiles pick ranks as Spark's percentile_approx does
NEAREST_RANK = "nearest_rank"
#: the argument that makes count give 0 for no valid value, as Spark's count does
SPARK_COUNT = "spark_count"
#: the aggregate_spatial argument :func:`mark_spatial_reducers` adds: per statistic,
#: whether Spark writes it as an integer (:func:`integer_statistics`)
INTEGER_STATISTICS = "integer_statistics"
#: the aggregate_spatial argument :func:`mark_spatial_reducers` adds: per statistic, the
#: name Spark gives its column (:func:`statistic_columns`)
STATISTIC_COLUMNS = "statistic_columns"
#: aggregates that skip null cells whatever their ``ignore_nodata`` (Spark's own
#: aggregates; only first/last take the argument: SparkAggregateScriptBuilder.scala L140-141)
_NULLS_SKIPPED = frozenset(
    {"mean", "min", "max", "sum", "median", "sd", "variance", "product", "quantiles"}
)
#: aggregates that keep the integer type of an integer cube's column
_INPUT_TYPED = frozenset({"min", "max", "first", "last", "median", "sum"})
#: the names Spark gives the other aggregates' columns (``{c}`` the band's column)
_SPARK_FUNCTIONS = {
    "mean": "avg({c})", "count": "count({c})", "max": "max({c})", "min": "min({c})",
    "first": "first({c})", "last": "last({c})", "product": "product({c})",
    "sd": "stddev_samp({c})", "sum": "sum({c})", "variance": "var_samp({c})",
}  # fmt: skip
#: the processes a reducer of aggregate_spatial may hold on Copernicus: its aggregates,
#: and array_create, which only lists them (SparkAggregateScriptBuilder.scala L97-160)
AGGREGATES = frozenset(
    {"mean", "count", "max", "min", "first", "last", "median", "product", "sd", "sum",
     "variance", "quantiles", "array_create"}
)  # fmt: skip


def check_reducer(node_id: str, reducer: Any) -> None:
    """An aggregate_spatial reducer Copernicus can build: one of :data:`AGGREGATES` per
    node; anything else (``extrema``, arithmetic on a mean) fails there with
    "Unsupported reducer for aggregate_spatial", here before the run."""
    for step in _callback_nodes(reducer):
        name = step.get("process_id")
        if name not in AGGREGATES:
            raise ProcessParameterInvalid(
                f"aggregate_spatial: {name!r} cannot be used in its reducer (as on "
                f"Copernicus, which computes it with Spark aggregates); use "
                f"{', '.join(sorted(AGGREGATES - {'array_create'}))}, several in an array_create",
                node=node_id,
            )


def mark_spatial_reducers(graph: dict[str, Any]) -> None:
    """Mark the aggregate_spatial reducers of the flat ``graph``, in place (give it a
    copy: the run's own, from with_cell_types)."""
    types = CellTypes(graph)  # each node's type worked out once for all the reducers
    for node in graph.values():
        if not isinstance(node, dict) or node.get("process_id") != "aggregate_spatial":
            continue
        arguments = node.get("arguments") or {}
        _list_members(arguments.get("reducer"))
        dtype, _ = types.of(arguments.get("data"))
        for step in _callback_nodes(arguments.get("reducer")):
            step_arguments = step.get("arguments")
            if step.get("process_id") in _NULLS_SKIPPED and isinstance(step_arguments, dict):
                step_arguments.pop("ignore_nodata", None)  # the default: nodata skipped
            if step.get("process_id") == "quantiles":
                step.setdefault("arguments", {})[NEAREST_RANK] = True
            elif step.get("process_id") == "count":
                step.setdefault("arguments", {})[SPARK_COUNT] = True
            elif step.get("process_id") == "median" and dtype != "float32":
                step.setdefault("arguments", {})[INPUT_CELL_TYPE] = dtype
        integer_cube = integral(types.raw(arguments.get("data")))
        for key, found in (
            (INTEGER_STATISTICS, integer_statistics(arguments.get("reducer"), integer_cube)),
            (STATISTIC_COLUMNS, statistic_columns(arguments.get("reducer"), integer_cube)),
        ):
            if found is not None:
                arguments[key] = found


def _list_members(reducer: Any) -> None:
    """An array_create ending the reducer with a node as ``data`` or ``repeat`` made the
    list of the aggregates it names, in the order of its arguments, in place: Copernicus
    ignores array_create and lists every aggregate its visitor meets
    (SparkAggregateScriptBuilder.scala L97-102), so the client's
    ``array_create(d.min(), d.count())``, which passes ``count`` as ``repeat``, gives
    ``[min, count]`` per band there (openeo-geopyspark-integrationtests
    test_integration.py L2050-2078); it was a 400 on ``repeat``."""
    nodes = callback_graph(reducer)
    if nodes is None:
        return
    result = _result_node(nodes)
    arguments = result.get("arguments") if result is not None else None
    if result is None or result.get("process_id") != "array_create" or not arguments:
        return
    if not any(_is_node(arguments.get(name)) for name in ("data", "repeat")):
        return
    members: list[Any] = []
    for value in arguments.values():
        members += value if isinstance(value, list) else [value] if _is_node(value) else []
    result["arguments"] = {"data": members}


def _result_node(nodes: Mapping[str, Any]) -> dict[str, Any] | None:
    """The node of a callback's graph marked ``result``, None without one."""
    return next((n for n in nodes.values() if isinstance(n, dict) and n.get("result")), None)


def _is_node(value: Any) -> bool:
    return isinstance(value, Mapping) and "from_node" in value


def integer_statistics(reducer: Any, integer_cube: bool) -> list[bool] | None:
    """Per statistic the reducer gives (in its order), whether Spark types it integral:
    ``count`` always (a long), ``min``/``max``/``first``/``last``/``median``/``sum``/
    ``quantiles`` of an integer cube (the column's IntegerType, a long for sum),
    ``mean``/``sd``/``variance``/``product`` never (doubles) [AggregatePolygonProcess.scala
    L328-333 types the columns; SparkAggregateScriptBuilder.scala L130-148]. None where
    the reducer's shape is not one of these or an array_create of them."""
    return _per_statistic(reducer, lambda step: _kinds(step, integer_cube))


def statistic_columns(reducer: Any, integer_cube: bool) -> list[str] | None:
    """Per statistic the reducer gives (in its order), the name Spark gives its column,
    ``{c}`` standing for the band's column (``avg({c})``, ``stddev_samp({c})``,
    ``CAST(median({c}) AS INT)``, ``percentile_approx({c}, 0.5, 100000)``): Copernicus
    keeps these names when the reducer gives several statistics (it renames the columns
    by the band labels only when there are as many: AggregatePolygonProcess.scala
    L349-355); the texts are those Spark 3.4.2 (openeo-geotrellis-extensions pom.xml L13)
    writes for the expressions of SparkAggregateScriptBuilder.scala L129-146, L120.
    None where the reducer's shape is not one of these or an array_create of them."""
    return _per_statistic(reducer, lambda step: _spark_names(step, integer_cube))


def _per_statistic(reducer: Any, describe: Callable[[dict[str, Any]], list[Any] | None]) -> Any:
    """``describe`` of each aggregate of the reducer, in the order of its statistics: the
    result node, or the items of the array_create it is; None where one has none."""
    nodes = callback_graph(reducer)
    if nodes is None:
        return None
    result = _result_node(nodes)
    if result is None:
        return None
    if result.get("process_id") != "array_create":
        return describe(result)
    found: list[Any] = []
    for item in (result.get("arguments") or {}).get("data") or []:
        ref = item.get("from_node") if isinstance(item, Mapping) else None
        step = nodes.get(ref) if isinstance(ref, str) else None
        described = describe(step) if isinstance(step, dict) else None
        if described is None:
            return None
        found += described
    return found


def _kinds(step: dict[str, Any], integer_cube: bool) -> list[bool] | None:
    name = step.get("process_id")
    if name == "count":
        return [True]
    if name in _INPUT_TYPED:
        return [integer_cube]
    if name in ("mean", "sd", "variance", "product"):
        return [False]
    if name == "quantiles":
        probabilities = _probabilities(step)
        return None if probabilities is None else [integer_cube] * len(probabilities)
    return None


def _spark_names(step: dict[str, Any], integer_cube: bool) -> list[str] | None:
    from hybrid.io.csv_text import java_double

    name = step.get("process_id")
    arguments = step.get("arguments") or {}
    if name == "count" and arguments.get("condition") is True:
        return ["count((({c} IS NULL) OR ({c} IS NOT NULL)))"]
    if name == "median":
        return [f"CAST(median({{c}}) AS {'INT' if integer_cube else 'DOUBLE'})"]
    if name == "quantiles":
        probabilities = _probabilities(step)
        if probabilities is None:
            return None
        return [f"percentile_approx({{c}}, {java_double(p)}, 100000)" for p in probabilities]
    return [_SPARK_FUNCTIONS[name]] if name in _SPARK_FUNCTIONS else None


def _probabilities(step: dict[str, Any]) -> list[float] | None:
    """quantiles' probabilities as Copernicus computes them (``q``: 1/q .. (q-1)/q,
    OpenEOProcessScriptBuilder.scala ``getQuantilesProbabilities`` L415-432)."""
    arguments = step.get("arguments") or {}
    probabilities, q = arguments.get("probabilities"), arguments.get("q")
    if isinstance(probabilities, list) and all(
        isinstance(p, int | float) and not isinstance(p, bool) for p in probabilities
    ):
        return [float(p) for p in probabilities]
    if isinstance(q, int) and not isinstance(q, bool) and q > 1:
        return [d / q for d in range(1, q)]
    return None


def _callback_nodes(callback: Any) -> Iterator[dict[str, Any]]:
    nodes = callback_graph(callback)
    if nodes is not None:
        yield from (node for node in nodes.values() if isinstance(node, dict))
