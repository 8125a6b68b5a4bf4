"""A static STAC collection of real COGs holding what openeo-geopyspark-driver's synthetic
``TestCollection-LonLat4x4`` yields (openeo-geopyspark-driver 9baf2e10
``openeogeotrellis/collections/testing.py``; ``tests/layercatalog.json`` L1171-1222 lists
its bands): EPSG:4326, 4 x 4 pixels per 1-degree tile (0.25 degree pixels), float64,
one date on the 5th, 15th and 25th of every month (``dates_between`` L19-25), and per band:

- ``Flat:N``: the constant N;
- ``TileCol``/``TileRow``: the index of the 1-degree tile counted from the tile holding
  the load's north-west corner (``load_test_collection`` L55-63: they depend on the
  extent asked, so the collection takes that corner as ``origin``);
- ``Longitude``: the west edge of the pixel; ``Latitude``: its south edge
  (``get_band_tile`` L151-160);
- ``Year``, ``Month``, ``Day``: of the date.

Every band is one asset (a single-band COG) of each date's item; the driver's test graphs
run on it with ``load_collection`` replaced by ``load_stac`` of this collection.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
#: the extent most of the driver's tests load
UNIT = {"west": 0.0, "south": 0.0, "east": 1.0, "north": 1.0}
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


def band_values(band: str, date: dt.date, box: Sequence[int], origin: tuple[int, int]) -> Any:
    """The float64 (rows, cols) values of ``band`` on ``date`` over the whole-degree
    ``box`` (west, south, east, north), tile indices counted from ``origin`` (west,
    north)."""
    import numpy as np

    west, south, east, north = box
    rows, cols = (north - south) * TILE, (east - west) * TILE
    lon = west + np.arange(cols) / TILE
    lat = north - (np.arange(rows) + 1) / TILE
    grid_lon, grid_lat = np.meshgrid(lon, lat)
    tile_col = np.floor(grid_lon) - origin[0]
    tile_row = origin[1] - np.ceil(grid_lat + 1 / TILE)
    named = {
        "TileCol": tile_col,
        "TileRow": tile_row,
        "Longitude": grid_lon,
        "Latitude": grid_lat,
        "Year": np.full_like(grid_lon, date.year),
        "Month": np.full_like(grid_lon, date.month),
        "Day": np.full_like(grid_lon, date.day),
    }
    if band.startswith("Flat:"):
        return np.full_like(grid_lon, float(band.split(":")[1]))
    return named[band].astype(np.float64)


def write_lonlat_collection(
    root: Path,
    dates: Sequence[dt.date],
    *,
    box: Sequence[int] = (0, 0, 4, 4),
    origin: tuple[int, int] | None = None,
) -> Path:
    """The static collection (``collection.json`` under ``root``) of one item per date,
    covering the whole-degree ``box``; ``origin`` (west, north) of the tile indices
    defaults to the box's north-west corner."""
    from affine import Affine

    from hybrid.sample.cog import write_cog

    west, south, east, north = box
    origin = origin or (west, north)
    step = 1 / TILE
    transform = [step, 0.0, float(west), 0.0, -step, float(north)]
    shape = [(north - south) * TILE, (east - west) * TILE]
    links = [{"rel": "root", "href": "./collection.json", "type": "application/json"}]
    footprint = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    for date in dates:
        item_id = f"lonlat4x4_{date:%Y%m%d}"
        folder = root / item_id
        folder.mkdir(parents=True, exist_ok=True)
        assets: dict[str, Any] = {}
        for band in BANDS:
            file = band.replace(":", "_") + ".tif"
            write_cog(
                folder / file,
                band_values(band, date, box, origin),
                transform=Affine(*transform),
                crs="EPSG:4326",
                nodata=None,
                blocksize=256,
                resampling="nearest",
            )
            assets[band] = {
                "href": f"./{file}",
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": ["data"],
                "proj:shape": shape,
                "proj:transform": transform,
                "eo:bands": [{"name": band}],
            }
        item = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "stac_extensions": [],
            "id": item_id,
            "collection": "TestCollection-LonLat4x4",
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
        (folder / f"{item_id}.json").write_text(json.dumps(item))
        links.append({"rel": "item", "href": f"./{item_id}/{item_id}.json"})
    collection = {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": "TestCollection-LonLat4x4",
        "description": "openeo-geopyspark-driver's TestCollection-LonLat4x4 as COGs",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[west, south, east, north]]},
            "temporal": {"interval": [[f"{dates[0]}T00:00:00Z", f"{dates[-1]}T00:00:00Z"]]},
        },
        "summaries": {"eo:bands": [{"name": b} for b in BANDS]},
        "links": links,
    }
    path = root / "collection.json"
    path.write_text(json.dumps(collection))
    return path


def load(
    url: str,
    temporal: Sequence[str | None],
    bands: Sequence[str],
    spatial: Mapping[str, float] | None = UNIT,
) -> dict[str, Any]:
    """The driver's ``load_collection`` node as ``load_stac`` of ``url``."""
    arguments: dict[str, Any] = {
        "url": url,
        "temporal_extent": list(temporal),
        "bands": list(bands),
    }
    if spatial is not None:
        arguments["spatial_extent"] = dict(spatial)
    return {"process_id": "load_stac", "arguments": arguments}


def saved(nodes: Mapping[str, Any], last: str, out_format: str = "json") -> dict[str, Any]:
    """``nodes`` and a ``save_result`` of node ``last`` in ``out_format``."""
    save = {
        "process_id": "save_result",
        "arguments": {"data": {"from_node": last}, "format": out_format},
        "result": True,
    }
    return {**nodes, "save": save}


def run_udf(udf: str, context: Any = None) -> dict[str, Any]:
    """A callback of one ``run_udf`` node (``context`` left out when None)."""
    arguments: dict[str, Any] = {
        "data": {"from_parameter": "data"},
        "udf": udf,
        "runtime": "Python",
    }
    if context is not None:
        arguments["context"] = context
    node = {"process_id": "run_udf", "arguments": arguments, "result": True}
    return {"process_graph": {"udf": node}}


def number_parameter(name: str, default: float) -> dict[str, Any]:
    return {
        "name": name,
        "description": name,
        "default": default,
        "optional": True,
        "schema": {"type": "number"},
    }


def store_udp(
    connection: Any, udp_id: str, node: dict[str, Any], parameters: list[dict[str, Any]]
) -> None:
    connection.save_user_defined_process(
        udp_id, {"node": {**node, "result": True}}, parameters=parameters
    )


def call_udp(udp_id: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "process_id": udp_id,
        "namespace": "user",
        "arguments": {"data": {"from_node": "lc"}, **arguments},
    }
