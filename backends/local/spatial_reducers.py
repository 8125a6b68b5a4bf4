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

from collections.abc import Iterator, Mapping
from typing import Any

from hybrid.backends.local.cell_types import INPUT_CELL_TYPE, CellTypes, integral
from hybrid.errors import ProcessParameterInvalid

#: the argument that makes quantiles pick ranks as Spark's percentile_approx does
NEAREST_RANK = "nearest_rank"
#: the argument that makes count give 0 for no valid value, as Spark's count does
SPARK_COUNT = "spark_count"
#: the aggregate_spatial argument :func:`mark_spatial_reducers` adds: per statistic,
#: whether Spark writes it as an integer (:func:`integer_statistics`)
INTEGER_STATISTICS = "integer_statistics"
#: aggregates that skip null cells whatever their ``ignore_nodata`` (Spark's own
#: aggregates; only first/last take the argument: SparkAggregateScriptBuilder.scala L140-141)
_NULLS_SKIPPED = frozenset(
    {"mean", "min", "max", "sum", "median", "sd", "variance", "product", "quantiles"}
)
#: aggregates that keep the integer type of an integer cube's column
_INPUT_TYPED = frozenset({"min", "max", "first", "last", "median", "sum"})
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
        integers = integer_statistics(
            arguments.get("reducer"), integral(types.raw(arguments.get("data")))
        )
        if integers is not None:
            arguments[INTEGER_STATISTICS] = integers


def integer_statistics(reducer: Any, integer_cube: bool) -> list[bool] | None:
    """Per statistic the reducer gives (in its order), whether Spark types it integral:
    ``count`` always (a long), ``min``/``max``/``first``/``last``/``median``/``sum``/
    ``quantiles`` of an integer cube (the column's IntegerType, a long for sum),
    ``mean``/``sd``/``variance``/``product`` never (doubles) [AggregatePolygonProcess.scala
    L328-333 types the columns; SparkAggregateScriptBuilder.scala L130-148]. None where
    the reducer's shape is not one of these or an array_create of them."""
    nodes = reducer.get("process_graph") if isinstance(reducer, Mapping) else None
    if not isinstance(nodes, Mapping):
        return None
    result = next((n for n in nodes.values() if isinstance(n, dict) and n.get("result")), None)
    if result is None:
        return None
    if result.get("process_id") != "array_create":
        return _kinds(result, integer_cube)
    flags: list[bool] = []
    for item in (result.get("arguments") or {}).get("data") or []:
        step = nodes.get(item.get("from_node")) if isinstance(item, Mapping) else None
        kinds = _kinds(step, integer_cube) if isinstance(step, dict) else None
        if kinds is None:
            return None
        flags += kinds
    return flags


def _kinds(step: dict[str, Any], integer_cube: bool) -> list[bool] | None:
    name = step.get("process_id")
    if name == "count":
        return [True]
    if name in _INPUT_TYPED:
        return [integer_cube]
    if name in ("mean", "sd", "variance", "product"):
        return [False]
    if name == "quantiles":
        arguments = step.get("arguments") or {}
        probabilities, q = arguments.get("probabilities"), arguments.get("q")
        if isinstance(probabilities, list):
            return [integer_cube] * len(probabilities)
        if isinstance(q, int) and q > 1:
            return [integer_cube] * (q - 1)
    return None


def _callback_nodes(callback: Any) -> Iterator[dict[str, Any]]:
    nodes = callback.get("process_graph") if isinstance(callback, Mapping) else None
    if isinstance(nodes, Mapping):
        yield from (node for node in nodes.values() if isinstance(node, dict))
