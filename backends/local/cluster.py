"""dask.distributed: a LocalCluster of N workers, or an existing scheduler."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def distributed_client(settings: Any) -> Iterator[Any]:
    from dask.distributed import Client, LocalCluster

    if settings.workers:
        with (
            LocalCluster(
                n_workers=settings.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
    else:
        with Client(settings.scheduler) as client:
            yield client
