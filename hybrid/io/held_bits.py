"""Boolean values held between the batches of a computation, kept as bits.

A large raster is computed in batches of rows of blocks (:mod:`hybrid.io.streaming`),
and a batch makes values a later batch reads: the halo of a kernel over a row reads the
cloud masks of the row below, which the batch above made. Those masks wait until their
own batch, one block per column and date, a byte a pixel. Packed with
``numpy.packbits`` they take an eighth of that, for one pass over the block to pack it
and one to unpack it.

:func:`held_as_bits` rewrites a task graph so that the tasks making the held values pack
them and every task reading them unpacks its own copy; a value that is not a boolean
numpy array passes through both unchanged. Used by the threaded store's gates
(:mod:`hybrid.io.batch_gates`) and by a cluster's batches
(:mod:`hybrid.backends.local.placement`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

Key = Any
Graph = dict[Key, Any]


@dataclass(frozen=True)
class PackedBits:
    """A boolean array stored as bits (``numpy.packbits``)."""

    bits: np.ndarray
    shape: tuple[int, ...]

    def __sizeof__(self) -> int:
        return int(self.bits.nbytes) + 64

    @property
    def nbytes(self) -> int:
        return int(self.bits.nbytes)


def packed_bits(value: Any) -> Any:
    """``value`` as :class:`PackedBits` when it is a boolean numpy array, else itself."""
    if type(value) is np.ndarray and value.dtype == np.bool_ and value.size:
        return PackedBits(np.packbits(value, axis=None), value.shape)
    return value


def unpacked_bits(value: Any) -> Any:
    """The boolean array :func:`packed_bits` packed (a new array), or ``value`` itself."""
    if isinstance(value, PackedBits):
        size = int(np.prod(value.shape))
        return np.unpackbits(value.bits, count=size).reshape(value.shape).view(np.bool_)
    return value


def held_as_bits(graph: Graph, packs: Collection[Key], reads: Collection[Key]) -> Graph:
    """``graph`` with the tasks of ``packs`` packing their values (:func:`packed_bits`)
    and every node that reads a key of ``reads`` (packed here or by an earlier graph)
    unpacking it: a task unpacks its argument, an alias becomes a task that unpacks
    what it passes on."""
    from dask._task_spec import Alias, Task, TaskRef

    packs = {key for key in packs if isinstance(graph.get(key), Task)}
    reads = {*reads, *packs}
    out = dict(graph)
    for key in packs:
        out[key] = Task(key, packed_bits, graph[key])
    for key, node in graph.items():
        read = node.dependencies & reads
        if not read:
            continue
        if isinstance(node, Alias):
            out[key] = Task(key, unpacked_bits, TaskRef(node.target))
        else:
            out[key] = out[key].substitute({d: Task(d, unpacked_bits, TaskRef(d)) for d in read})
    return out
