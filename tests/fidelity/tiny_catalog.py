"""Tiny hand-made GeoTIFF catalogs for the reference implementation's tests: a static STAC
collection written to a temp dir, item by item, and the values of its default rasters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.transform import Affine
from rasterio.warp import transform_bounds

from tests.reference import ReferenceResult

# tiny AOI (~80 m x 70 m) in UTM 32N; its 10 m grid, worked out below in test_grid_tiny_aoi
AOI = {
    "type": "Polygon",
    "coordinates": [
        [[6.660, 45.240], [6.661, 45.240], [6.661, 45.2406], [6.660, 45.2406], [6.660, 45.240]]
    ],
}


# item in the target CRS (32632): 10 m bands 40 x 40 from this origin, SCL 20 m 20 x 20
A_X0, A_Y0 = 316200.0, 5012500.0


# item in the neighbouring zone (32631) covering the whole load extent
B_X0, B_Y0 = 787000.0, 5016500.0


Bands = dict[str, tuple[np.ndarray, Any]]


def from_origin(x0: float, y0: float, size: float) -> Affine:
    return Affine(size, 0.0, x0, 0.0, -size, y0)


def _tif(path: Path, array: np.ndarray, transform: Any, epsg: int) -> str:
    profile = {"driver": "GTiff", "dtype": array.dtype.name, "count": 1, "nodata": 0}
    profile |= {"width": array.shape[1], "height": array.shape[0], "crs": f"EPSG:{epsg}"}
    with rasterio.open(path, "w", transform=transform, **profile) as dst:
        dst.write(array, 1)
    return path.name


class Catalog:
    """A static STAC collection written to a temp dir; items added one by one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.links: list[dict[str, str]] = []

    @property
    def path(self) -> Path:
        collection = {"type": "Collection", "id": "s2", "stac_version": "1.0.0"}
        collection["links"] = self.links  # type: ignore[assignment]
        path = self.root / "collection.json"
        path.write_text(json.dumps(collection))
        return path

    def add(
        self,
        item_id: str,
        when: str,
        cloud: float,
        *,
        epsg: int,
        tile: str,
        bands: Bands,
        layout: str = "pc",
        baseline: str = "05.09",
        updated: str | None = None,
        footprint_deg: float | None = None,
    ) -> None:
        """``footprint_deg``: a square item geometry of that half-size (degrees) around the
        raster's centre instead of none (the per-key overlap rule reads footprints)."""
        folder = self.root / item_id
        folder.mkdir()
        keys = {
            "pc": {"B04": "B04", "B08": "B08", "SCL": "SCL"},
            "es": {"B04": "red", "B08": "nir", "SCL": "scl"},
            "cdse": {"B04": "B04_10m", "B08": "B08_10m", "SCL": "SCL_20m"},
        }[layout]
        assets: dict[str, Any] = {}
        for band, (array, transform) in bands.items():
            asset: dict[str, Any] = {
                "href": "./" + _tif(folder / f"{band}.tif", array, transform, epsg)
            }
            if layout == "es" and band != "SCL":
                asset["raster:bands"] = [{"nodata": 0, "scale": 0.0001, "offset": -0.1}]
            assets[keys[band]] = asset
        red, transform = bands["B04"]
        h, w = red.shape
        left, top = transform.c, transform.f
        bbox = transform_bounds(f"EPSG:{epsg}", "EPSG:4326", left, top - 10 * h, left + 10 * w, top)
        props: dict[str, Any] = {"datetime": when, "eo:cloud_cover": cloud, "proj:epsg": epsg}
        if updated is not None:
            props["updated"] = updated
        geometry = None
        if footprint_deg is not None:
            cx, cy, r = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2, footprint_deg
            ring = [[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r]]
            geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
            bbox = (cx - r, cy - r, cx + r, cy + r)
        props |= {
            "pc": {"s2:mgrs_tile": tile, "s2:processing_baseline": baseline},
            "es": {"grid:code": f"MGRS-{tile}"},
            "cdse": {"tilename": f"T{tile}", "processing:version": baseline},
        }[layout]
        item: dict[str, Any] = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": item_id,
            "bbox": list(bbox),
        }
        item |= {"geometry": geometry, "properties": props, "assets": assets, "links": []}
        (folder / "item.json").write_text(json.dumps(item))
        self.links.append({"rel": "item", "href": f"./{item_id}/item.json"})

    def add_a(self, item_id: str, when: str, cloud: float, **kw: Any) -> None:
        """An item in EPSG:32632 with the default A rasters (overridable via kw)."""
        bands = a_bands(**{k: kw.pop(k) for k in ("red", "nir", "scl") if k in kw})
        self.add(item_id, when, cloud, epsg=32632, tile="32TLR", bands=bands, **kw)

    def add_b(self, item_id: str, when: str, cloud: float, **kw: Any) -> None:
        """An item in EPSG:32631, constant DN red 1400 / nir 2400 / SCL 4."""
        t10, t20 = from_origin(B_X0, B_Y0, 10), from_origin(B_X0, B_Y0, 20)
        bands: Bands = {
            "B04": (np.full((60, 60), 1400, np.uint16), t10),
            "B08": (np.full((60, 60), 2400, np.uint16), t10),
            "SCL": (np.full((30, 30), 4, np.uint8), t20),
        }
        self.add(item_id, when, cloud, epsg=32631, tile="31TGL", bands=bands, **kw)


def a_bands(
    red: np.ndarray | None = None, nir: np.ndarray | None = None, scl: np.ndarray | None = None
) -> Bands:
    rows, cols = np.mgrid[0:40, 0:40]
    t10, t20 = from_origin(A_X0, A_Y0, 10), from_origin(A_X0, A_Y0, 20)
    return {
        "B04": (red if red is not None else (1100 + cols).astype(np.uint16), t10),
        "B08": (nir if nir is not None else (3000 + 10 * rows).astype(np.uint16), t10),
        "SCL": (scl if scl is not None else np.full((20, 20), 4, np.uint8), t20),
    }


def a_ndvi(res: ReferenceResult) -> np.ndarray:
    """NDVI of the default A rasters (harmonised with -1000) at the result's pixel centres."""
    cols = ((res.x - A_X0) // 10).astype(int)[None, :]
    rows = ((A_Y0 - res.y) // 10).astype(int)[:, None]
    red, nir = 100.0 + cols, 2000.0 + 10 * rows
    return ((nir - red) / (nir + red)).astype(np.float32)
