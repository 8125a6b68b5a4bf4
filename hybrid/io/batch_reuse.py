"""Batches of one task graph, run one after the other, each handing the next one the
values it would otherwise compute again.

:func:`hybrid.io.streaming.threaded_store` computes a store in batches of whole rows of
blocks, so that memory stays bounded by the batch and not by the area. Where the graph
links neighbouring blocks (a kernel's halo: dask's ``overlap`` takes strips of the
neighbours' blocks), a batch also computes the next row's input blocks, and the next
batch, whose own rows they are, computed them again (before this
module, ``python -m benchmarks.task_repeats 20x4096`` counted 9528 tasks for 7272 keys).

:func:`run_batches` asks each batch also for the values the next batch needs of what it
computed or was handed (the keys the next batch's own tasks depend on) and gives them to
that batch as data; whatever only led to them is culled from it. Values go to the next
batch only, so what is held is bounded by one batch's blocks, never by a row or the
area (handing them to any later batch held a row of masks across the runs of a wide row:
benchmarks/README.md, "Seventh round").
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
    handing each batch the values of the one before that it needs."""
    from dask._task_spec import DataNode, cull

    from hybrid.allocator import after_batch

    plans = [cull(graph, outputs) for outputs in batches]
    kept: dict[Key, Any] = {}
    for at, outputs in enumerate(batches):
        plan = plans[at]
        reused = {key: DataNode(key, kept[key]) for key in plan.keys() & kept.keys()}
        if reused:
            plan = cull({**plan, **reused}, outputs)
        computed = plan.keys() - reused.keys()
        following = plans[at + 1] if at + 1 < len(plans) else {}
        handed = needed_by(following, available=plan.keys())
        requested = [key for key in handed if key in computed]
        values = get(plan, [*outputs, *requested], **compute)
        kept = {key: kept[key] for key in handed if key in reused}
        kept.update(zip(requested, values[len(outputs) :], strict=True))
        plans[at] = {}  # done with: let its tasks go
        del values
        after_batch()  # HYBRID_TRIM_HEAP=1: trim the heap (hybrid.allocator)


def needed_by(plan: Graph, available: Any) -> set[Key]:
    """The keys of ``available`` that tasks of ``plan`` outside it depend on (what a
    batch hands the next one; also the cluster's batches,
    :class:`hybrid.backends.local.placement.PlacedBatches`)."""
    if plan.keys().isdisjoint(available):
        return set()
    return {
        dependency
        for key in plan.keys() - available
        for dependency in plan[key].dependencies
        if dependency in available
    }
