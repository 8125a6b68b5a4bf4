"""The in-memory Spark layers of openeo-geopyspark-driver's datacube unit tests as static
STAC collections of real COGs (one multi-band COG per date), written by code.

- :func:`two_bands_three_dates`: ``imagecollection_with_two_bands_and_three_dates``
  (driver 9baf2e10 ``tests/datacube_fixtures.py`` L147-208): bands ``red``, ``nir``,
  int32 with nodata -1, 32 x 32 pixels of 0.25 degree (four 16 x 16 keys in a layout of
  0.25 degree cells from (0, 4)); (1, 2) on 2017-09-25T11:37, all nodata on
  2017-09-30T00:37, (2, 1) on 2017-10-25T11:37. ``one_date=True`` keeps the first date
  only (``imagecollection_with_two_bands_and_one_date``, L98-144).
- :func:`multiple_dates`: ``TestMultipleDates.tiled_raster_rdd`` (``tests/
  test_multiple_date.py`` L52-105): one float32 band with nodata -1, 2 x 2 keys of 5 x 5
  pixels over 0..33 degrees (3.3 degree pixels), key (col, row) row 0 the northern one;
  ``tile`` is 1 with nodata at its (0, 0), ``tile2`` is 2 with nodata at its (2, 2).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.workflows.lonlat_collection import EO

FIRST = dt.datetime(2017, 9, 25, 11, 37)
EMPTY = dt.datetime(2017, 9, 30, 0, 37)
LAST = dt.datetime(2017, 10, 25, 11, 37)
#: TestMultipleDates.time_1 .. time_3 (L68-70)
TIMES = (dt.datetime(2016, 8, 24, 9), dt.datetime(2017, 8, 24, 9), dt.datetime(2017, 10, 17, 9))


def write_collection(
    root: Path,
    rasters: Mapping[dt.datetime, Any],
    bands: Sequence[str],
    transform: Sequence[float],
    nodata: float,
) -> str:
    """``collection.json`` under ``root``: one item per date of ``rasters`` ((bands, rows,
    cols) arrays) with one COG asset of all ``bands``; its path."""
    from affine import Affine

    from hybrid.sample.cog import write_cog

    links = [{"rel": "root", "href": "./collection.json", "type": "application/json"}]
    root.mkdir(parents=True, exist_ok=True)
    bbox: list[float] = []
    for when, data in sorted(rasters.items()):
        name = f"layer-{when:%Y%m%dT%H%M}"
        shape = [int(data.shape[1]), int(data.shape[2])]
        west, north = transform[2], transform[5]
        east, south = west + transform[0] * shape[1], north + transform[4] * shape[0]
        bbox = [west, south, east, north]
        write_cog(root / f"{name}.tif", data, transform=Affine(*transform), crs=4326,
                  nodata=nodata, blocksize=256, resampling="nearest")  # fmt: skip
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        item = {
            "type": "Feature", "stac_version": "1.0.0", "stac_extensions": [EO], "id": name,
            "geometry": {"type": "Polygon", "coordinates": [ring]}, "bbox": bbox,
            "properties": {"datetime": f"{when:%Y-%m-%dT%H:%M:%S}Z", "proj:epsg": 4326},
            "links": [],
            "assets": {"data": {"href": f"./{name}.tif", "roles": ["data"],
                                "type": "image/tiff; application=geotiff",
                                "eo:bands": [{"name": b} for b in bands], "proj:epsg": 4326,
                                "proj:shape": shape, "proj:transform": list(transform)}},
        }  # fmt: skip
        (root / f"{name}.json").write_text(json.dumps(item))
        links.append({"rel": "item", "href": f"./{name}.json"})
    first, last = min(rasters), max(rasters)
    collection = {
        "type": "Collection", "stac_version": "1.0.0", "stac_extensions": [EO],
        "id": root.name, "description": "a driver test layer", "license": "proprietary",
        "links": links, "summaries": {"eo:bands": [{"name": b} for b in bands]},
        "extent": {"spatial": {"bbox": [bbox]},
                   "temporal": {"interval": [[f"{first:%Y-%m-%dT%H:%M:%S}Z",
                                              f"{last:%Y-%m-%dT%H:%M:%S}Z"]]}},
    }  # fmt: skip
    (root / "collection.json").write_text(json.dumps(collection))
    return str(root / "collection.json")


def two_bands_three_dates(root: Path, one_date: bool = False, keep_empty: bool = False) -> str:
    """``keep_empty``: the empty date holds 0 in its last (south-east) pixel, so that a
    load keeps it (a load drops a date without any value,
    :mod:`hybrid.backends.local.empty_dates`)."""
    import numpy as np

    def planes(red: float, nir: float) -> Any:
        return np.stack([np.full((32, 32), red), np.full((32, 32), nir)]).astype("int32")

    rasters = {FIRST: planes(1, 2), EMPTY: planes(-1, -1), LAST: planes(2, 1)}
    if keep_empty:
        rasters[EMPTY][:, -1, -1] = 0
    if one_date:
        rasters = {FIRST: rasters[FIRST]}
    return write_collection(root, rasters, ["red", "nir"], [0.25, 0, 0, 0, -0.25, 4], -1)


#: the driver's keys (col, row) holding ``tile`` (1) or ``tile2`` (2) per date (L72-84)
KEYS = {
    TIMES[0]: {(0, 0): 1, (1, 0): 2, (0, 1): 1, (1, 1): 1},
    TIMES[1]: {(0, 0): 2, (1, 0): 2, (0, 1): 2, (1, 1): 2},
    TIMES[2]: {(0, 0): 1, (1, 0): 2, (0, 1): 1, (1, 1): 1},
}


def multiple_dates_tiles(mask: bool = False) -> dict[dt.datetime, Any]:
    """The stitched 10 x 10 rasters of each date; ``mask``: the driver's ``createMask``
    (L450-452: 0 at each tile's first cell, of every tile)."""
    import numpy as np

    def tile(value: int) -> Any:
        cells = np.full((5, 5), float(value), dtype="float32")
        cells[(0, 0) if value == 1 else (2, 2)] = -1.0
        if mask:
            cells[0, 0] = 0.0
        return cells

    rasters = {}
    for when, keys in KEYS.items():
        grid = np.zeros((1, 10, 10), dtype="float32")
        for (col, row), value in keys.items():
            grid[0, row * 5 : row * 5 + 5, col * 5 : col * 5 + 5] = tile(value)
        rasters[when] = grid
    return rasters


def multiple_dates(root: Path, mask: bool = False) -> str:
    return write_collection(root, multiple_dates_tiles(mask), ["2"], [3.3, 0, 0, 0, -3.3, 33], -1.0)


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """URLs, served on 127.0.0.1, of the layers: ``multi`` (TestMultipleDates), ``mask``
    (its createMask copy), ``two`` (two bands, three dates), ``kept`` (its empty date
    kept) and ``one`` (two bands, one date)."""
    from tests.stac_fixtures import serving_directory

    root = tmp_path_factory.mktemp("driver-layers")
    writers = {
        "multi": lambda path: multiple_dates(path),
        "mask": lambda path: multiple_dates(path, mask=True),
        "two": lambda path: two_bands_three_dates(path),
        "kept": lambda path: two_bands_three_dates(path, keep_empty=True),
        "one": lambda path: two_bands_three_dates(path, one_date=True),
    }
    for name, write in writers.items():
        write(root / name)
    with serving_directory(root) as base:
        yield {name: f"{base}/{name}/collection.json" for name in writers}


def north_up(result: Mapping[str, Any]) -> Any:
    """The ``data`` of a JSON result (x, y last) as (..., rows, cols), the northern row
    first: the geotrellis ``stitch`` the driver's tests read."""
    import numpy as np

    data = np.moveaxis(np.array(result["data"], dtype=float), -1, -2)
    ys = result["coords"]["y"]["data"]
    return data[..., ::-1, :] if ys[0] < ys[-1] else data
