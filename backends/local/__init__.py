"""The local backend: openeo-processes-dask over STAC-described Sentinel-2 COGs.

Nothing is imported until asked for: ``from hybrid.backends.local import LocalBackend``
loads the engine; a UDF worker importing ``hybrid.backends.local.udf`` does not (it
starts in a fraction of the time).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["LocalBackend", "LocalSettings"]

if TYPE_CHECKING:
    from hybrid.backends.local.engine import LocalBackend, LocalSettings


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("hybrid.backends.local.engine"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
