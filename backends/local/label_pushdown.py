"""A filter_labels where Copernicus applies it: in the load, to the scenes' dates.

Copernicus's dry run hands the filter_labels nearest to the load on a path to that load,
with no blockers (openeo-python-driver 9e5b49b2 ``dry_run.py`` L149;
``get_source_constraints`` L509-551 takes the first one from the source,
``get_arguments_by_operation`` L325-330), and the load applies its condition to each
scene's date when the dimension is ``t`` (``load_params.py`` L221-223;
openeo-geotrellis-extensions FileLayerProvider.scala L1601-1606). The cube method does
nothing (openeo-geopyspark-driver 9baf2e10 geopysparkdatacube.py L298-301). So a
filter_labels on ``t`` after ``ndvi`` keeps the same dates as right after the load, but
one after ``aggregate_temporal_period`` selects the scenes that make the periods, not the
periods' labels; and a filter_labels behind another one on the same path is ignored.

Here (:func:`push_down`) the filter_labels on ``t`` nearest to the load is copied to
right after each load it reads (:func:`hybrid.backends.local.load_paths.copy_after_load`)
and itself marked :data:`IN_LOAD`, as is every filter_labels behind another one:
marked nodes return their cube unchanged (an ignored one with a warning). A
filter_labels that reads the load directly is that filter itself. Other dimensions:
``labels.filter_labels`` ignores them, with a warning. The condition sees each scene's
sensing time (:data:`SCENE_TIMES`) and keeps a date when one of its scenes passes (a
date whose scenes a bound splits is kept whole here, cut per scene there).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

# IN_LOAD: a filter_labels Copernicus applies elsewhere (in the load) or not at all
# returns its cube unchanged
from hybrid.backends.local.load_paths import IN_LOAD, copy_after_load, inputs, upstream

#: the sources whose reads take the dry run's constraints
_SOURCES = ("load_collection", "load_stac")
#: a loaded cube's attribute: per time label (the ``t`` coordinate's value, midnight UTC),
#: the sensing times of the scenes that make it. Copernicus's load hands the condition
#: each product's nominal date-time, not the day (FileLayerProvider.scala L1601-1606 with
#: ``f.nominalDate``, the item's ``datetime``: load_stac.py L321), so a ``date_between``
#: up to ``2023-06-30T00:00:00Z`` drops June 30's 10:37 scene
SCENE_TIMES = "hybrid:scene_times"


def scene_times(
    days: Iterable[tuple[dt.date, Iterable[dt.datetime]]],
) -> dict[Any, tuple[str, ...]]:
    """:data:`SCENE_TIMES` of the days ``(date, the times of its scenes)``, keyed as the
    loads label the days."""
    import numpy as np

    return {
        np.datetime64(day.isoformat(), "ns"): tuple(
            t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") for t in times
        )
        for day, times in days
    }


def push_down(graph: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the flat ``graph`` with each filter_labels where Copernicus applies it
    (module docstring)."""
    out = copy.deepcopy(dict(graph))
    for node_id, node in graph.items():
        if not isinstance(node, Mapping) or node.get("process_id") != "filter_labels":
            continue
        loads, path = upstream(graph, node_id, sources=_SOURCES)
        if not loads:
            continue
        nearer = [n for n in path - {node_id} if graph[n].get("process_id") == "filter_labels"]
        if nearer:
            out[node_id].setdefault("arguments", {})[IN_LOAD] = True
            _note_ignored(node_id, sorted(nearer))
            continue
        on_load = len(loads) == 1 and inputs(graph, node_id) == loads
        if on_load or (node.get("arguments") or {}).get("dimension") != "t":
            continue
        for load in loads:
            copy_after_load(graph, out, load, node_id, path, "filtered")
        out[node_id].setdefault("arguments", {})[IN_LOAD] = True
    return out


def _note_ignored(node_id: str, nearer: list[str]) -> None:
    from hybrid.run_warnings import warn

    warn(
        f"filter_labels '{node_id}' is ignored, as on Copernicus: its dry run applies only "
        f"the filter_labels nearest the load on a path ({', '.join(nearer)}); combine the "
        "conditions in that one"
    )
