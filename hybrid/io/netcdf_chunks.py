"""A raster result's file chunks deflated where its blocks are computed, and written
into the NetCDF as they are (HDF5 direct chunk writes).

netCDF-C deflates every chunk itself, in the one thread that writes, under
:data:`hybrid.io.netcdf_layout.NETCDF4_LOCK`: for the benchmark's 30 dates x 2048^2
(5 months of float32) 4.9 CPU seconds of single-threaded zlib in the writer, and on a
Dask cluster all of it in the client, which then received the raw blocks. Here:

- :class:`BlockEncoder` runs where a block is computed (a dask thread - libdeflate
  releases the GIL - or a cluster's worker, so only deflated bytes travel to the
  client): every file chunk the block holds whole becomes its deflated bytes; the parts
  of chunks the block shares with a neighbour travel raw. The engine's blocks are about
  1024 px but can start off a multiple of 256 (the loader crops its COG-block-aligned
  padding: 992 + 1056 px at 2048^2), so a block's edge row and column of chunks is
  usually shared.
- :class:`DirectChunkWriter` writes the deflated chunks into the file netCDF4 defined
  (h5py ``write_direct_chunk``), and puts the shared chunks together from their parts,
  deflating each once complete (in the thread that brings the last part).

The file is the one netCDF-C would write, chunk for chunk, but for the deflate encoder:
HDF5's deflate filter (HDFGroup/hdf5 ``src/H5Zdeflate.c`` at 84d6d40,
``H5Z_filter_deflate``) is zlib's ``compress2`` of the whole chunk at the level, into a
buffer of 1.001 x the chunk + 12 bytes (more than zlib's bound, so a chunk is always
stored deflated, filter mask 0); a chunk that reaches past the array's edge is the full
chunk padded with the fill value. Here libdeflate (the ``deflate`` package) makes the
zlib stream at the same level: any zlib reader inflates it to the same bytes, it is no
larger than zlib's (tests/io/test_netcdf_chunks.py compares every chunk of both
writers), and it costs a third of zlib's CPU (benchmarks/README.md, "Fourth round").
Only the band variables go this way; netCDF4 writes the rest. The lattice of chunks and
the assembly of shared ones are :mod:`hybrid.io.chunk_parts`'s, which the GTiff writer
uses too (GDAL compresses its tiles, on threads of its own).

Reading goes the other way (:func:`read_deflated`): HDF5 inflates a variable's chunks
one after the other with zlib, under h5py's lock; here each chunk's stored bytes are
fetched as they are and inflated by libdeflate on several threads.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import deflate

from hybrid.io.chunk_parts import ChunkLattice, Offset, PartAssembler
from hybrid.io.netcdf_types import file_values

if TYPE_CHECKING:
    import numpy as np


@dataclass
class EncodedBlock:
    """One computed block, ready to be written."""

    #: the file chunks the block holds whole, deflated
    deflated: list[tuple[Offset, bytes]] = field(default_factory=list)
    #: the parts of chunks it shares with neighbours: (array index, stored values)
    parts: list[tuple[tuple[slice, ...], np.ndarray]] = field(default_factory=list)

    def __sizeof__(self) -> int:
        """Its bytes, as dask's ``sizeof`` counts them (a cluster's memory accounting and
        transfer counters): without it an object counts as a few dozen bytes."""
        return sum(len(data) for _, data in self.deflated) + sum(
            int(values.nbytes) for _, values in self.parts
        )


@dataclass(frozen=True)
class ChunkGrid(ChunkLattice):
    """A chunked, deflated variable as stored: its shape and chunk shape (the lattice),
    dtype (with byte order), fill value and deflate level."""

    dtype: str
    fill_value: float | int
    level: int

    def deflate(self, values: np.ndarray) -> bytes:
        """The stored bytes of a chunk whose values within the array are ``values``
        (padded to the full chunk with the fill value, as HDF5 stores an edge chunk)."""
        import numpy as np

        if values.shape != self.chunks:
            full = np.full(self.chunks, self.fill_value, dtype=self.dtype)
            full[tuple(slice(0, n) for n in values.shape)] = values
            values = full
        data = np.ascontiguousarray(values, dtype=self.dtype)
        return bytes(deflate.zlib_compress(data.data.cast("B"), self.level))


def chunk_grid(dataset: Any) -> ChunkGrid | None:
    """How an h5py ``dataset`` is stored, when it is chunked and deflated by no other
    filter; None otherwise."""
    if dataset.chunks is None or dataset.compression != "gzip":
        return None
    if dataset.shuffle or dataset.fletcher32 or dataset.scaleoffset is not None:
        return None
    return ChunkGrid(
        shape=tuple(dataset.shape),
        chunks=tuple(dataset.chunks),
        dtype=dataset.dtype.str,
        fill_value=dataset.fillvalue.item(),
        level=int(dataset.compression_opts),
    )


#: threads that inflate the chunks of one read (libdeflate releases the GIL)
READ_THREADS = min(4, os.cpu_count() or 1)


def read_deflated(dataset: Any, threads: int = READ_THREADS) -> np.ndarray | None:
    """The values of an h5py ``dataset`` stored as :func:`chunk_grid` describes (None for
    any other storage), in native byte order: each chunk's stored bytes fetched as they
    are (h5py ``read_direct_chunk``) and inflated by libdeflate on ``threads`` threads.
    A chunk never written reads as the fill value, as HDF5 reads it; a variable with a
    chunk stored unfiltered (a non-zero filter mask, which only direct chunk writers
    make) or damaged (not a zlib stream of the chunk's size) is left to HDF5 (None)."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    grid = chunk_grid(dataset)
    if grid is None:
        return None
    stored = np.dtype(grid.dtype)
    total = int(np.prod([-(-n // c) for n, c in zip(grid.shape, grid.chunks, strict=True)]))
    infos = [dataset.id.get_chunk_info(i) for i in range(dataset.id.get_num_chunks())]
    if any(info.filter_mask for info in infos):
        return None  # a chunk that skipped the filter: left to HDF5
    written = [info.chunk_offset for info in infos]
    native = stored.newbyteorder("=")
    if len(written) == total:
        out = np.empty(grid.shape, dtype=native)
    else:
        out = np.full(grid.shape, grid.fill_value, dtype=native)
    nbytes = int(np.prod(grid.chunks)) * stored.itemsize

    def inflate(offset: Offset) -> None:
        _mask, raw = dataset.id.read_direct_chunk(offset)
        chunk = np.frombuffer(deflate.zlib_decompress(raw, nbytes), stored).reshape(grid.chunks)
        extent = grid.extent(offset)
        out[extent] = chunk[tuple(slice(0, e.stop - e.start) for e in extent)]

    try:
        with ThreadPoolExecutor(max(1, threads)) as pool:
            list(pool.map(inflate, written))
    except deflate.DeflateError:
        return None  # a damaged chunk: HDF5 reads it again and says what is wrong
    return out


class BlockEncoder:
    """``encode(index, block)`` (:func:`hybrid.io.streaming.store_blocks`): a block of a
    variable laid out as ``grid`` -> :class:`EncodedBlock`. Picklable, so it runs on a
    cluster's workers."""

    def __init__(self, grid: ChunkGrid, layout_dtype: str, fill_value: float | int | None) -> None:
        self.grid = grid
        self._dtype = layout_dtype
        self._fill = fill_value

    def __call__(self, index: tuple[slice, ...], block: Any) -> EncodedBlock:
        values = file_values(block, self._dtype, self._fill)
        out = EncodedBlock()
        for offset, cut, local, whole in self.grid.pieces(index, values):
            if whole:
                out.deflated.append((offset, self.grid.deflate(local)))
            else:
                out.parts.append((cut, local.copy()))
        return out


class DirectChunkWriter:
    """The band variables of a NetCDF that netCDF4 defined, open in h5py: deflated
    chunks written as they are, shared chunks put together from their parts. Safe to
    call from several threads at once."""

    def __init__(
        self,
        h5file: Any,
        variables: Sequence[str],
        times: int | None,
        dtype: str,
        fill_value: float | int | None,
    ) -> None:
        self._dtype = dtype
        self._fill = fill_value
        self._parts = PartAssembler()
        self._datasets: dict[str, Any] = {}
        for name in variables:
            dataset = h5file[name]
            if times is not None:  # t is unlimited: netCDF-C grows it as it writes
                dataset.resize(times, axis=0)
            self._datasets[name] = dataset

    def grid(self, variable: str) -> ChunkGrid:
        """How ``variable`` is stored (a variable netCDF-C filters otherwise than by
        deflate alone, or does not chunk, cannot be written this way)."""
        grid = chunk_grid(self._datasets[variable])
        if grid is None:
            raise ValueError(f"{variable} is not a chunked variable deflated by no other filter")
        return grid

    def encoder(self, variable: str) -> BlockEncoder:
        """What turns a computed block of ``variable`` into what :meth:`write` takes."""
        return BlockEncoder(self.grid(variable), self._dtype, self._fill)

    def block_writer(self, variable: str) -> Any:
        """``write(index, encoded)`` for :func:`hybrid.io.streaming.store_blocks`."""
        grid = self.grid(variable)

        def write(index: tuple[slice, ...], encoded: EncodedBlock) -> None:
            self.write(variable, grid, encoded)

        return write

    def write(self, variable: str, grid: ChunkGrid, encoded: EncodedBlock) -> None:
        """Write a block's deflated chunks, and the shared chunks its parts complete."""
        dataset = self._datasets[variable]
        for offset, data in encoded.deflated:
            dataset.id.write_direct_chunk(offset, data)
        complete = []
        for index, values in encoded.parts:
            complete.extend(self._parts.add(variable, grid, index, values))
        for offset, values in complete:
            dataset.id.write_direct_chunk(offset, grid.deflate(values))

    def finish(self) -> None:
        """Check that every chunk was completed (a block never written would leave
        its chunks' parts here, and the file would read them as fill values)."""
        pending = self._parts.incomplete()
        if pending:
            variable, offset = pending[0]
            raise RuntimeError(
                f"{len(pending)} chunks of the result were not complete "
                f"({variable} at {offset}): a block was not written"
            )
