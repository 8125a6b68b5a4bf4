"""openeo-processes-dask's process implementations, imported on first use.

A graph of this project's own processes never needs them
(:func:`hybrid.backends.local.registry.covering`); the processes that hand some cases
on to them (:mod:`hybrid.backends.local.processes`) and the whole registry get them
from here.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any


@functools.cache
def stock_implementations() -> Any:
    """openeo-processes-dask's ``process_implementations`` package, imported on first use
    (about a second: it brings dask.dataframe, dask-geopandas and distributed) and
    without the warning it logs about its optional machine-learning dependencies."""
    logger = logging.getLogger("openeo_processes_dask.process_implementations")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        import openeo_processes_dask.process_implementations as implementations
    finally:
        logger.setLevel(level)
    return implementations


def stock_process(name: str) -> Callable[..., Any]:
    """openeo-processes-dask's implementation of the process ``name`` (its Python name)."""
    return getattr(stock_implementations(), name)


def stock_processes() -> Iterator[tuple[str, dict[str, Any], Callable[..., Any]]]:
    """(process id, description, implementation) of every process openeo-processes-dask
    both implements and describes."""
    stock_implementations()
    import openeo_processes_dask.specs as specs
    from openeo_processes_dask.process_implementations.core import standard_processes

    for func in standard_processes:
        spec = getattr(specs, func.__name__, None)
        if spec is not None:
            yield func.__name__.lstrip("_"), spec, func
