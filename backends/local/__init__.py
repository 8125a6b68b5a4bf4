"""The local backend: openeo-processes-dask over STAC-described Sentinel-2 COGs."""

from __future__ import annotations

from hybrid.backends.local.engine import LocalBackend, LocalSettings

__all__ = ["LocalBackend", "LocalSettings"]
