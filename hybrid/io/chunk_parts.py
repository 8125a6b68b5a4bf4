"""A result's blocks cut along a file's chunk (tile) lattice.

The engine's blocks are about 1024 px but rarely start on a multiple of the files'
256-px chunks (the loader crops its padding to the COG blocks: 992 + 1056 px at
2048^2). A block holds some chunks whole; the chunks on its edges it shares with its
neighbours. Both writers store a chunk once, whole: the NetCDF writer deflates it and
writes it directly (:mod:`hybrid.io.netcdf_chunks`), the GTiff writer hands GDAL whole
tiles (:mod:`hybrid.io.gtiff`; a partial tile that GDAL's block cache flushed before its
neighbour arrived was compressed, written, read back and written again, leaving its
first copy in the file). :class:`PartAssembler` puts the shared chunks together.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: a chunk's position: the array index of its first element along each axis
Offset = tuple[int, ...]


@dataclass(frozen=True)
class ChunkLattice:
    """The chunks of an array of ``shape``: ``chunks`` along each axis, the last ones
    cut at the array's edge."""

    shape: tuple[int, ...]
    chunks: tuple[int, ...]

    def offsets(self, index: tuple[slice, ...]) -> list[Offset]:
        """The chunks that ``index`` (a block) touches."""
        ranges = [
            range(s.start - s.start % c, s.stop, c) for s, c in zip(index, self.chunks, strict=True)
        ]
        return list(itertools.product(*ranges))

    def extent(self, offset: Offset) -> tuple[slice, ...]:
        """The array index of the chunk at ``offset`` (cut at the array's edge)."""
        return tuple(
            slice(o, min(o + c, n)) for o, c, n in zip(offset, self.chunks, self.shape, strict=True)
        )

    def pieces(
        self, index: tuple[slice, ...], block: Any
    ) -> Iterator[tuple[Offset, tuple[slice, ...], Any, bool]]:
        """For each chunk ``block`` (the values at ``index``) touches: its offset, the
        array index of the piece the block holds, the piece's values (a view) and
        whether that is the whole chunk."""
        for offset in self.offsets(index):
            extent = self.extent(offset)
            cut = tuple(
                slice(max(e.start, s.start), min(e.stop, s.stop))
                for e, s in zip(extent, index, strict=True)
            )
            local = tuple(
                slice(c.start - s.start, c.stop - s.start) for c, s in zip(cut, index, strict=True)
            )
            yield offset, cut, block[local], cut == extent


class PartAssembler:
    """Parts of chunks put together until complete. Safe to call from several threads
    at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[Any, list[Any]] = {}

    def add(
        self, key: Any, lattice: ChunkLattice, index: tuple[slice, ...], values: np.ndarray
    ) -> list[tuple[Offset, np.ndarray]]:
        """Put a part (``values`` at the array index ``index``, within one chunk of
        ``lattice``; ``key`` names the array) into its chunk; the chunk's offset and
        values when it is now complete."""
        import numpy as np

        offset = tuple(s.start - s.start % c for s, c in zip(index, lattice.chunks, strict=True))
        extent = lattice.extent(offset)
        local = tuple(slice(s.start - o, s.stop - o) for s, o in zip(index, offset, strict=True))
        with self._lock:
            entry = self._pending.get((key, offset))
            if entry is None:
                shape = tuple(e.stop - e.start for e in extent)
                entry = self._pending[(key, offset)] = [
                    np.empty(shape, dtype=values.dtype),
                    int(np.prod(shape)),
                ]
            entry[0][local] = values
            entry[1] -= values.size
            if entry[1] > 0:
                return []
            del self._pending[(key, offset)]
        return [(offset, entry[0])]

    def incomplete(self) -> list[tuple[Any, Offset]]:
        """(key, offset) of the chunks still waiting for parts."""
        with self._lock:
            return list(self._pending)
