"""Batches of one task graph, run one after the other, each handing the later ones the
values they would otherwise compute again.

:func:`hybrid.io.streaming.threaded_store` computes a store in batches of whole rows of
blocks, so that memory stays bounded by the batch and not by the area. Where the graph
links neighbouring blocks (a kernel's halo: dask's ``overlap`` takes strips of the
neighbours' blocks), a batch also computes the neighbouring row's input blocks, and the
next batch, whose own rows they are, computed them again: at 30 x 2048^2 a seventh of
the tasks' time (the cloud-mask reads, twice or three times).

:func:`run_batches` keeps, after each batch, the values the later batches need of what
it computed: the keys at the edge of what it computed and a later batch needs (a later
task depends on them and was not computed here). The later batch gets them as data, and
whatever only led to them is culled from it. A value is dropped after the last batch
that needs it, so what is held is a row of halo inputs at most, never the area.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Key = Any
Graph = dict[Key, Any]


def run_batches(
    graph: Graph, batches: Sequence[list[Key]], get: Callable[..., Any], **compute: Any
) -> None:
    """Compute each batch's output keys of ``graph`` with ``get``, batch after batch,
    handing later batches the values they share with earlier ones."""
    from dask._task_spec import DataNode, cull

    plans = [cull(graph, outputs) for outputs in batches]
    kept: dict[Key, Any] = {}
    for at, outputs in enumerate(batches):
        plan = plans[at]
        reused = {key: DataNode(key, kept[key]) for key in plan.keys() & kept.keys()}
        if reused:
            plan = cull({**plan, **reused}, outputs)
        computed = plan.keys() - reused.keys()
        following = plans[at + 1] if at + 1 < len(plans) else {}
        handed = _needed_by(following, available=plan.keys())
        requested = [key for key in handed if key in computed]
        values = get(plan, [*outputs, *requested], **compute)
        kept = {key: kept[key] for key in handed if key in reused}
        kept.update(zip(requested, values[len(outputs) :], strict=True))
        plans[at] = {}  # done with: let its tasks go


def _needed_by(plan: Graph, available: Any) -> set[Key]:
    """The keys of ``available`` that tasks of ``plan`` outside it depend on."""
    if plan.keys().isdisjoint(available):
        return set()
    return {
        dependency
        for key in plan.keys() - available
        for dependency in plan[key].dependencies
        if dependency in available
    }
