"""What a UDF worker costs besides its UDF (starts worker processes: slow).

It imports what running a UDF needs, not the engine that runs graphs
(:mod:`hybrid.backends.local` loads the engine only when asked for it). It ends as soon
as its results are written: Copernicus takes a UDF's result when ``run_udf_code``
returns (geopyspark-driver 9baf2e10 openeogeotrellis/geopysparkdatacube.py L905-913): a
thread the UDF leaves running does not hold the job back. The worker ends with
``os._exit`` after flushing what was printed (:func:`hybrid.backends.local.udf.worker.end`);
what the UDF logged still reaches the job's log."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.udf.isolated import UdfSettings, run_udf_chunks
from hybrid.run_warnings import warnings_to

pytestmark = pytest.mark.slow

#: long enough for a trivial UDF on a loaded machine; a worker waiting for the UDF's
#: thread (3600 s) reaches it
TIMEOUT = 30.0

LEFT_RUNNING = """
import threading, time
import xarray
from openeo.udf import inspect

def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    threading.Thread(target=time.sleep, args=(3600,)).start()
    inspect(message="started a thread")
    return cube * context["f"]
"""


def _cube() -> xr.DataArray:
    values = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
    grid = {"bands": ["B04", "B08"], "y": [1.0, 0.0], "x": [0.0, 1.0]}
    return xr.DataArray(values, dims=("bands", "y", "x"), coords=grid)


def test_a_thread_the_udf_leaves_running_does_not_hold_its_result_back() -> None:
    settings = UdfSettings(timeout=TIMEOUT, nice=0)
    log: list[str] = []
    with warnings_to(lambda message, **entry: log.append(message)):
        (out,) = run_udf_chunks(LEFT_RUNNING, [_cube()], context={"f": 3}, settings=settings,
                                process="apply")  # fmt: skip
    np.testing.assert_array_equal(out.values, _cube().values * 3)
    assert log == ["started a thread"]


#: the engine's modules the worker must not load: the number of them in its answer
ENGINE_LOADED = """
import sys
import xarray

def apply_datacube(cube: xarray.DataArray, context: dict) -> xarray.DataArray:
    names = ("hybrid.backends.local.engine", "hybrid.backends.local.graphcheck")
    return cube * 0 + sum(name in sys.modules for name in names)
"""


def test_the_worker_starts_without_the_engine_that_runs_graphs() -> None:
    settings = UdfSettings(timeout=TIMEOUT, nice=0)
    (out,) = run_udf_chunks(ENGINE_LOADED, [_cube()], context={}, settings=settings,
                            process="apply")  # fmt: skip
    np.testing.assert_array_equal(out.values, np.zeros((2, 2, 2)))
