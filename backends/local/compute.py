"""Where the lazy result is computed: dask's threads, or a dask.distributed cluster -
all at once (:func:`compute`) or block by block into a file (:func:`store`)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from hybrid.progress import DaskProgress, distributed_progress


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # all-NaN means are expected (fully clouded periods), not worth a warning
        warnings.filterwarnings("ignore", message="Mean of empty slice")
        warnings.filterwarnings("ignore", message="All-NaN slice encountered")
        warnings.filterwarnings("ignore", message="Degrees of freedom <= 0")
        warnings.filterwarnings("ignore", message="invalid value encountered")
        warnings.filterwarnings("ignore", message="divide by zero encountered")
        # odc-geo warps empty source windows of other-CRS tiles as bare arrays
        warnings.filterwarnings("ignore", message="Dataset has no geotransform")
        yield


@contextlib.contextmanager
def _computing() -> Iterator[None]:
    """How every computation here runs: quiet about the expected warnings, dask's fused
    tasks in an order worked out once (:mod:`hybrid.backends.local.fused_tasks`), the
    computing threads sharing one malloc arena, and the memory the computation freed
    given back to the system once it has ended (:mod:`hybrid.allocator`)."""
    import dask

    from hybrid.allocator import release_freed_memory, share_one_arena
    from hybrid.backends.local.fused_tasks import optimize

    share_one_arena()
    try:
        with _quiet(), dask.config.set(array_optimize=optimize):
            yield
    finally:
        release_freed_memory()


def _on_cluster(settings: Any) -> bool:
    from hybrid.backends.local.cluster import scheduler_address

    return bool(settings.workers or scheduler_address(settings.scheduler))


def scheduler_get(name: str | None = None) -> Any:
    """dask's ``get`` for a computation on this machine, handed to dask as a function:
    dask's lookup of a name imports distributed to look for a client first (0.4 s of a
    ``hybrid run``), even for its threads.

    ``name`` (the settings' ``scheduler``, the run's own computation): ``threads`` or
    ``synchronous``, another name as it is (dask looks it up). None (a compute outside
    the run's own, such as the loader's probes of its dates,
    :mod:`hybrid.backends.local.empty_dates`): dask's threads when neither dask's config
    nor a distributed client can name another (none can before distributed is imported),
    else None (dask looks)."""
    import sys

    import dask
    import dask.local
    import dask.threaded

    if name is None:
        if dask.config.get("scheduler", None) or "distributed" in sys.modules:
            return None
        return dask.threaded.get
    local = {"threads": dask.threaded.get, "synchronous": dask.local.get_sync}
    return local.get(name, name)


def compute(obj: Any, settings: Any) -> Any:
    """``obj.compute()`` on the scheduler the settings ask for."""
    with _computing():
        if _on_cluster(settings):
            from hybrid.backends.local.cluster import distributed_client, result_while_workers_live

            with distributed_client(settings) as client:
                future = client.compute(obj)
                distributed_progress(future, enabled=settings.progress)
                return result_while_workers_live(client, future, settings.worker_timeout)
        with DaskProgress(enabled=settings.progress), stop_on_cancel():
            return obj.compute(scheduler=scheduler_get(settings.scheduler or "threads"))


def store(array: Any, write: Any, settings: Any, *, encode: Any = None) -> None:
    """Compute the dask ``array`` block by block and ``write(index, block)`` each one as
    it arrives (:mod:`hybrid.io.streaming`): with threads, ``dask.array.store``; on a
    cluster, one future per block, gathered and written by this process one at a time
    and then released, so neither side holds the whole result. ``encode(index, block)``
    runs where the block was computed (a thread; a worker, so that only its result, such
    as deflated chunks, travels) and ``write`` gets its result."""
    with _computing():
        if _on_cluster(settings):
            from hybrid.backends.local.cluster import distributed_client, write_as_completed
            from hybrid.io.streaming import encoded_blocks

            blocks = array if encode is None else encoded_blocks(array, encode)
            with distributed_client(settings) as client:
                write_as_completed(client, blocks, write, settings)
            return
        from hybrid.io.streaming import threaded_store

        with DaskProgress(enabled=settings.progress), stop_on_cancel():
            threaded_store(
                array,
                write,
                encode=encode,
                scheduler=scheduler_get(settings.scheduler or "threads"),
            )


def stop_on_cancel() -> Any:
    """A dask callback that ends a local (threaded) computation before its next task
    once the run is canceled (tasks already running finish; their results are dropped)."""
    from dask.callbacks import Callback

    from hybrid.cancellation import cancel_event, raise_if_canceled

    event = cancel_event()

    def pretask(key: Any, dsk: Any, state: Any) -> None:
        raise_if_canceled(event)

    return Callback(pretask=pretask)
