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

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.sample.aoi import SEED_AOI, SEED_END, SEED_START
from hybrid.sample.cache import SAMPLE_NAME, default_cache_dir, ensure_sample

if TYPE_CHECKING:
    import numpy as np

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


def generate_sample(
    root: Path, *, seed: int = 0, n_dates: int | None = None, margin_m: float = 1600.0
) -> Path:
    """Write the sample into ``root`` and return its ``collection.json`` path.

    See :func:`hybrid.sample.generate.generate_sample`.
    """
    from hybrid.sample.generate import generate_sample as _generate

    return _generate(root, seed=seed, n_dates=n_dates, margin_m=margin_m)


def write_cog(
    path: str | Path,
    array: np.ndarray,
    *,
    transform: Any,
    crs: Any,
    nodata: float | None,
    blocksize: int = 512,
    resampling: str = "average",
    overview_count: int | None = None,
    compress: str = "deflate",
) -> Path:
    """Write a tiled, deflate-compressed COG with overviews; see :mod:`hybrid.sample.cog`."""
    from hybrid.sample.cog import write_cog as _write

    return _write(
        path,
        array,
        transform=transform,
        crs=crs,
        nodata=nodata,
        blocksize=blocksize,
        resampling=resampling,
        overview_count=overview_count,
        compress=compress,
    )


def cog_problems(path: str | Path) -> list[str]:
    """Why ``path`` is not a valid COG (empty list: it is one)."""
    from hybrid.sample.cog import cog_problems as _problems

    return _problems(path)
