"""The pixel size of the file each band of a load was read from, carried on the cube.

A ``resample_spatial`` with a method other than ``near`` that Copernicus does in the
load warps each band's FILE with that method (openeo-geotrellis-extensions 2a25a26e
FileLayerProvider.scala ``rasterSource`` L1426-1484, the ``resampleMethod`` of
openeo-geopyspark-driver 9baf2e10 ``datacube_parameters.py`` L74), so the engine rebuilds
a band's file pixels from the 10 m load before resampling
(:func:`hybrid.backends.local.processes.resampling.resample_spatial`). Which file that
is depends on the provider: Copernicus's load_stac reads a band from its finest asset
(load_stac.py L325-335, L372-374), so a CDSE item's B01 comes from ``B01_20m`` while an
Earth Search or Planetary Computer item has it only at 60 m. load_collection records
each band's file pixel size on the cube (:data:`FILE_PIXELS`, from the assets read); a
band no asset tells the size of, and a cube without the record, fall back to the
collection's static table (:func:`hybrid.collection.file_resolutions`). A resampled
cube records none (its pixels are no file's copies).

A load whose items disagree (items of several layouts: a CDSE B01 at 20 m, an Earth
Search one at 60 m) records the finest: the finer lattice holds every coarser file's
pixels too (60 is a multiple of 20), while rebuilding on the coarser one would drop
most pixels of the finer files.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: cube attribute set by load_collection: band -> the pixel size (m) of the file it was
#: read from; empty once resampled (no band is a file's copy any more)
FILE_PIXELS = "hybrid:file_pixels"
#: cube attribute set by load_stac when its files are no JPEG 2000: Copernicus reads
#: them with geotrellis's GeoTiff raster sources, whose resampling kernels are not
#: widened when shrinking (:mod:`hybrid.backends.local.processes.load_warp`)
GEOTRELLIS_READ = "hybrid:geotrellis_read"


def record(bands: Sequence[str], sizes: Iterable[tuple[str, float]]) -> dict[str, float]:
    """What a load records (:data:`FILE_PIXELS`): band -> the finest of its known
    (finite, positive) file pixel sizes in ``sizes`` (band, size); for a band none is
    known of, the static table's (0 for a band it does not list)."""
    from hybrid.collection import file_resolutions

    table = file_resolutions()
    found = {b: float(table.get(b, 0)) for b in bands}
    known: set[str] = set()
    for band, size in sizes:
        if band in found and math.isfinite(size) and size > 0:
            found[band] = size if band not in known else min(size, found[band])
            known.add(band)
    return found


def item_file_pixels(items: Sequence[Any], bands: Sequence[str]) -> dict[str, float]:
    """The :func:`record` of a SENTINEL2_L2A load of STAC ``items`` (in any provider's
    layout): each band's asset's pixel size (``gsd``, else ``proj:transform``...:
    :func:`hybrid.stac.band_metadata.asset_resolution`)."""
    from hybrid.stac.band_metadata import asset_resolution
    from hybrid.stac.providers import detect_layout

    def sizes() -> Iterable[tuple[str, float]]:
        for item in items:
            layout = detect_layout(item)
            for band in bands:
                key = layout.find_key(item, band)
                if key is not None:
                    yield band, asset_resolution(key, item.assets[key], item)

    return record(bands, sizes())


def band_file_pixels(attrs: Mapping[str, Any], bands: Iterable[str]) -> dict[str, float]:
    """band -> the pixel size of the file each of ``bands`` of a cube (its ``attrs``) was
    read from: the load's record, else the static table; 0 where unknown."""
    recorded = attrs.get(FILE_PIXELS)
    if isinstance(recorded, Mapping):
        return {b: float(recorded.get(b, 0)) for b in bands}
    from hybrid.collection import file_resolutions

    table = file_resolutions()
    return {b: float(table.get(b, 0)) for b in bands}


def stac_read_attributes(scenes: Sequence[Any], bands: Sequence[str]) -> dict[str, Any]:
    """The :data:`FILE_PIXELS` (band -> the finest pixel of the assets holding it, 0
    where none tells it; not the Sentinel-2 table: a user's band names are its own)
    and :data:`GEOTRELLIS_READ` of a load_stac of ``scenes``
    (:class:`hybrid.backends.local.stac_items.StacScene`)."""
    found = {b: 0.0 for b in bands}
    hrefs = []
    for asset in (a for scene in scenes for a in scene.assets):
        hrefs.append(str(asset.href).lower().split("?")[0])
        size = asset.resolution()
        for band in (b for b in asset.names if b in found and size is not None):
            found[band] = min(size[0], found[band] or math.inf)
    jp2 = any(h.endswith(".jp2") for h in hrefs)  # FileLayerProvider.scala L1427
    return {FILE_PIXELS: found, GEOTRELLIS_READ: not jp2}
