"""An offline Sentinel-2 L2A sample: a synthetic season over the seed AOI as tiled COGs
and a static STAC collection in Earth Search Collection-1 layout.

Public API::

    SEED_AOI, SEED_START, SEED_END       the seed area (GeoJSON Polygon) and period
    ensure_sample(root=None) -> Path     generate once (atomically), return collection.json
    generate_sample(root, *, seed=0, n_dates=None, margin_m=1600.0) -> Path
    default_cache_dir() -> Path          $HYBRID_CACHE_DIR or ~/.cache/hybrid
    write_cog(path, array, *, transform, crs, nodata, ...) -> Path
    cog_problems(path) -> list[str]      why a file is not a valid COG ([] if it is)

Importing this package is cheap: numpy, rasterio and friends load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from hybrid.sample.aoi import SEED_AOI, SEED_END, SEED_START
from hybrid.sample.cache import SAMPLE_NAME, default_cache_dir, ensure_sample

if TYPE_CHECKING:
    from hybrid.sample.cog import cog_problems, write_cog
    from hybrid.sample.generate import generate_sample

__all__ = [
    "SAMPLE_NAME",
    "SEED_AOI",
    "SEED_END",
    "SEED_START",
    "cog_problems",
    "default_cache_dir",
    "ensure_sample",
    "generate_sample",
    "write_cog",
]

#: the functions whose modules load numpy and rasterio: imported on first use
_LAZY = {
    "generate_sample": "hybrid.sample.generate",
    "write_cog": "hybrid.sample.cog",
    "cog_problems": "hybrid.sample.cog",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hybrid.sample' has no attribute {name!r}")
