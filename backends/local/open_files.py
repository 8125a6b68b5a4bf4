"""Local COGs kept open while a load's blocks are read from them.

A load reads every file by windows, one block at a time, and its blocks are computed in
batches, date by date: a band's file is read 4 times or more per batch (its blocks, and
the halo of a kernel at a batch edge reads the neighbouring blocks again). Opening the
file for every window cost 2 ms a read (parsing the TIFF directory; 1685 opens, 2.9 s of
58 CPU s at 20 x 4096^2), and the closing threw away GDAL's decoded blocks, so a halo
read decoded its block again.

:class:`OpenFiles` keeps the datasets open per thread (a GDAL dataset must not be read
by two threads at once), at most :data:`MAX_OPEN` per thread, the least recently used
closed first, for as long as the object lives: one object per load, held by the dask
graph, so the files are closed when the graph is dropped. A copy sent to another process
(a dask.distributed worker unpickles one per task) uses that process's kept-open files,
shared by its tasks and runs (at most :data:`MAX_OPEN` per thread; a file changed on
disk since it was opened is opened again).

Kept-open datasets keep their decoded blocks in GDAL's block cache, which is bounded by
``GDAL_CACHEMAX`` (by default 5 % of the RAM: peak RSS grew from 0.7 to 2 GB at
20 x 4096^2). Unless ``GDAL_CACHEMAX`` is set in the environment, the first open
lowers it to :data:`BLOCK_CACHE_BYTES` for the process. ``python -m benchmarks.run
--sizes 30x2048,20x4096,4x2048,4x8192 --pipelines local`` with the cache at 16 / 64 /
128 MiB (set by ``GDAL_CACHEMAX``): 50.4 / 48.3 / 45.8 CPU s at 20 x 4096^2 (54 with a
file opened per read), peak RSS from 4 x 2048^2 to 4 x 8192^2 x1.23 / x1.10 / x1.24.
"""

from __future__ import annotations

import functools
import os
import threading
import weakref
from collections import OrderedDict
from typing import Any

#: datasets kept open per thread (a batch reads a period's dates, three bands each)
MAX_OPEN = 48
#: GDAL's block cache for the process, unless GDAL_CACHEMAX is set in the environment
BLOCK_CACHE_BYTES = 64 * 2**20


class OpenFiles:
    """Datasets of local files opened once per thread and kept open (see the module)."""

    def __init__(self, *, process_wide: bool = False) -> None:
        self._process_wide = process_wide
        if process_wide:
            self._lock, self._by_thread = _PROCESS_LOCK, _PROCESS_FILES
        else:
            self._lock = threading.Lock()
            self._by_thread = {}
            weakref.finalize(self, _close_all, self._by_thread)

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(process_wide=True)  # type: ignore[misc]

    def read(self, path: str, window: Any) -> Any:
        """Band 1 of the file at ``path`` within ``window`` (a rasterio Window)."""
        return self._dataset(path).read(1, window=window)

    def _dataset(self, path: str) -> Any:
        with self._lock:
            files = self._by_thread.setdefault(threading.get_ident(), OrderedDict())
        signature = _signature(path) if self._process_wide else None
        entry = files.get(path)
        if entry is not None and entry[1] == signature:
            files.move_to_end(path)
            return entry[0]
        if entry is not None:  # changed on disk since it was opened
            files.pop(path)[0].close()
        dataset = open_local(path)
        files[path] = (dataset, signature)
        if len(files) > MAX_OPEN:
            files.popitem(last=False)[1][0].close()
        return dataset


#: thread -> path -> (dataset, what the file was when opened)
Files = dict[int, OrderedDict[str, tuple[Any, Any]]]
#: the files of the copies of OpenFiles made in this process by unpickling (a worker's)
_PROCESS_FILES: Files = {}
_PROCESS_LOCK = threading.Lock()


def _signature(path: str) -> tuple[int, int, int]:
    found = os.stat(path)
    return found.st_mtime_ns, found.st_size, found.st_ino


def open_local(path: str) -> Any:
    """A rasterio dataset of the local file at ``path``, opened without listing its
    folder, GDAL's block cache bounded first (see the module)."""
    import rasterio

    from hybrid.stac.access import LOCAL_READ_OPTIONS

    _bound_block_cache()
    with rasterio.Env(**LOCAL_READ_OPTIONS):
        return rasterio.open(path)


@functools.cache
def _bound_block_cache() -> None:
    from rasterio.env import get_gdal_config, set_gdal_config

    if "GDAL_CACHEMAX" in os.environ:
        return
    current = get_gdal_config("GDAL_CACHEMAX")
    if not isinstance(current, int) or current > BLOCK_CACHE_BYTES:
        set_gdal_config("GDAL_CACHEMAX", BLOCK_CACHE_BYTES)


def _close_all(by_thread: Files) -> None:
    for files in by_thread.values():
        for dataset, _ in files.values():
            dataset.close()
        files.clear()
