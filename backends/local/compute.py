"""Where the lazy result is computed: dask's threads, or a dask.distributed cluster."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from hybrid.progress import DaskProgress, distributed_progress


def compute(obj: Any, settings: Any) -> Any:
    """``obj.compute()`` on the scheduler the settings ask for."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # all-NaN means are expected (fully clouded periods), not worth a warning
        warnings.filterwarnings("ignore", message="Mean of empty slice")
        warnings.filterwarnings("ignore", message="All-NaN slice encountered")
        warnings.filterwarnings("ignore", message="Degrees of freedom <= 0")
        warnings.filterwarnings("ignore", message="invalid value encountered")
        warnings.filterwarnings("ignore", message="divide by zero encountered")
        # odc-geo warps empty source windows of other-CRS tiles as bare arrays
        warnings.filterwarnings("ignore", message="Dataset has no geotransform")
        from hybrid.backends.local.cluster import scheduler_address

        if settings.workers or scheduler_address(settings.scheduler):
            from hybrid.backends.local.cluster import distributed_client, result_while_workers_live

            with distributed_client(settings) as client:
                future = client.compute(obj)
                distributed_progress(future, enabled=settings.progress)
                return result_while_workers_live(client, future, settings.worker_timeout)
        scheduler = settings.scheduler or "threads"
        with DaskProgress(enabled=settings.progress), stop_on_cancel():
            return obj.compute(scheduler=scheduler)


def stop_on_cancel() -> Any:
    """A dask callback that ends a local (threaded) computation before its next task
    once the run is canceled (tasks already running finish; their results are dropped)."""
    from dask.callbacks import Callback

    from hybrid.cancellation import cancel_event, raise_if_canceled

    event = cancel_event()

    def pretask(key: Any, dsk: Any, state: Any) -> None:
        raise_if_canceled(event)

    return Callback(pretask=pretask)
