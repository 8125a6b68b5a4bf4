"""A lazy raster's task graph prepared for a dask.distributed cluster: few tasks, and the
chain of each output block on one worker.

As dask builds it, the per-pixel chain of a Sentinel-2 graph (COG windows -> cloud
mask -> kernel with halo -> mask -> NDVI -> monthly mean) has about 140 small tasks per
output block: every task is a round trip through the scheduler, and the scheduler puts
the COG reads on whichever worker is free, so the dates of one block meet only after a
transfer (at 30 x 2048^2 on 2 workers: 2788 tasks, 0.93 GB between the workers and the
client; benchmarks/README.md). :func:`plan` changes where and in how many tasks the
same functions run, never what they compute (the result is bit-identical):

- every output block gets a worker (:func:`owners`): the batch's blocks in contiguous
  spatial runs, one run per worker, the first run rotating from batch to batch;
- every task goes to the worker of the output block at its own spatial position (the
  last two block indices of its key) among the blocks it feeds, else to the worker
  that most of those blocks have; a slice of data that several tasks read (a halo
  edge of a neighbour's cloud mask) runs where that data is, so only the slice moves;
- a task with a single dependent on the same worker is fused into it
  (``dask._task_spec.Task.fuse``): one output block's whole chain is one task, and
  what several blocks share (the cloud mask of a block, read by its neighbours' halo)
  is one task per block and date.

:func:`annotated` wraps the result as a graph whose tasks carry their worker as a
preference (``allow_other_workers``: a worker that leaves does not stall the run).
"""

from __future__ import annotations

import functools
import numbers
import operator
from collections import Counter
from typing import Any

#: a dask key: a string or a tuple (name, block numbers...)
Key = Any


def owners(outputs: list[Key], n_workers: int, rotation: int = 0) -> dict[Key, int]:
    """Worker number of every output block: the distinct spatial positions in order,
    split in ``n_workers`` contiguous runs (outputs at one position, such as the periods
    of a temporal aggregation, go together); fewer positions than workers: the outputs
    themselves are split. Run ``i`` goes to worker ``(i + rotation) % n_workers``."""
    places = list(dict.fromkeys(_spatial(k) for k in outputs))
    if len(places) >= n_workers:
        run = {p: i * n_workers // len(places) for i, p in enumerate(places)}
        return {k: (run[_spatial(k)] + rotation) % n_workers for k in outputs}
    count = len(outputs)
    return {k: (i * n_workers // count + rotation) % n_workers for i, k in enumerate(outputs)}


def plan(
    dsk: dict[Key, Any], outputs: list[Key], owner: dict[Key, int], keep: Any = ()
) -> tuple[dict[Key, Any], dict[Key, int]]:
    """The fused graph of ``dsk`` (culled to ``outputs``) and the worker number of each
    of its tasks, given the worker of each output block (module docstring); the keys in
    ``keep`` stay tasks of their own, as the outputs do (their values are asked for)."""
    deps = {k: {d for d in node.dependencies if d in dsk} for k, node in dsk.items()}
    dependents: dict[Key, list[Key]] = {k: [] for k in dsk}
    for key, ds in deps.items():
        for d in ds:
            dependents[d].append(key)
    order = _dependents_first(deps, dependents)
    place = _placement(dsk, order, dependents, outputs, owner)
    return _fused(dsk, order, dependents, {*outputs, *keep}, place), place


def _dependents_first(deps: dict[Key, set[Key]], dependents: dict[Key, list[Key]]) -> list[Key]:
    """Every key after all of its dependents (a reversed topological order)."""
    waiting = {k: len(v) for k, v in dependents.items()}
    ready = [k for k, n in waiting.items() if n == 0]
    order = []
    while ready:
        key = ready.pop()
        order.append(key)
        for d in deps[key]:
            waiting[d] -= 1
            if waiting[d] == 0:
                ready.append(d)
    return order


def _placement(
    dsk: dict[Key, Any],
    order: list[Key],
    dependents: dict[Key, list[Key]],
    outputs: list[Key],
    owner: dict[Key, int],
) -> dict[Key, int]:
    """Worker number of every task (module docstring). A task goes with the output
    blocks it feeds through whole values; those it feeds only through slices
    (``getitem``, halo strips: a neighbour's halo) count only when there are no others."""
    index = {k: i for i, k in enumerate(outputs)}
    position = [_spatial(k) for k in outputs]
    feeds: dict[Key, frozenset[int]] = {}
    whole: dict[Key, frozenset[int]] = {}
    place: dict[Key, int] = {}
    for key in order:
        fed = {index[key]} if key in index else set()
        strong = set(fed)
        for d in dependents[key]:
            fed |= feeds[d]
            if not _is_slicing(dsk[d]):
                strong |= whole[d]
        feeds[key], whole[key] = frozenset(fed), frozenset(strong)
        if fed:
            place[key] = _vote(strong or fed, key, position, [owner[k] for k in outputs])
    for key in reversed(order):  # dependencies first: a slice goes where its data is
        source = _sliced(dsk[key])
        if source is not None and source in place and len(dependents[source]) > 1:
            place[key] = place[source]
    return place


def _vote(fed: set[int], key: Key, position: list[tuple[int, int] | None], owner: list[int]) -> int:
    """The worker most of the output blocks ``fed`` have; on a tie the worker of the
    block at the task's own spatial position, else the lowest number."""
    votes = Counter(owner[i] for i in fed)
    most = max(votes.values())
    tied = sorted(w for w, n in votes.items() if n == most)
    here = _spatial(key)
    same = [owner[i] for i in sorted(fed) if here is not None and position[i] == here]
    return same[0] if len(tied) > 1 and same and same[0] in tied else tied[0]


def _is_slicing(node: Any) -> bool:
    """Whether ``node`` takes slices of a block (``getitem``, a block's halo strips)."""
    return getattr(node, "func", None) in _slicing_functions()


@functools.cache
def _slicing_functions() -> tuple[Any, ...]:
    from dask.array.chunk import getitem

    from hybrid.backends.local.halo import lent_edges

    return (operator.getitem, getitem, lent_edges)


def _sliced(node: Any) -> Key | None:
    """The one key a slicing task (``getitem``, halo strips, an alias) reads, else None."""
    from dask._task_spec import Alias

    if len(node.dependencies) != 1:
        return None
    if isinstance(node, Alias) or _is_slicing(node):
        return next(iter(node.dependencies))
    return None


def _fused(
    dsk: dict[Key, Any],
    order: list[Key],
    dependents: dict[Key, list[Key]],
    outputs: set[Key],
    place: dict[Key, int],
) -> dict[Key, Any]:
    """``dsk`` with every task that has one dependent on the same worker fused into it."""
    from dask._task_spec import Task

    into: dict[Key, Key] = {}
    for key, node in dsk.items():
        if key in outputs or len(dependents[key]) != 1 or getattr(node, "block_fusion", False):
            continue
        (dependent,) = dependents[key]
        if place.get(key) == place.get(dependent):
            into[key] = dependent
    groups: dict[Key, list[Key]] = {}
    for key in reversed(order):  # dependencies first, so each group is in running order
        head = key
        while head in into:
            head = into[head]
        groups.setdefault(head, []).append(key)
    return {
        head: dsk[head] if len(members) == 1 else Task.fuse(*(dsk[m] for m in members), key=head)
        for head, members in groups.items()
    }


def _spatial(key: Key) -> tuple[int, int] | None:
    """The last two block indices of an array task's key (y and x for the cubes of this
    engine, whose dimensions end with y, x), None for other keys."""
    if isinstance(key, tuple) and len(key) >= 3:
        y, x = key[-2], key[-1]
        if isinstance(y, numbers.Integral) and isinstance(x, numbers.Integral):
            return (int(y), int(x))
    return None


def annotated(fused: dict[Key, Any], place: dict[Key, int], workers: list[str]) -> Any:
    """A graph of ``fused`` whose tasks prefer the worker ``place`` gives them."""
    from dask.highlevelgraph import HighLevelGraph, MaterializedLayer

    where = {k: workers[w] for k, w in place.items() if k in fused}
    layer = MaterializedLayer(
        fused, annotations={"workers": where.get, "allow_other_workers": True}
    )
    return HighLevelGraph({"placed": layer}, {"placed": set()})


class PlacedBatches:
    """The blocks of a dask ``array`` submitted to a cluster batch by batch
    (:func:`hybrid.io.streaming.batch_positions`: a period's dates, whole rows of
    blocks), each batch fused and placed (:func:`plan`), at most ``ahead`` batches'
    worth of blocks in flight so that memory stays bounded by the batch, not the area.

    A batch also asks for the values the next batch needs of what it computes (a
    kernel's halo reads the cloud masks of the next row's blocks) and keeps their
    futures until the next batch is submitted without them (:func:`needed_by`):
    before, each batch computed its neighbouring rows' masks again (``python -m
    benchmarks.task_repeats 20x4096 --workers 1``: 8784 tasks for 7305 keys; now 7308).

    What is kept waits on the workers as bits when it is a boolean array (a cloud mask:
    :mod:`hybrid.io.held_bits`), as between the threaded store's batches.

    ``pending`` holds the futures not yet handed back; :meth:`top_up` submits batches
    while there is room, :meth:`position` is a finished future's block position,
    :meth:`close` lets go of what was kept for a batch that will not come."""

    def __init__(self, client: Any, array: Any, ahead: int = 2) -> None:
        from hybrid.io.streaming import batch_positions, optimized

        self._client = client
        self._graph, self._keys = optimized(array)
        self._batches = batch_positions(array.chunks)
        self._plans: dict[int, dict[Key, Any]] = {}
        self._kept: dict[Key, Any] = {}
        self._next = 0
        self._where: dict[Key, tuple[int, ...]] = {}
        self.total = sum(len(b) for b in self._batches)
        self.workers = sorted(client.scheduler_info().get("workers", {}))
        widest = max(len(b) for b in self._batches)
        self._room = max(ahead * widest, ahead * len(self.workers))
        self.pending: set[Any] = set()

    def top_up(self) -> None:
        """Submit the next batches while the blocks in flight stay within the room
        (always one batch when nothing is in flight)."""
        while self._next < len(self._batches):
            positions = self._batches[self._next]
            if self.pending and len(self.pending) + len(positions) > self._room:
                return
            self._submit(self._next, positions)
            self._next += 1

    def _submit(self, number: int, positions: list[tuple[int, ...]]) -> None:
        from hybrid.io.held_bits import held_as_bits

        outputs = self._outputs(number)
        graph = culled(self._plan(number), outputs, self._kept.keys())
        following = self._plan(number + 1) if number + 1 < len(self._batches) else {}
        handed = needed_by(following, available=graph.keys() | self._kept.keys())
        requested = [key for key in handed if key in graph]
        # what the cluster keeps for the next batch waits as bits (hybrid.io.held_bits)
        packs = [key for key in requested if not _is_slicing(graph[key])]
        graph = held_as_bits(graph, packs, {*packs, *self._kept})
        workers = self.workers or [None]
        mine = owners(outputs, len(workers), rotation=number)
        fused, place = plan(graph, outputs, mine, keep=requested)
        placed = annotated(fused, place, self.workers) if self.workers else fused
        futures = self._client.get(placed, [*outputs, *requested], sync=False)
        for future, position in zip(futures[: len(outputs)], positions, strict=True):
            self._where[future.key] = position
            self.pending.add(future)
        kept = {key: self._kept[key] for key in handed if key in self._kept}
        kept.update(zip(requested, futures[len(outputs) :], strict=True))
        for key in self._kept.keys() - kept.keys():  # submitted with what reads it
            self._kept[key].release()
        self._kept = kept
        del self._plans[number]

    def _outputs(self, number: int) -> list[Key]:
        from hybrid.io.streaming import block_key

        return [block_key(self._keys, p) for p in self._batches[number]]

    def _plan(self, number: int) -> dict[Key, Any]:
        """Batch ``number``'s whole graph (made once: a batch's graph is also read when
        the batch before it is submitted); its submission cuts it where it reaches a
        value kept from that batch (the cluster holds it, the task reads it there)."""
        if number not in self._plans:
            self._plans[number] = culled(self._graph, self._outputs(number))
        return self._plans[number]

    def position(self, future: Any) -> tuple[int, ...]:
        """The block position of a finished ``future``, which leaves ``pending``."""
        self.pending.discard(future)
        return self._where.pop(future.key)

    def close(self) -> None:
        """Let go of the values kept for the next batch."""
        for future in self._kept.values():
            future.release()
        self._kept = {}


def culled(graph: dict[Key, Any], outputs: list[Key], held: Any = ()) -> dict[Key, Any]:
    """The tasks of ``graph`` that ``outputs`` need, not counting the keys in ``held``
    nor what only they need."""
    found: dict[Key, Any] = {}
    todo = list(outputs)
    while todo:
        key = todo.pop()
        if key in found or key in held or key not in graph:
            continue
        found[key] = graph[key]
        todo.extend(graph[key].dependencies)
    return found


def needed_by(plan: dict[Key, Any], available: Any) -> set[Key]:
    """The keys of ``available`` that tasks of ``plan`` outside it depend on (what a
    batch hands the next one)."""
    if plan.keys().isdisjoint(available):
        return set()
    return {
        dependency
        for key in plan.keys() - available
        for dependency in plan[key].dependencies
        if dependency in available
    }
