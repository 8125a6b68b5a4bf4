"""A load buffered for apply_kernel reads its pixel buffer only from the items found in
its extent: Copernicus grows the layout's global extent by the buffer (openeo-python-driver
9e5b49b2 processgraph/load_params.py L156-169, L186) but its load_stac searches the items
of ``load_params.spatial_extent``, the extent without it (load_params.py L224;
openeo-geopyspark-driver 9baf2e10 load_stac.py L226-239, L1543, L1600-1606), so a product
that reaches only the buffer around the extent feeds no pixel there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tests.stac_fixtures import TINY_X0, TINY_Y0, TinyScene, write_tiny_catalog


def _lonlat(x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(TINY_X0 + x, TINY_Y0 - y)
    return lon, lat


def _ring(x0: float, x1: float, y0: float, y1: float) -> list[tuple[float, float]]:
    """The corners of a box of metres east of / south of the tiny scenes' corner."""
    return [_lonlat(x0, y0), _lonlat(x1, y0), _lonlat(x1, y1), _lonlat(x0, y1)]


#: the west 120 m of the tiny tile: the strip product's footprint and data
STRIP = 120
#: the extent: the tile east of x = 160 m (the buffer of an 11 px kernel reaches 100 m)
LONS, LATS = zip(*_ring(160, 395, 5, 395), strict=True)
EXTENT = {"west": min(LONS), "south": min(LATS), "east": max(LONS), "north": max(LATS)}


def _strip_product(root: Path, scene_id: str) -> None:
    """``scene_id`` holds data (and has its footprint) in the tile's west STRIP m only."""
    import rasterio

    from hybrid.sample.cog import write_cog

    for name in ("red", "nir", "scl"):
        file = root / scene_id / f"{name}.tif"
        with rasterio.open(file) as tif:
            data, transform = tif.read(1), tif.transform
        data[:, int(STRIP / transform.a) :] = 0
        write_cog(file, data, transform=transform, crs="EPSG:32632", nodata=0, blocksize=256,
                  resampling="nearest")  # fmt: skip
    path = root / scene_id / f"{scene_id}.json"
    item = json.loads(path.read_text())
    ring = _ring(0, STRIP, 0, 400)
    item["geometry"] = {"type": "Polygon", "coordinates": [[*map(list, ring), list(ring[0])]]}
    lons, lats = zip(*ring, strict=True)
    item["bbox"] = [min(lons), min(lats), max(lons), max(lats)]
    path.write_text(json.dumps(item))


def _graph() -> dict[str, Any]:
    return {
        "load": {
            "process_id": "load_collection",
            "arguments": {
                "id": "SENTINEL2_L2A",
                "spatial_extent": EXTENT,
                "temporal_extent": ["2023-06-01", "2023-06-02"],
                "bands": ["B04"],
            },
        },
        "kernel": {
            "process_id": "apply_kernel",
            "arguments": {
                "data": {"from_node": "load"},
                "kernel": np.ones((11, 11)).tolist(),
                "factor": 1 / 121,
            },
        },
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "kernel"}, "format": "netCDF"},
            "result": True,
        },
    }


def test_a_product_reaching_only_the_kernel_buffer_feeds_no_pixel(tmp_path: Path) -> None:
    import xarray as xr

    from hybrid.backends.local import LocalBackend, LocalSettings

    # the same day: the strip product first in the merge order (its path sorts first)
    strip = TinyScene("S2A_T32TLR_20230601_L2A", "2023-06-01T10:30:00Z", 5.0, red=3500)
    tile = TinyScene("S2B_T32TLR_20230601_L2A", "2023-06-01T10:40:00Z", 5.0, red=1500)
    catalog = write_tiny_catalog(tmp_path / "catalog", [strip, tile])
    _strip_product(tmp_path / "catalog", strip.id)
    backend = LocalBackend(LocalSettings(stac=str(catalog)))
    (path,) = backend.execute(_graph(), out_dir=tmp_path / "out").files
    with xr.open_dataset(path) as ds:
        out = ds["B04"].values[0]
        x = ds["x"].values
    # every window of these pixels lies in the tile product (1500 - 1000 offset = 500);
    # the strip product, not found in the extent, adds nothing to the first columns
    assert x[0] - 50 < TINY_X0 + STRIP, "the kernel must reach the strip"
    inside = x + 50 < TINY_X0 + 400
    np.testing.assert_allclose(out[10:-10][:, inside], 500.0, rtol=0, atol=1e-9)
