"""Per-band statistics of a raster result file, as Copernicus puts them on a batch job's
result assets: ``raster:bands``, each ``{"name": ..., "statistics": {"minimum",
"maximum", "mean", "stddev", "valid_percent"}}``.

Copernicus runs ``gdalinfo -json -stats`` on every data asset when a job has ended and
reads GDAL's ``STATISTICS_*`` band metadata (openeo-geopyspark-driver
``openeogeotrellis/integrations/gdal.py``: ``read_gdal_info`` about line 534,
``_get_raster_statistics`` about lines 553-590, ``_process_gdalinfo_for_netcdf_subdatasets``
about lines 302-383, ``BandStatistics.to_dict`` about lines 63-77):

- a NetCDF file GDAL lists subdatasets for (several data variables) is read per
  subdataset, each named after its variable; any other file is read directly, each band
  named by its ``long_name`` metadata, else its description, else its ``DESCRIPTION``
  metadata, else its number ("1", "2", ...);
- statistics are per GDAL band and keyed by that name: a NetCDF variable has one GDAL band
  per time step, so the last time step's statistics are the ones kept;
- what GDAL does not give is left out (a band without a valid pixel has only
  ``valid_percent`` 0), and a value that is not finite is written as text ("nan", "inf").

GDAL computes them here too (exact, not approximated), without writing a ``.aux.xml``
beside the file. The answer is cached per file version (path, size, modification time).
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from pathlib import Path
from typing import Any

#: statistics field -> GDAL band metadata item
_FIELDS = (
    ("minimum", "STATISTICS_MINIMUM"),
    ("maximum", "STATISTICS_MAXIMUM"),
    ("mean", "STATISTICS_MEAN"),
    ("stddev", "STATISTICS_STDDEV"),
    ("valid_percent", "STATISTICS_VALID_PERCENT"),
)
_Statistics = tuple[tuple[str, tuple[tuple[str, float | str], ...]], ...]


def band_statistics(path: Path) -> list[dict[str, Any]]:
    """``raster:bands`` entries with the statistics of ``path``'s bands; empty for a file
    GDAL cannot read."""
    try:
        stat = path.stat()
    except OSError:
        return []
    cached = _cached(str(path), stat.st_size, stat.st_mtime_ns)
    return [{"name": name, "statistics": dict(values)} for name, values in cached]


@functools.lru_cache(maxsize=128)
def _cached(path: str, size: int, mtime_ns: int) -> _Statistics:
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioError

    try:
        with (
            warnings.catch_warnings(),
            rasterio.Env(GDAL_PAM_ENABLED="NO", GDAL_NUM_THREADS="ALL_CPUS"),
        ):
            # a NetCDF file's root has no geotransform when it lists subdatasets
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as root:
                subdatasets = list(root.subdatasets) if root.driver == "netCDF" else []
                if not subdatasets:
                    return tuple(_per_band(root, None).items())
            found: dict[str, tuple[tuple[str, float | str], ...]] = {}
            for uri in subdatasets:
                with rasterio.open(uri) as dataset:
                    found.update(_per_band(dataset, uri.rsplit(":", 1)[-1]))
            return tuple(found.items())
    except (RasterioError, OSError):
        return ()


def _per_band(dataset: Any, name: str | None) -> dict[str, tuple[tuple[str, float | str], ...]]:
    """Each band's statistics by its name; a later band of the same name replaces it."""
    from rasterio.errors import RasterioError

    found: dict[str, tuple[tuple[str, float | str], ...]] = {}
    for index in range(1, dataset.count + 1):
        # gdalinfo runs with GDAL_IGNORE_ERRORS: a band keeps what it has
        with contextlib.suppress(RasterioError):
            dataset.stats(indexes=[index], approx=False)
        tags = dataset.tags(index)
        if not tags:
            continue
        key = (
            name
            or tags.get("long_name")
            or dataset.descriptions[index - 1]
            or tags.get("DESCRIPTION")
            or str(index)
        )
        found[key] = tuple((field, _value(tags[item])) for field, item in _FIELDS if item in tags)
    return found


def _value(text: str) -> float | str:
    """GDAL's metadata text as Copernicus writes it: a float, or its text if not finite."""
    number = float(text)
    return number if math.isfinite(number) else str(number)
