"""Synthetic Sentinel-2 scenes of any size for the benchmark, as COGs + a static catalog.

One MGRS-like tile in EPSG:32632, ``n_dates`` acquisitions five days apart from
1 April 2023, laid out like Earth Search v1 (``red``/``green``/``blue``/``nir`` at 10 m,
``scl`` at 20 m, processing baseline 05.09 so the -1000 DN offset applies). Every
date has fields of varying NDVI, drifting cloud blobs (SCL 8/9, reflectance bright)
and their shadows (SCL 3). The area of interest is exactly ``size`` x ``size`` output
pixels: the graph's ``spatial_extent`` is given in EPSG:32632 (see :func:`scene_graph`),
and the COGs cover it with a margin for the kernel buffer.

Scenes are cached under their name; a folder with a ``collection.json`` of the same
version is reused.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: bump when the content changes, so old cached scenes are regenerated
VERSION = 1
EPSG = 32632
#: the AOI's upper-left corner (a multiple of 20 m: 10 m and 20 m pixels align)
X0, Y0 = 399_960.0, 5_000_040.0
#: pixels (10 m) around the AOI covered by the COGs; even, and more than any buffer
MARGIN = 32
FIRST_DATE = dt.date(2023, 4, 1)
STEP_DAYS = 5
#: asset key, Copernicus band, resolution (m)
ASSETS = (("blue", "B02", 10), ("green", "B03", 10), ("red", "B04", 10), ("nir", "B08", 10))
SCL_KEY = "scl"


@dataclass(frozen=True)
class SceneSpec:
    """``n_dates`` acquisitions of a ``size`` x ``size`` pixel area of interest."""

    n_dates: int
    size: int

    @property
    def name(self) -> str:
        return f"{self.n_dates}x{self.size}"

    @property
    def megapixel_dates(self) -> float:
        return self.n_dates * self.size * self.size / 1e6

    @property
    def dates(self) -> list[dt.date]:
        return [FIRST_DATE + dt.timedelta(days=STEP_DAYS * i) for i in range(self.n_dates)]

    @property
    def start(self) -> str:
        return FIRST_DATE.isoformat()

    @property
    def end(self) -> str:
        return (self.dates[-1] + dt.timedelta(days=1)).isoformat()

    def aoi_bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the AOI in EPSG:32632."""
        side = self.size * 10.0
        return X0, Y0 - side, X0 + side, Y0


def parse_spec(text: str) -> SceneSpec:
    """``"30x1024"`` -> SceneSpec(30, 1024)."""
    try:
        dates, size = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise ValueError(f"scene size '{text}' is not DATESxPIXELS (e.g. 30x1024)") from exc
    if dates < 1 or size < 16 or size % 2:
        raise ValueError(f"scene size '{text}': need >= 1 date and an even side >= 16 pixels")
    return SceneSpec(dates, size)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    """Smooth noise in [0, 1): random values on a coarse lattice, bilinearly upsampled."""
    h, w = shape
    gh, gw = h // cell + 2, w // cell + 2
    lattice = rng.random((gh, gw), dtype=np.float32)
    yy = np.arange(h, dtype=np.float32) / cell
    xx = np.arange(w, dtype=np.float32) / cell
    y0, x0 = yy.astype(np.int64), xx.astype(np.int64)
    fy, fx = (yy - y0)[:, None], (xx - x0)[None, :]
    top = lattice[y0][:, x0] * (1 - fx) + lattice[y0][:, x0 + 1] * fx
    bottom = lattice[y0 + 1][:, x0] * (1 - fx) + lattice[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def _date_layers(
    spec: SceneSpec, index: int, fields: np.ndarray, seed: int
) -> tuple[dict[str, np.ndarray], np.ndarray, float]:
    """The four 10 m bands (uint16 DN), SCL (20 m, uint8) and the cloud cover of a date."""
    n = spec.size + 2 * MARGIN
    rng = np.random.default_rng([seed, index])
    season = np.float32(0.5 + 0.4 * np.sin(np.pi * index / max(spec.n_dates - 1, 1)))
    ndvi = np.clip(fields * season + rng.normal(0, 0.03, (n, n)).astype(np.float32), -0.2, 0.95)
    red = (1000.0 + 600.0 * (1 - ndvi)).astype(np.float32)
    nir = red * (1 + ndvi) / (1 - ndvi)
    # clouds: a smooth field thresholded to about 8 % cover (20 m), shadows beside them
    h = n // 2
    cloud_field = _smooth_noise(rng, (h, h), cell=max(8, spec.size // 16))
    cut = np.quantile(cloud_field[:: max(1, h // 256), :: max(1, h // 256)], 0.92)
    scl = np.full((h, h), 4, dtype=np.uint8)
    scl[cloud_field > cut] = 8
    scl[cloud_field > cut + (1 - cut) * 0.5] = 9
    shadow = np.roll(cloud_field, (3, 5), axis=(0, 1)) > cut
    scl[shadow & (scl == 4)] = 3
    cloudy = np.repeat(np.repeat(scl >= 8, 2, axis=0), 2, axis=1)
    bands = {}
    for key, _band, _res in ASSETS:
        base = {"red": red, "nir": nir, "green": red * 1.1, "blue": red * 0.9}[key]
        value = np.where(cloudy, 6000.0, base) + 1000.0  # stored DN carry the +1000 offset
        bands[key] = np.clip(value, 1, 65535).astype(np.uint16)
    cover = round(100.0 * float(np.count_nonzero(scl >= 8)) / scl.size, 4)
    return bands, scl, cover


def _item(spec: SceneSpec, day: dt.date, cover: float, folder: str) -> dict[str, Any]:
    from pyproj import Transformer

    n = spec.size + 2 * MARGIN
    xmin, ymax = X0 - MARGIN * 10.0, Y0 + MARGIN * 10.0
    xmax, ymin = xmin + n * 10.0, ymax - n * 10.0
    tr = Transformer.from_crs(EPSG, 4326, always_xy=True)
    lons, lats = tr.transform([xmin, xmax, xmax, xmin], [ymin, ymin, ymax, ymax])
    ring = [[float(x), float(y)] for x, y in zip(lons, lats, strict=True)]
    ring.append(ring[0])
    item_id = f"S2B_32TLR_{day:%Y%m%d}_0_L2A"

    def asset(key: str, band: str, res: int) -> dict[str, Any]:
        size = n * 10 // res
        raster = {"nodata": 0, "data_type": "uint16", "spatial_resolution": res}
        if key != SCL_KEY:
            raster.update({"scale": 0.0001, "offset": -0.1})
        else:
            raster["data_type"] = "uint8"
        return {
            "href": f"./{band}.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "eo:bands": [{"name": band}],
            "raster:bands": [raster],
            "proj:shape": [size, size],
            "proj:transform": [res, 0, xmin, 0, -res, ymax],
            "roles": ["data"],
        }

    assets = {key: asset(key, band, res) for key, band, res in ASSETS}
    assets[SCL_KEY] = asset(SCL_KEY, "SCL", 20)
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
            "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
        ],
        "id": item_id,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "properties": {
            "datetime": f"{day.isoformat()}T10:30:21.024000Z",
            "platform": "sentinel-2b",
            "eo:cloud_cover": cover,
            "proj:epsg": EPSG,
            "grid:code": "MGRS-32TLR",
            "s2:processing_baseline": "05.09",
        },
        "links": [
            {"rel": "collection", "href": "../collection.json", "type": "application/json"},
            {"rel": "parent", "href": "../collection.json", "type": "application/json"},
            {"rel": "root", "href": "../collection.json", "type": "application/json"},
        ],
        "assets": assets,
        "collection": "sentinel-2-l2a",
        "_folder": folder,
    }


def _collection(items: list[dict[str, Any]], spec: SceneSpec) -> dict[str, Any]:
    lons = [v for i in items for v in (i["bbox"][0], i["bbox"][2])]
    lats = [v for i in items for v in (i["bbox"][1], i["bbox"][3])]
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": "sentinel-2-l2a",
        "description": f"hybrid benchmark scene {spec.name} (synthetic, version {VERSION})",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[min(lons), min(lats), max(lons), max(lats)]]},
            "temporal": {"interval": [[f"{spec.start}T00:00:00Z", f"{spec.end}T00:00:00Z"]]},
        },
        "links": [{"rel": "root", "href": "./collection.json", "type": "application/json"}]
        + [
            {"rel": "item", "href": f"./{i['_folder']}/{i['id']}.json", "type": "application/json"}
            for i in items
        ],
        "hybrid:benchmark": {"version": VERSION, "n_dates": spec.n_dates, "size": spec.size},
    }


def ensure_scene(root: Path, spec: SceneSpec, *, seed: int = 0) -> Path:
    """The catalog of ``spec`` under ``root/<name>``, generated unless already there."""
    from affine import Affine

    from hybrid.sample.cog import write_cog

    folder = Path(root) / spec.name
    catalog = folder / "collection.json"
    if catalog.is_file():
        meta = json.loads(catalog.read_text(encoding="utf-8")).get("hybrid:benchmark", {})
        if meta.get("version") == VERSION:
            return catalog
    folder.mkdir(parents=True, exist_ok=True)
    n = spec.size + 2 * MARGIN
    rng = np.random.default_rng(seed)
    fields = 0.15 + 0.75 * _smooth_noise(rng, (n, n), cell=24)
    xmin, ymax = X0 - MARGIN * 10.0, Y0 + MARGIN * 10.0
    items = []
    for index, day in enumerate(spec.dates):
        bands, scl, cover = _date_layers(spec, index, fields, seed)
        item = _item(spec, day, cover, folder=f"{day:%Y%m%d}")
        target = folder / item["_folder"]
        target.mkdir(exist_ok=True)
        for key, band, res in ASSETS:
            write_cog(
                target / f"{band}.tif", bands[key], transform=Affine(res, 0, xmin, 0, -res, ymax),
                crs=EPSG, nodata=0, resampling="average",
            )  # fmt: skip
        write_cog(
            target / "SCL.tif", scl, transform=Affine(20, 0, xmin, 0, -20, ymax), crs=EPSG,
            nodata=0, resampling="nearest",
        )  # fmt: skip
        body = {k: v for k, v in item.items() if k != "_folder"}
        (target / f"{item['id']}.json").write_text(json.dumps(body, indent=1), encoding="utf-8")
        items.append(item)
    catalog.write_text(json.dumps(_collection(items, spec), indent=1), encoding="utf-8")
    return catalog


def aoi_lonlat(spec: SceneSpec) -> dict[str, Any]:
    """The scene's AOI as a GeoJSON polygon in lon/lat (its corners, reprojected)."""
    from pyproj import Transformer

    xmin, ymin, xmax, ymax = spec.aoi_bounds()
    tr = Transformer.from_crs(EPSG, 4326, always_xy=True)
    lons, lats = tr.transform([xmin, xmax, xmax, xmin], [ymin, ymin, ymax, ymax])
    ring = [[float(x), float(y)] for x, y in zip(lons, lats, strict=True)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def scene_graph(spec: SceneSpec) -> dict[str, Any]:
    """The project's NDVI graph (hybrid.workflow_graph) over the scene's AOI, bbox in EPSG:32632."""
    from hybrid.params import Workflow
    from hybrid.workflow_graph import build_graph

    xmin, ymin, xmax, ymax = spec.aoi_bounds()
    graph = build_graph(Workflow(aoi=aoi_lonlat(spec), start=spec.start, end=spec.end))
    for node in graph.values():
        if node["process_id"] == "load_collection":
            node["arguments"]["spatial_extent"] = {
                "west": xmin, "south": ymin, "east": xmax, "north": ymax, "crs": EPSG,
            }  # fmt: skip
    return graph
