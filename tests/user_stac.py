"""A user's own static STAC collection for load_stac: one COG per item, written here,
with the band metadata a user gives it (or none)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

X0, Y0, RES = 330000.0, 5010000.0, 10.0
#: the items' lon/lat footprint (around the COGs on EPSG:32632)
FOOTPRINT = [6.85, 45.19, 6.86, 45.2]


def write_user_collection(
    root: Path,
    values: np.ndarray,
    *,
    dates: Sequence[str] = ("2024-05-01T10:00:00Z",),
    tag: float | None = None,
    band: dict[str, Any] | None = None,
) -> Path:
    """A collection (its ``collection.json``) of one item per date, each one asset ``v``:
    ``values`` as a COG on EPSG:32632 with the GDAL nodata tag ``tag``, with the band
    metadata ``band`` (``{"raster:bands": [...]}`` of STAC 1.0 or ``{"bands": [...]}``
    of STAC 1.1)."""
    from affine import Affine

    from hybrid.sample.cog import write_cog

    root.mkdir(parents=True)
    transform = Affine(RES, 0, X0, 0, -RES, Y0)
    write_cog(root / "v.tif", values, transform=transform, crs="EPSG:32632", nodata=tag,
              blocksize=256, resampling="nearest")  # fmt: skip
    asset: dict[str, Any] = {
        "href": "./v.tif",
        "type": "image/tiff; application=geotiff; profile=cloud-optimized",
        "roles": ["data"],
        "proj:epsg": 32632,
        "proj:shape": list(values.shape[-2:]),
        "proj:transform": list(transform)[:6],
        **(band or {}),
    }
    west, south, east, north = FOOTPRINT
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    links = []
    for number, date in enumerate(dates):
        item = {
            "type": "Feature", "stac_version": "1.0.0", "id": f"item{number}",
            "collection": "mine", "stac_extensions": [], "bbox": FOOTPRINT,
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"datetime": date}, "assets": {"v": asset},
            "links": [{"rel": "collection", "href": "./collection.json"}],
        }  # fmt: skip
        (root / f"item{number}.json").write_text(json.dumps(item))
        links.append({"rel": "item", "href": f"./item{number}.json", "type": "application/json"})
    collection = {
        "type": "Collection", "stac_version": "1.0.0", "id": "mine", "description": "d",
        "license": "proprietary", "links": links,
        "extent": {"spatial": {"bbox": [FOOTPRINT]},
                   "temporal": {"interval": [[min(dates), max(dates)]]}},
    }  # fmt: skip
    (root / "collection.json").write_text(json.dumps(collection))
    return root / "collection.json"
