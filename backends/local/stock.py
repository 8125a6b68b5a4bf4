"""openeo-processes-dask's process implementations, imported on first use.

A graph of this project's own processes never needs them
(:func:`hybrid.backends.local.registry.covering`); the processes that hand some cases
on to them (:mod:`hybrid.backends.local.processes`) and the whole registry get them
from here.
"""

from __future__ import annotations

import logging
from typing import Any


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
