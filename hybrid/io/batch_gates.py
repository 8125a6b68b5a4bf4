"""The batches of a threaded store run as one task graph, each batch opened by a gate.

:func:`hybrid.io.streaming.threaded_store` computes a store in batches of whole rows of
blocks, so that memory stays bounded by the batch and not by the area. Run one after
the other (one ``get`` per batch, each culled from the one graph), two things were
lost:

- parallelism: a batch waited for the last block of the one before it, while the other
  threads had nothing to do (``hybrid run`` at 18 x 1536^2: three batches at about 1.5
  of the 2 cores);
- work: a value two batches needed was computed twice unless the second was the very
  next batch (a kernel's halo reads the next row of blocks; a row wider than a batch
  is several batches, so the row below is not the next batch). A lon/lat AOI of
  4199^2 px is 5 blocks a row: ``python -m benchmarks.timeline 20x4096`` (the real
  ``hybrid run``) ran 10251 tasks before, 4714 now (with the crop of
  benchmarks/README.md's "Fifteenth round").

Here the batches are one graph. Batch ``k``'s entry tasks (those none of the batch's
other tasks lead to) wait for a gate task, which waits for all but the last of batch
``k - 1``'s blocks and all of batch ``k - 2``'s. Dask's threaded scheduler prefers the
tasks it ordered first, so a batch starts while the one before it finishes its last
block, and at most two batches run at once. Every key is computed once. The price: a
value a later batch needs is held until that batch has read it, as dask holds any
value until its last dependent has run. The halo of a row of blocks reads the cloud
masks of the row below, so the masks of the next row (not only the strips their
blocks lend, :mod:`hybrid.backends.local.halo`) stay in memory until their own batch:
memory grows with the width of the area and the dates of a period, not with its height
(``python -m benchmarks.batch_memory 4x8192`` prints what is held at each gate;
figures in benchmarks/README.md, "Fourteenth round" and "Fifteenth round").

A value held across a gate (made in one batch, read by a later one) is kept as bits
when it is a boolean array (:func:`bits_across_gates`, :mod:`hybrid.io.held_bits`): the
row below's cloud masks were 24-37 MiB of the 31-53 MiB held at each gate at 4 x
8192^2 px, and are 2-5 MiB as bits (benchmarks/README.md, "Sixteenth round").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hybrid.io.held_bits import Graph, Key, held_as_bits


def run_gated(
    graph: Graph, batches: Sequence[list[Key]], get: Callable[..., Any], **compute: Any
) -> None:
    """Compute every batch's output keys of ``graph`` with ``get`` (one call), each
    batch opened by its gate (:func:`gated`)."""
    get(gated(graph, batches), [key for outputs in batches for key in outputs], **compute)


def gated(graph: Graph, batches: Sequence[list[Key]]) -> Graph:
    """The part of ``graph`` the ``batches``' output keys need, each batch's entry tasks
    made to wait for its gate (:func:`gate_keys`)."""
    from dask._task_spec import Task, TaskRef, cull

    out: Graph = {}
    batch_of: dict[Key, int] = {}
    for number, outputs in enumerate(batches):
        plan = cull(graph, outputs)
        new = plan.keys() - out.keys()
        batch_of.update(dict.fromkeys(new, number))
        waits_for = gate_keys(batches, number)
        if number == 0 or not new:
            out.update({key: plan[key] for key in new})
            continue
        gate = ("hybrid-batch-gate", number)
        out[gate] = Task(gate, _opened, *(TaskRef(key) for key in waits_for))
        for key in new:
            node = plan[key]
            entry = node.dependencies.isdisjoint(new)
            out[key] = Task(key, _after, TaskRef(gate), node) if entry else node
    return bits_across_gates(out, batch_of, {key for batch in batches for key in batch})


def bits_across_gates(graph: Graph, batch_of: dict[Key, int], outputs: set[Key]) -> Graph:
    """``graph`` with every value a later batch reads (not an output) held as bits when it
    is a boolean array (:mod:`hybrid.io.held_bits`)."""
    held = {
        dependency
        for key, node in graph.items()
        for dependency in node.dependencies
        if dependency not in outputs and batch_of.get(dependency, -1) < batch_of.get(key, -1)
    }
    return held_as_bits(graph, held, held)


def gate_keys(batches: Sequence[list[Key]], number: int) -> list[Key]:
    """What batch ``number``'s gate waits for: the previous batch's output keys but its
    last, and all of the batch before that."""
    if number == 0:
        return []
    previous = batches[number - 1]
    before = batches[number - 2] if number >= 2 else []
    return [*before, *previous[: len(previous) - 1]]


def _opened(*_done: Any) -> None:
    """A gate: trims the heap when asked (``HYBRID_TRIM_HEAP=1``, :mod:`hybrid.allocator`)."""
    from hybrid.allocator import after_batch

    after_batch()


def _after(_gate: None, value: Any) -> Any:
    """An entry task's value, once its batch's gate has opened."""
    return value
