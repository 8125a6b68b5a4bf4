"""hybrid: one openEO process graph for Sentinel-2 NDVI, run anywhere, results compared.

From Python (nothing heavy is imported until a function is called)::

    import hybrid
    con = hybrid.connect("local")          # an openeo Connection to an in-process emulator
    ds = hybrid.run(period="month")        # the NDVI workflow's result as an xarray.Dataset
    g = hybrid.graph()                     # the flat process graph every backend receives
    df = hybrid.scenes()                   # the scenes the load selects (pandas)
    assert hybrid.compare("remote.nc", ds) # equivalent results?
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("hybrid")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__", "compare", "connect", "graph", "run", "scenes"]

if TYPE_CHECKING:
    from hybrid.api import compare, connect, graph, run, scenes


def __getattr__(name: str) -> Any:
    if name in ("compare", "connect", "graph", "run", "scenes"):
        return getattr(import_module("hybrid.api"), name)
    raise AttributeError(f"module 'hybrid' has no attribute {name!r}")
