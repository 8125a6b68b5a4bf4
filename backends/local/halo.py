"""A function mapped over the blocks of a dask array with a halo from the neighbouring
blocks (y and x, the last two axes), in two tasks a block.

``dask.array.map_overlap`` takes every strip and corner a block lends its neighbours
as a task of its own (``getitem``), gathers them with the block in a ``concatenate``
task and only then runs the function: 3315 slicing tasks of the 6135 of a ``hybrid
run`` at 30 x 2048^2 (``python -m benchmarks.timeline 30x2048`` before this module),
each a round trip through the scheduler for a few thousand pixels. Here each block
lends its strips and corners in one task (:func:`lent_edges`, copies: a strip does not
keep its block alive), and each block's task pastes its neighbours' strips around a
copy of it and runs the function: the same array the function gets from
``map_overlap`` (``boundary="none"``: no halo beyond the array's edges), the same
result trimmed the same way.

The halo comes from the adjacent blocks only; a halo deeper than the smallest block
goes through ``map_overlap``, which rechunks for it. On a cluster
(:mod:`hybrid.backends.local.placement`) :func:`lent_edges` counts as slicing: it runs
where its block is, and only the strips cross between workers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

#: a neighbour's direction (rows, columns), each -1 (above / left), 0 or +1
Side = tuple[int, int]

_AROUND: tuple[Side, ...] = tuple(
    (a, b) for a in (-1, 0, 1) for b in (-1, 0, 1) if (a, b) != (0, 0)
)


def map_with_halo(
    func: Callable[..., np.ndarray], values: Any, depth: tuple[int, int], dtype: Any, **kwargs: Any
) -> Any:
    """``func(block_with_halo, **kwargs)`` for every block of the dask array ``values``,
    the halo ``depth`` (rows, columns) deep, the result trimmed to the block (as
    ``map_overlap(..., boundary="none")``); ``func`` keeps the shape it is given."""
    import dask.array as da
    from dask._task_spec import Task, TaskRef
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    rows, cols = values.chunks[-2:]
    if not _adjacent_reach(depth, rows, cols) or depth == (0, 0):
        lead = {axis: 0 for axis in range(values.ndim - 2)}
        overlap = {**lead, values.ndim - 2: depth[0], values.ndim - 1: depth[1]}
        return da.map_overlap(func, values, depth=overlap, boundary="none", dtype=dtype, **kwargs)
    token = tokenize(func, values, depth, kwargs)
    edges_name, name = f"halo-edges-{token}", f"{func.__name__}-halo-{token}"
    graph: dict[Any, Any] = {}
    for index in itertools.product(*(range(n) for n in values.numblocks)):
        sides = _neighbours(index, values.numblocks)
        block, center = (name, *index), TaskRef((values.name, *index))
        if sides:  # lent to the neighbours on the same sides
            edges = (edges_name, *index)
            graph[edges] = Task(edges, lent_edges, depth, sides, center)
        lenders = [TaskRef((edges_name, *_moved(index, side))) for side in sides]
        graph[block] = Task(block, _run_with_halo, func, kwargs, depth, sides, center, *lenders)
    layer = HighLevelGraph.from_collections(name, graph, dependencies=[values])
    meta = np.empty((0,) * values.ndim, dtype=dtype)
    return da.Array(layer, name, values.chunks, dtype=dtype, meta=meta)


def map_with_border(
    func: Callable[..., np.ndarray],
    values: Any,
    depth: tuple[int, int],
    dtype: Any,
    *,
    mode: str = "constant",
    constant: float = float("nan"),
    **kwargs: Any,
) -> Any:
    """:func:`map_with_halo` over ``values`` extended ``depth`` (rows, columns) beyond
    its edges as numpy's pad ``mode`` says (``constant`` for "constant": NaN counts as
    no data beyond the edges), the extension cut off again."""
    import dask.array as da

    rows, cols = depth
    pad = [(0, 0)] * (values.ndim - 2) + [(rows, rows), (cols, cols)]
    if mode == "constant":
        padded = da.pad(values, pad, mode="constant", constant_values=constant)
    else:
        padded = da.pad(values, pad, mode=mode)
    out = map_with_halo(func, padded, depth, dtype, **kwargs)
    return out[..., rows : rows + values.shape[-2], cols : cols + values.shape[-1]]


def _adjacent_reach(depth: tuple[int, int], rows: tuple[int, ...], cols: tuple[int, ...]) -> bool:
    """Whether the adjacent blocks alone hold the halo on both axes."""
    return all(
        len(sizes) == 1 or reach <= min(sizes)
        for reach, sizes in ((depth[0], rows), (depth[1], cols))
    )


def _neighbours(index: tuple[int, ...], numblocks: tuple[int, ...]) -> tuple[Side, ...]:
    """The sides of block ``index`` that have a neighbouring block."""
    (i, j), (ny, nx) = index[-2:], numblocks[-2:]
    return tuple(s for s in _AROUND if 0 <= i + s[0] < ny and 0 <= j + s[1] < nx)


def _moved(index: tuple[int, ...], side: Side) -> tuple[int, ...]:
    return (*index[:-2], index[-2] + side[0], index[-1] + side[1])


def _strips(depth: tuple[int, int], shape: tuple[int, ...]) -> tuple[dict[int, slice], ...]:
    """For rows and for columns: the slice of a block that goes to the neighbour on
    side -1, 0 (all of them) or +1."""
    return tuple(
        {-1: slice(0, reach), 0: slice(None), 1: slice(size - reach, size)}
        for reach, size in zip(depth, shape[-2:], strict=True)
    )


def lent_edges(depth: tuple[int, int], sides: tuple[Side, ...], block: np.ndarray) -> dict:
    """The strips and corners of ``block`` its neighbours on ``sides`` need, as copies."""
    rows, cols = _strips(depth, block.shape)
    return {side: block[..., rows[side[0]], cols[side[1]]].copy() for side in sides}


def _run_with_halo(
    func: Callable[..., np.ndarray],
    kwargs: dict[str, Any],
    depth: tuple[int, int],
    sides: tuple[Side, ...],
    block: np.ndarray,
    *lenders: dict,
) -> np.ndarray:
    """``func`` of ``block`` with its neighbours' strips around it, trimmed to ``block``."""
    (dy, dx), (h, w) = depth, block.shape[-2:]
    top, left = dy * any(s[0] < 0 for s in sides), dx * any(s[1] < 0 for s in sides)
    bottom, right = dy * any(s[0] > 0 for s in sides), dx * any(s[1] > 0 for s in sides)
    rows = {-1: slice(0, top), 0: slice(top, top + h), 1: slice(top + h, top + h + bottom)}
    cols = {-1: slice(0, left), 0: slice(left, left + w), 1: slice(left + w, left + w + right)}
    padded = np.empty((*block.shape[:-2], top + h + bottom, left + w + right), block.dtype)
    padded[..., rows[0], cols[0]] = block
    for side, lent in zip(sides, lenders, strict=True):
        padded[..., rows[side[0]], cols[side[1]]] = lent[(-side[0], -side[1])]
    return func(padded, **kwargs)[..., top : top + h, left : left + w]
