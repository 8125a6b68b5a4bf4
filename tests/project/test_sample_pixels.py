"""The embedded sample's data is pinned: every pixel (full resolution and overview) of
every COG and every byte of its STAC JSON.

``hybrid run`` on the sample gives monthly NDVI means that the README, the docs and the
benchmarks quote (0.5069, 0.6941, 0.7159, 0.6754, 0.6015): a change to the generator
that is meant to be only faster (vectorising, caching, another way of writing the COGs)
must not move a single value. The digest covers the pixel arrays read through GDAL, not
the file bytes, so a different but equivalent TIFF encoding passes; the COG layout
itself (tiling, compression, predictor, overview levels) is part of the digest.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import rasterio

#: sha256 of the default sample (seed 0) as :func:`sample_digest` computes it. Change
#: it only with a deliberate change of the sample's data, and say so in the CHANGELOG.
SAMPLE_DIGEST = "a197bd68b5ea65d3948b2b30448dec7711aee4a50023d19e627ba96269a56fc0"


def _cog_facts(path: Path) -> bytes:
    """Layout and every pixel of one COG: full resolution, then its first overview."""
    with rasterio.open(path) as ds:
        layout = (
            ds.dtypes, ds.shape, ds.count, ds.block_shapes, ds.nodata, ds.crs.to_epsg(),
            tuple(ds.transform), ds.overviews(1), sorted(ds.tags(ns="IMAGE_STRUCTURE").items()),
        )  # fmt: skip
        data = [repr(layout).encode(), ds.read().tobytes()]
    if layout[7]:
        with rasterio.open(path, OVERVIEW_LEVEL=0) as ovr:
            data += [repr(ovr.shape).encode(), ovr.read().tobytes()]
    return b"".join(data)


def sample_digest(root: Path) -> str:
    """sha256 over the sample's files in path order: COG pixels and layout, JSON bytes
    (the marker file, which names the generator's source version, is left out)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".complete"):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        if path.suffix == ".tif":
            digest.update(_cog_facts(path))
        else:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_sample_pixels_and_stac_are_unchanged(sample_catalog: Path) -> None:
    assert sample_digest(sample_catalog.parent) == SAMPLE_DIGEST
