"""One STAC search and one read of each scene per run, shared by everything in it.

``hybrid run --max-aoi-cloud N --plots DIR`` needs the scenes three times: the scene
table (before the graph is built, to decide the excluded dates), the engine's
load_collection, and the quicklooks. Inside :func:`shared_loads`, the loader
(:func:`hybrid.backends.local.loader.load_s2`) answers a search it already made from
memory, and reads the scenes once: the first load of an area and period reads every band
the block declared it needs, keeps the values in memory, and later loads of the same
area and period (any subset of those bands) are served from them, with the same dask
chunks a fresh load has, so results are bit-identical to separate loads.

A load larger than ``max_bytes`` is not kept (it is read again where needed): the
memory bound wins over the single read. Outside the block (``hybrid serve``, the
Python API's connection, ``hybrid scenes``) nothing is shared.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

#: the largest load kept in memory for sharing (bytes of float32 values)
MAX_SHARED_BYTES = 1 << 30


class SharedLoads:
    """Searches and loaded scenes of one run (see the module docstring)."""

    def __init__(self, bands: Iterable[str], max_bytes: int) -> None:
        self.bands = tuple(dict.fromkeys(bands))
        self.max_bytes = max_bytes
        self._searches: dict[Hashable, list[Any]] = {}
        self._loads: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def search(self, key: Hashable, run: Callable[[], list[Any]]) -> list[Any]:
        """The items of the search ``key``: ``run()`` the first time, then remembered."""
        with self._lock:
            if key not in self._searches:
                self._searches[key] = run()
            return list(self._searches[key])

    def load(self, key: Hashable, run: Callable[[tuple[str, ...]], Any]) -> Any | None:
        """What ``run(bands)`` returned for ``key`` with all the declared bands (computed
        into memory), or None when the load is too large to keep."""
        with self._lock:
            if key not in self._loads:
                self._loads[key] = run(self.bands)
            return self._loads[key]


_CURRENT: contextvars.ContextVar[SharedLoads | None] = contextvars.ContextVar(
    "hybrid_shared_loads", default=None
)


def current() -> SharedLoads | None:
    """The run's shared loads, None outside :func:`shared_loads`."""
    return _CURRENT.get()


@contextlib.contextmanager
def shared_loads(
    bands: Iterable[str], *, max_bytes: int = MAX_SHARED_BYTES
) -> Iterator[SharedLoads]:
    """Within the block, one search per query and one read of each scene's ``bands``."""
    token = _CURRENT.set(SharedLoads(bands, max_bytes))
    try:
        yield _CURRENT.get()  # type: ignore[misc]
    finally:
        _CURRENT.reset(token)
