"""A lazy float cube's periods stacked for a temporal aggregation, one task per block.

:func:`hybrid.backends.local.processes.temporal._reduce_groups` hands its reducer the
periods as two axes, (period, member), padded with NaN to the longest period, as
float64 (Copernicus accumulates in doubles). With xarray's vectorized ``isel`` (dask's
``vindex``), then a rechunk of the members into one chunk and a cast, every block of a
period went through three copies of its float32 dates (the gathered slices, their
merge, their concatenation) before the float64 one. Here each block of the stack is one
task that copies its members' slices of the input blocks straight into one new float64
array, the same values bit for bit (``python -m benchmarks.timeline 30x2048``: 6596
tasks before, 6135 after; benchmarks/README.md, "Thirteenth round").
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

#: a member's source: (number of the input block along the axis, position inside it),
#: or None for the padding
Pick = tuple[int, int] | None


def stacked_periods(values: Any, axis: int, take: np.ndarray, valid: np.ndarray, run: int) -> Any:
    """The dask array ``values`` with ``axis`` replaced by (period, member): member ``m``
    of period ``p`` is ``values``'s position ``take[p, m]`` along ``axis`` where
    ``valid[p, m]``, NaN elsewhere; float64; the members in chunks of ``run``."""
    from dask._task_spec import Task, TaskRef
    from dask.array.core import Array
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    name = "period-stack-" + tokenize(values, axis, take, valid, run)
    starts = np.cumsum((0, *values.chunks[axis]))
    width = take.shape[1]
    runs = [range(first, min(first + run, width)) for first in range(0, width, run)]
    others = [at for at in range(values.ndim) if at != axis]
    around = [range(len(values.chunks[at])) for at in others]
    graph: dict[Any, Any] = {}
    for period, (at, members) in itertools.product(range(take.shape[0]), enumerate(runs)):
        picks = [_pick(starts, take[period, m], valid[period, m]) for m in members]
        for index in itertools.product(*around):
            before, after = index[:axis], index[axis:]
            shape = tuple(values.chunks[i][j] for i, j in zip(others, index, strict=True))
            sources = [TaskRef((values.name, *before, p[0], *after)) for p in picks if p]
            key = (name, *before, period, at, *after)
            graph[key] = Task(key, _stack_block, shape, axis, tuple(picks), *sources)
    chunks = (
        *values.chunks[:axis], (1,) * take.shape[0], tuple(len(m) for m in runs),
        *values.chunks[axis + 1 :],
    )  # fmt: skip
    layer = HighLevelGraph.from_collections(name, graph, dependencies=[values])
    meta = np.empty((0,) * (values.ndim + 1), dtype=np.float64)
    return Array(layer, name, chunks, dtype=np.float64, meta=meta)


def _pick(starts: np.ndarray, position: Any, valid: Any) -> Pick:
    if not valid:
        return None
    block = int(np.searchsorted(starts, int(position), side="right")) - 1
    return block, int(position) - int(starts[block])


def _stack_block(
    shape: tuple[int, ...], axis: int, picks: tuple[Pick, ...], *blocks: np.ndarray
) -> np.ndarray:
    """One block of the stack: its members' slices of ``blocks`` (one per member that is
    not padding, in order), cast to float64, NaN for the padding."""
    lead: tuple[Any, ...] = (slice(None),) * axis
    out = np.empty((*shape[:axis], 1, len(picks), *shape[axis:]), dtype=np.float64)
    sources = iter(blocks)
    for member, pick in enumerate(picks):
        target = out[(*lead, 0, member)]
        if pick is None:
            target[...] = np.nan
        else:
            np.copyto(target, next(sources)[(*lead, pick[1])])
    return out
