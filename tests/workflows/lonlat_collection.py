"""openeo-geopyspark-driver's synthetic ``TestCollection-LonLat4x4`` (and ``-LonLat16x16``)
as a static STAC collection of real COGs: its data and its one writer.

openeo-geopyspark-driver 9baf2e10 ``openeogeotrellis/collections/testing.py`` builds it
(``tests/layercatalog.json`` L1171-1222 and L1230 list the layers and bands): EPSG:4326,
``tile_size`` x ``tile_size`` float64 pixels per 1-degree tile (L49-L120), one date on the
5th, 15th and 25th of every month in ``[from, to)`` (``dates_between`` L19-25), and per band:

- ``Flat:N``: the constant N;
- ``TileCol``/``TileRow``: the index of the 1-degree tile counted from the tile holding
  the load's north-west corner (``load_test_collection`` L55-63: they depend on the
  extent asked, so the collection takes that corner as ``origin``);
- ``Longitude``: the west edge of the pixel; ``Latitude``: its south edge
  (``get_band_tile`` L141-171);
- ``Year``, ``Month``, ``Day``: of the date.

Every band is one asset (a single-band COG) of each date's item; the driver's test graphs
run on it with ``load_collection`` replaced by ``load_stac`` of this collection.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EO = "https://stac-extensions.github.io/eo/v1.1.0/schema.json"

BANDS = (
    "Flat:0",
    "Flat:1",
    "Flat:2",
    "TileCol",
    "TileRow",
    "Longitude",
    "Latitude",
    "Year",
    "Month",
    "Day",
)
#: pixels per 1-degree tile, as the driver's "LonLat4x4"
TILE = 4


def observation_dates(first: str, last: str) -> list[dt.date]:
    """The 5th, 15th and 25th of each month from ``first`` up to, not including, ``last``
    (the driver's ``dates_between``)."""
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    dates = [
        dt.date(y, m, d)
        for y in range(start.year, end.year + 1)
        for m in range(1, 13)
        for d in (5, 15, 25)
    ]
    return [d for d in dates if start <= d < end]


def band_values(
    band: str,
    date: dt.date,
    box: Sequence[int],
    origin: tuple[int, int],
    tile_size: int = TILE,
) -> Any:
    """The float64 (rows, cols) values of ``band`` on ``date`` over the whole-degree
    ``box`` (west, south, east, north) at ``1 / tile_size`` degree, tile indices counted
    from ``origin`` (west, north)."""
    import numpy as np

    west, south, east, north = box
    rows, cols = (north - south) * tile_size, (east - west) * tile_size
    lon = west + np.arange(cols) / tile_size
    lat = north - (np.arange(rows) + 1) / tile_size
    grid_lon, grid_lat = np.meshgrid(lon, lat)
    if band.startswith("Flat:"):
        return np.full_like(grid_lon, float(band.split(":")[1]))
    named = {
        "TileCol": lambda: np.floor(grid_lon) - origin[0],
        "TileRow": lambda: origin[1] - np.ceil(grid_lat + 1 / tile_size),
        "Longitude": lambda: grid_lon,
        "Latitude": lambda: grid_lat,
        "Year": lambda: np.full_like(grid_lon, date.year),
        "Month": lambda: np.full_like(grid_lon, date.month),
        "Day": lambda: np.full_like(grid_lon, date.day),
    }
    return named[band]().astype(np.float64)


def _item(
    item_id: str, date: dt.date, box: Sequence[int], assets: dict[str, Any], name: str
) -> dict[str, Any]:
    west, south, east, north = box
    footprint = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [EO],
        "id": item_id,
        "collection": name,
        "bbox": [west, south, east, north],
        "geometry": {"type": "Polygon", "coordinates": [footprint]},
        "properties": {"datetime": f"{date.isoformat()}T00:00:00Z", "proj:epsg": 4326},
        "assets": assets,
        "links": [
            {"rel": "root", "href": "../collection.json"},
            {"rel": "parent", "href": "../collection.json"},
            {"rel": "collection", "href": "../collection.json"},
        ],
    }


def _write_assets(
    folder: Path, date: dt.date, box: Sequence[int], layout: dict[str, Any]
) -> dict[str, Any]:
    """One single-band COG per band of ``layout["bands"]`` under ``folder``, as assets."""
    from affine import Affine

    from hybrid.sample.cog import write_cog

    assets: dict[str, Any] = {}
    for band in layout["bands"]:
        file = band.replace(":", "_") + ".tif"
        write_cog(
            folder / file,
            band_values(band, date, box, layout["origin"], layout["tile_size"]),
            transform=Affine(*layout["transform"]),
            crs="EPSG:4326",
            nodata=None,
            blocksize=256,
            resampling="nearest",
        )
        assets[band] = {
            "href": f"./{file}",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "roles": ["data"],
            "proj:shape": layout["shape"],
            "proj:transform": layout["transform"],
            "eo:bands": [{"name": band}],
        }
    return assets


def write_lonlat_collection(
    root: Path,
    dates: tuple[str, str] = ("2021-01-01", "2021-03-01"),
    *,
    box: Sequence[int] = (0, 0, 4, 4),
    origin: tuple[int, int] | None = None,
    tile_size: int = TILE,
    bands: Sequence[str] = BANDS,
) -> Path:
    """The static collection (``collection.json`` under ``root``) of one item per
    observation date in ``[dates[0], dates[1])``, covering the whole-degree ``box``;
    ``origin`` (west, north) of the tile indices defaults to the box's north-west corner."""
    west, south, east, north = box
    step = 1 / tile_size
    layout = {
        "bands": bands,
        "origin": origin or (west, north),
        "tile_size": tile_size,
        "transform": [step, 0.0, float(west), 0.0, -step, float(north)],
        "shape": [(north - south) * tile_size, (east - west) * tile_size],
    }
    name = f"TestCollection-LonLat{tile_size}x{tile_size}"
    links = [{"rel": "root", "href": "./collection.json", "type": "application/json"}]
    days = observation_dates(*dates)
    for date in days:
        item_id = f"lonlat{tile_size}x{tile_size}_{date:%Y%m%d}"
        folder = root / item_id
        folder.mkdir(parents=True, exist_ok=True)
        item = _item(item_id, date, box, _write_assets(folder, date, box, layout), name)
        (folder / f"{item_id}.json").write_text(json.dumps(item))
        links.append({"rel": "item", "href": f"./{item_id}/{item_id}.json"})
    collection = {
        "type": "Collection",
        "stac_version": "1.0.0",
        "stac_extensions": [EO],
        "id": name,
        "description": f"openeo-geopyspark-driver's {name} as COGs",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[west, south, east, north]]},
            "temporal": {"interval": [[f"{days[0]}T00:00:00Z", f"{days[-1]}T00:00:00Z"]]},
        },
        "summaries": {"eo:bands": [{"name": b} for b in bands]},
        "links": links,
    }
    path = root / "collection.json"
    path.write_text(json.dumps(collection))
    return path
