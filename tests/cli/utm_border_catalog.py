"""Two uniform Sentinel-2 catalogs on either side of the UTM 31/32 border at 6 E, for the
bad-input matrix's AOIs across zones (tests/cli/test_bad_input.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tests.cli.bad_input_cases import _polygon

#: across the UTM 31/32 border at 6 E; its representative point is in zone 32
BORDER_AOI = _polygon(5.992, 45.200, 6.012, 45.210)


def _zone_tile(root: Path, *, epsg: int, tile: str, red: int, nir: int) -> dict[str, Any]:
    """A uniform Sentinel-2 item in EPSG ``epsg`` covering BORDER_AOI with a margin."""
    from affine import Affine
    from pyproj import Transformer

    from hybrid.sample.cog import write_cog

    to_utm = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    xs, ys = to_utm.transform([5.98, 6.025, 6.025, 5.98], [45.19, 45.19, 45.22, 45.22])
    x0, y0 = 20 * (min(xs) // 20), 20 * (max(ys) // 20 + 1)
    width, height = max(xs) - x0, y0 - min(ys)
    item_id = f"S2A_{tile}_20230502_0_L2A"
    folder = root / item_id
    folder.mkdir(parents=True)
    assets: dict[str, Any] = {}
    for key, value, res in [("red", red, 10), ("nir", nir, 10), ("scl", 4, 20)]:
        shape = (int(height // res) + 1, int(width // res) + 1)
        dtype = np.uint8 if res == 20 else np.uint16
        write_cog(
            folder / f"{key}.tif",
            np.full(shape, value, dtype=dtype),
            transform=Affine(res, 0, x0, 0, -res, y0),
            crs=f"EPSG:{epsg}",
            nodata=0,
            blocksize=256,
            resampling="nearest",
        )
        band: dict[str, Any] = {"nodata": 0, "data_type": str(np.dtype(dtype))}
        if res == 10:
            band.update(scale=0.0001, offset=-0.1)
        assets[key] = {
            "href": f"./{key}.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "roles": ["data"],
            "proj:shape": list(shape),
            "proj:transform": [res, 0, x0, 0, -res, y0],
            "raster:bands": [band],
        }
    footprint = _polygon(5.98, 45.19, 6.025, 45.22)
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "collection": "sentinel-2-c1-l2a",
        "bbox": [5.98, 45.19, 6.025, 45.22],
        "geometry": footprint,
        "properties": {
            "datetime": "2023-05-02T10:30:00Z",
            "eo:cloud_cover": 1.0,
            "proj:epsg": epsg,
            "grid:code": f"MGRS-{tile}",
            "s2:processing_baseline": "05.09",
        },
        "assets": assets,
        "links": [{"rel": "collection", "href": "../collection.json"}],
    }
    (folder / f"{item_id}.json").write_text(json.dumps(item), encoding="utf-8")
    return {"rel": "item", "href": f"./{item_id}/{item_id}.json"}


def _zone_catalog(root: Path, tiles: list[tuple[int, str, int, int]]) -> Path:
    links = [{"rel": "root", "href": "./collection.json", "type": "application/json"}]
    for epsg, tile, red, nir in tiles:
        links.append(_zone_tile(root, epsg=epsg, tile=tile, red=red, nir=nir))
    collection = {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": "sentinel-2-l2a",
        "description": "two tiles across the UTM 31/32 border",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[5.98, 45.19, 6.025, 45.22]]},
            "temporal": {"interval": [[None, None]]},
        },
        "links": links,
    }
    path = root / "collection.json"
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


#: NDVI of the uniform tiles (DN - 1000 BOA offset from baseline 04.00)
NDVI_32 = (3000 - 500) / (3000 + 500)  # red 1500, nir 4000

NDVI_31 = (2000 - 1000) / (2000 + 1000)  # red 2000, nir 3000
