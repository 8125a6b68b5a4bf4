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

:func:`with_spatial_reducers` marks those nodes of every aggregate_spatial reducer in
a copy of the graph: medians of an integer cube get
:data:`~hybrid.backends.local.cell_types.INPUT_CELL_TYPE`
(:func:`hybrid.backends.local.processes.statistics.median`), quantiles get
``nearest_rank`` (:func:`hybrid.backends.local.processes.quantiles.quantiles`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from hybrid.backends.local.cell_types import INPUT_CELL_TYPE, result_cell_type

#: the argument that makes quantiles pick ranks as Spark's percentile_approx does
NEAREST_RANK = "nearest_rank"


def with_spatial_reducers(graph: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the flat ``graph`` with its aggregate_spatial reducers marked."""
    out = copy.deepcopy(dict(graph))
    for node in out.values():
        if not isinstance(node, dict) or node.get("process_id") != "aggregate_spatial":
            continue
        arguments = node.get("arguments") or {}
        dtype, _ = result_cell_type(out, arguments.get("data"))
        for step in _callback_nodes(arguments.get("reducer")):
            if step.get("process_id") == "quantiles":
                step.setdefault("arguments", {})[NEAREST_RANK] = True
            elif step.get("process_id") == "median" and dtype != "float32":
                step.setdefault("arguments", {})[INPUT_CELL_TYPE] = dtype
    return out


def _callback_nodes(callback: Any) -> Iterator[dict[str, Any]]:
    nodes = callback.get("process_graph") if isinstance(callback, Mapping) else None
    if isinstance(nodes, Mapping):
        yield from (node for node in nodes.values() if isinstance(node, dict))
