"""The Copernicus driver's synthetic test collections as a static STAC collection of COGs.

openeo-geopyspark-driver (9baf2e10) runs its own result tests on ``TestCollection-LonLat4x4``
and ``TestCollection-LonLat16x16`` (tests/layercatalog.json L1171, L1230), built by
``openeogeotrellis/collections/testing.py``: EPSG:4326 tiles of 1 x 1 degree with
``tile_size`` x ``tile_size`` float64 pixels (L49-L120), one observation on the 5th, 15th
and 25th of every month in ``[from, to)`` (``dates_between`` L19-L25), and per band
(``get_band_tile`` L141-L171): ``Flat:N`` the constant N, ``Longitude`` the pixel's west
edge, ``Latitude`` its south edge, ``Year``/``Month``/``Day`` the observation's date.

:func:`write_driver_collection` writes that data, for a lon/lat box on whole degrees, as
one item per date holding one multi-band COG, so a graph reads it with ``load_stac``
where the driver's test says ``load_collection``. ``TileCol``/``TileRow`` are left out:
they number the tiles of each load's own extent, an internal of the synthetic layer.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

EO = "https://stac-extensions.github.io/eo/v1.1.0/schema.json"
PROJ = "https://stac-extensions.github.io/projection/v1.1.0/schema.json"

#: the bands of TestCollection-LonLat4x4 this module reproduces (layercatalog.json L1186-L1198)
BANDS = ("Flat:0", "Flat:1", "Flat:2", "Longitude", "Latitude", "Year", "Month", "Day")


def point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [x, y]}


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def features(*geometries: dict[str, Any]) -> dict[str, Any]:
    """openeo.util ``as_geojson_feature_collection``: Features with empty properties."""
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries],
    }


#: the driver's tests/data/geometries/FeatureCollection.geojson: two rectangles, their ids
#: on the Features (not in the properties)
FEATURES_FILE = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "id": name, "properties": {}, "geometry": box(*bounds)}
        for name, bounds in (
            ("apples", (0.17303466796874997, 0.15930155257140266,
                        0.65643310546875, 0.4394488164139768)),
            ("oranges", (1.5875244140625, 1.5790847267832018,
                         1.93084716796875, 1.9332268264771233)),
        )
    ],
}  # fmt: skip


def observation_dates(start: str, end: str) -> list[dt.date]:
    """The 5th, 15th and 25th of each month in ``[start, end)`` (testing.py L19-L25)."""
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    days = (
        dt.date(year, month, day)
        for year in range(first.year, last.year + 1)
        for month in range(1, 13)
        for day in (5, 15, 25)
    )
    return [d for d in days if first <= d < last]


def band_values(band: str, date: dt.date, bbox: Sequence[int], tile_size: int) -> np.ndarray:
    """One band on the (rows, cols) grid of ``bbox`` (west, south, east, north) at
    ``1 / tile_size`` degree, as ``TestCollectionLonLat.get_band_tile`` fills it."""
    west, south, east, north = bbox
    rows, cols = (north - south) * tile_size, (east - west) * tile_size
    if band.startswith("Flat:"):
        return np.full((rows, cols), float(band.split(":")[1]))
    if band == "Longitude":
        return np.broadcast_to(west + np.arange(cols) / tile_size, (rows, cols)).copy()
    if band == "Latitude":
        lat = north - (np.arange(rows) + 1) / tile_size
        return np.broadcast_to(lat[:, None], (rows, cols)).copy()
    parts = {"Year": date.year, "Month": date.month, "Day": date.day}
    return np.full((rows, cols), float(parts[band]))


def write_driver_collection(
    root: Path,
    *,
    bbox: Sequence[int] = (0, 0, 8, 8),
    dates: tuple[str, str] = ("2021-01-01", "2021-03-01"),
    tile_size: int = 4,
    bands: Sequence[str] = BANDS,
) -> Path:
    """Write the collection under ``root``; returns the path of its collection.json."""
    from affine import Affine

    from hybrid.sample.cog import write_cog

    root.mkdir(parents=True, exist_ok=True)
    west, south, east, north = bbox
    lonlat = [float(v) for v in bbox]
    footprint = {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
    }
    transform = Affine(1 / tile_size, 0, west, 0, -1 / tile_size, north)
    shape = [(north - south) * tile_size, (east - west) * tile_size]
    items = []
    for date in observation_dates(*dates):
        item_id = f"lonlat-{date.isoformat()}"
        data = np.stack([band_values(b, date, bbox, tile_size) for b in bands])
        write_cog(root / f"{item_id}.tif", data, transform=transform, crs=4326, nodata=None)
        item = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "stac_extensions": [EO, PROJ],
            "id": item_id,
            "collection": "TestCollection-LonLat",
            "geometry": footprint,
            "bbox": lonlat,
            "properties": {"datetime": f"{date.isoformat()}T00:00:00Z", "proj:epsg": 4326},
            "links": [{"rel": "collection", "href": "./collection.json"}],
            "assets": {
                "data": {
                    "href": f"./{item_id}.tif",
                    "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                    "roles": ["data"],
                    "eo:bands": [{"name": b} for b in bands],
                    "proj:epsg": 4326,
                    "proj:shape": shape,
                    "proj:transform": list(transform)[:6],
                }
            },
        }
        (root / f"{item_id}.json").write_text(json.dumps(item))
        items.append(item_id)
    collection = {
        "type": "Collection",
        "stac_version": "1.0.0",
        "stac_extensions": [EO],
        "id": "TestCollection-LonLat",
        "description": "openeo-geopyspark-driver's synthetic lon/lat test collection",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [lonlat]},
            "temporal": {"interval": [[f"{dates[0]}T00:00:00Z", f"{dates[1]}T00:00:00Z"]]},
        },
        "summaries": {"eo:bands": [{"name": b} for b in bands]},
        "links": [{"rel": "item", "href": f"./{i}.json"} for i in items],
    }
    path = root / "collection.json"
    path.write_text(json.dumps(collection))
    return path
