"""STAC JSON of the sample, laid out like Earth Search's Collection-1 ``sentinel-2-c1-l2a``
(the collection with the reprocessed products Copernicus uses; its items name assets
like Earth Search v1's ``sentinel-2-l2a``).

Static and self-contained: ``collection.json`` at the root, one folder per item holding
``<id>.json`` and its COGs, every link and href relative.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from hybrid.sample.grid import Tile, Window
from hybrid.sample.schedule import Acquisition
from hybrid.sample.weather import Sun

COLLECTION_ID = "sentinel-2-c1-l2a"
COG_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
LICENSE_URL = "https://sentinel.esa.int/documents/247904/690755/Sentinel_Data_Legal_Notice"
BASELINE = "05.09"
ITEM_EXTENSIONS = [
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "https://stac-extensions.github.io/grid/v1.0.0/schema.json",
    "https://stac-extensions.github.io/mgrs/v1.0.0/schema.json",
    "https://stac-extensions.github.io/processing/v1.1.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "https://stac-extensions.github.io/view/v1.0.0/schema.json",
]
COLLECTION_EXTENSIONS = [
    "https://stac-extensions.github.io/item-assets/v1.0.0/schema.json",
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
]


@dataclass(frozen=True)
class Band:
    key: str
    """Asset key (Earth Search v1 uses common names)."""
    name: str
    file: str
    title: str
    common_name: str | None
    centre: float | None
    fwhm: float | None
    res: int


BANDS: tuple[Band, ...] = (
    Band("blue", "B02", "B02.tif", "Blue (band 2) - 10m", "blue", 0.49, 0.098, 10),
    Band("green", "B03", "B03.tif", "Green (band 3) - 10m", "green", 0.56, 0.045, 10),
    Band("red", "B04", "B04.tif", "Red (band 4) - 10m", "red", 0.665, 0.038, 10),
    Band("nir", "B08", "B08.tif", "NIR 1 (band 8) - 10m", "nir", 0.842, 0.145, 10),
    Band("scl", "SCL", "SCL.tif", "Scene classification map (SCL)", None, None, None, 20),
    # the bands the seed workflow does not use (hybrid.sample.extra_bands)
    Band("coastal", "B01", "B01.tif", "Coastal (band 1) - 60m", "coastal", 0.443, 0.027, 60),
    Band("rededge1", "B05", "B05.tif", "Red edge 1 (band 5) - 20m", "rededge", 0.704, 0.019, 20),
    Band("rededge2", "B06", "B06.tif", "Red edge 2 (band 6) - 20m", "rededge", 0.74, 0.018, 20),
    Band("rededge3", "B07", "B07.tif", "Red edge 3 (band 7) - 20m", "rededge", 0.783, 0.028, 20),
    Band("nir08", "B8A", "B8A.tif", "NIR 2 (band 8A) - 20m", "nir08", 0.865, 0.033, 20),
    Band("nir09", "B09", "B09.tif", "NIR 3 (band 9) - 60m", "nir09", 0.945, 0.026, 60),
    Band("swir16", "B11", "B11.tif", "SWIR 1 (band 11) - 20m", "swir16", 1.61, 0.143, 20),
    Band("swir22", "B12", "B12.tif", "SWIR 2 (band 12) - 20m", "swir22", 2.19, 0.242, 20),
    Band("aot", "AOT", "AOT.tif", "Aerosol optical thickness (AOT)", None, None, None, 20),
    Band("wvp", "WVP", "WVP.tif", "Water vapour (WVP)", None, None, None, 20),
)  # fmt: skip


def _eo_band(b: Band) -> dict[str, Any]:
    out: dict[str, Any] = {"name": b.name}
    if b.common_name:
        out["common_name"] = b.common_name
    out["description"] = b.title.split(" - ")[0]
    if b.centre is not None:
        out["center_wavelength"] = b.centre
        out["full_width_half_max"] = b.fwhm
    return out


def _raster_band(b: Band) -> dict[str, Any]:
    if b.key == "scl":
        return {"nodata": 0, "data_type": "uint8", "spatial_resolution": 20}
    if b.key in ("aot", "wvp"):
        return {
            "nodata": 0,
            "data_type": "uint16",
            "bits_per_sample": 15,
            "spatial_resolution": b.res,
            "scale": 0.001,
            "offset": 0,
        }
    return {
        "nodata": 0,
        "data_type": "uint16",
        "bits_per_sample": 15,
        "spatial_resolution": b.res,
        "scale": 0.0001,
        "offset": -0.1,
    }


def asset_definition(b: Band) -> dict[str, Any]:
    """The parts of an asset that are the same in every item (``item_assets``)."""
    return {
        "type": COG_TYPE,
        "title": b.title,
        "eo:bands": [_eo_band(b)],
        "gsd": b.res,
        "raster:bands": [_raster_band(b)],
        "roles": ["data", "reflectance"],
    }


def _ts(t: dt.datetime, digits: int = 6) -> str:
    """ISO timestamp with a Z and ``digits`` fractional digits (3 or 6)."""
    frac = f"{t.microsecond:06d}"[:digits]
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + frac + "Z"


def _compact(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S")


def _absolute_orbit(acq: Acquisition) -> int:
    ref = dt.datetime(2023, 6, 28, 7, 24, tzinfo=dt.UTC)
    base = 41859 if acq.platform == "sentinel-2a" else 32988
    days = (acq.sensing - ref).total_seconds() / 86400
    return base + round(days * 14.3)


def item_id(platform: str, tile: str, day: dt.date, sequence: int) -> str:
    return f"S2{platform[-1].upper()}_{tile}_{day:%Y%m%d}_{sequence}_L2A"


@dataclass(frozen=True)
class ItemFacts:
    """Everything an item's JSON states, computed by the generator."""

    acq: Acquisition
    tile: Tile
    window: Window
    sequence: int
    sensing: dt.datetime
    sun: Sun
    scl_counts: np.ndarray
    """Pixel count of every SCL class 0..11 over the item."""
    footprint: dict[str, Any]
    """GeoJSON Polygon of the valid data, lon/lat."""
    bbox: tuple[float, float, float, float]
    reflectance_factor: float

    @property
    def id(self) -> str:
        return item_id(self.acq.platform, self.tile.code, self.acq.date, self.sequence)


def _percentages(counts: np.ndarray) -> dict[str, float]:
    total = int(counts.sum())
    valid = total - int(counts[0])

    def pct(*classes: int) -> float:
        return round(100.0 * sum(int(counts[c]) for c in classes) / valid, 6) if valid else 0.0

    return {
        "eo:cloud_cover": pct(8, 9, 10),
        "s2:degraded_msi_data_percentage": 0,
        "s2:nodata_pixel_percentage": round(100.0 * int(counts[0]) / total, 6),
        "s2:saturated_defective_pixel_percentage": pct(1),
        "s2:dark_features_percentage": pct(2),
        "s2:cloud_shadow_percentage": pct(3),
        "s2:vegetation_percentage": pct(4),
        "s2:not_vegetated_percentage": pct(5),
        "s2:water_percentage": pct(6),
        "s2:unclassified_percentage": pct(7),
        "s2:medium_proba_clouds_percentage": pct(8),
        "s2:high_proba_clouds_percentage": pct(9),
        "s2:thin_cirrus_percentage": pct(10),
        "s2:snow_ice_percentage": pct(11),
    }


#: relative orbit -> mean viewing azimuth and zenith (band 4, degrees) over the sample area,
#: as MTD_TL.xml ``Mean_Viewing_Incidence_Angle`` gives them (Copernicus's viewAzimuthMean
#: and viewZenithMean): orbit 108 sees it from the east half of its swath, orbit 8 near the
#: western edge of its own (zenith up to ~12 degrees there)
VIEW_ANGLES = {108: (104.8, 5.4), 8: (285.6, 10.7)}


def item_json(f: ItemFacts) -> dict[str, Any]:
    """The Earth Search v1 style item of one granule (assets relative to its folder)."""
    acq, tile, iid = f.acq, f.tile, f.id
    sat = acq.platform[-1].upper()
    orbit = _absolute_orbit(acq)
    start = acq.sensing.replace(microsecond=0) - dt.timedelta(seconds=71)
    generation = start + dt.timedelta(hours=3, minutes=4, seconds=37 + 7 * f.sequence)
    generation += dt.timedelta(hours=f.sequence * 26)
    created = acq.sensing.replace(microsecond=0) + dt.timedelta(
        hours=5 + f.sequence * 26, minutes=4, seconds=31, milliseconds=537
    )
    stats = _percentages(f.scl_counts)
    props: dict[str, Any] = {
        "created": _ts(created, 3),
        "platform": acq.platform,
        "constellation": "sentinel-2",
        "instruments": ["msi"],
        "eo:cloud_cover": stats.pop("eo:cloud_cover"),
        "proj:epsg": tile.epsg,
        "mgrs:utm_zone": tile.utm_zone,
        "mgrs:latitude_band": tile.latitude_band,
        "mgrs:grid_square": tile.grid_square,
        "grid:code": f"MGRS-{tile.code}",
        "view:sun_azimuth": round(f.sun.azimuth, 6),
        "view:sun_elevation": round(f.sun.elevation, 6),
        "view:azimuth": VIEW_ANGLES[acq.relative_orbit][0],
        "view:incidence_angle": VIEW_ANGLES[acq.relative_orbit][1],
        **stats,
        "s2:product_type": "S2MSI2A",
        "s2:processing_baseline": BASELINE,
        "s2:product_uri": (
            f"S2{sat}_MSIL2A_{_compact(start)}_N{BASELINE.replace('.', '')}"
            f"_R{acq.relative_orbit:03d}_T{tile.code}_{_compact(generation)}.SAFE"
        ),
        "s2:generation_time": _ts(generation),
        "s2:datatake_id": f"GS2{sat}_{_compact(start)}_{orbit:06d}_N{BASELINE}",
        "s2:datatake_type": "INS-NOBS",
        "s2:datastrip_id": (
            f"S2{sat}_OPER_MSI_L2A_DS_2{sat}PS_{_compact(generation)}_S{_compact(start)}"
            f"_N{BASELINE}"
        ),
        "s2:granule_id": (
            f"S2{sat}_OPER_MSI_L2A_TL_2{sat}PS_{_compact(generation)}_A{orbit:06d}"
            f"_T{tile.code}_N{BASELINE}"
        ),
        "s2:reflectance_conversion_factor": round(f.reflectance_factor, 12),
        "datetime": _ts(f.sensing),
        "s2:sequence": str(f.sequence),
        "earthsearch:s3_path": (
            f"s3://sentinel-cogs/sentinel-s2-l2a-cogs/{tile.utm_zone}/{tile.latitude_band}/"
            f"{tile.grid_square}/{acq.date.year}/{acq.date.month}/{iid}"
        ),
        "earthsearch:payload_id": "roda-sentinel2/workflow-sentinel2-to-stac/"
        + hashlib.md5(iid.encode(), usedforsecurity=False).hexdigest(),
        "processing:software": {"sentinel2-to-stac": "0.1.0"},
        "updated": _ts(created, 3),
    }
    assets: dict[str, Any] = {}
    for b in BANDS:
        h, w = f.window.shape(b.res)
        tr = f.window.transform(b.res)
        asset = {"href": f"./{b.file}", **asset_definition(b)}
        asset.pop("roles")
        asset.update(
            {
                "proj:epsg": tile.epsg,
                "proj:shape": [h, w],
                "proj:transform": [tr.a, tr.b, tr.c, tr.d, tr.e, tr.f],
                "proj:bbox": list(f.window.bounds),
                "roles": ["data", "reflectance"],
            }
        )
        assets[b.key] = asset
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": iid,
        "properties": props,
        "geometry": f.footprint,
        "links": [
            {
                "rel": "root",
                "href": "../collection.json",
                "type": "application/json",
                "title": "Sentinel-2 Level-2A (hybrid offline sample)",
            },
            {"rel": "parent", "href": "../collection.json", "type": "application/json"},
            {"rel": "collection", "href": "../collection.json", "type": "application/json"},
            {"rel": "license", "href": LICENSE_URL},
        ],
        "assets": assets,
        "bbox": list(f.bbox),
        "stac_extensions": ITEM_EXTENSIONS,
        "collection": COLLECTION_ID,
    }


def collection_json(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The static collection linking ``items`` (item JSON dicts, in the order given)."""
    boxes = np.array([it["bbox"] for it in items])
    times = sorted(it["properties"]["datetime"] for it in items)
    return {
        "type": "Collection",
        "id": COLLECTION_ID,
        "stac_version": "1.0.0",
        "stac_extensions": COLLECTION_EXTENSIONS,
        "title": "Sentinel-2 Level-2A (hybrid offline sample)",
        "description": (
            "Synthetic Sentinel-2 L2A season (2023-04-28 to 2023-10-02) over an Alpine "
            "valley around the hybrid seed AOI, generated deterministically by "
            "hybrid.sample, laid out like Earth Search Collection-1. Stored DN include the "
            "processing-baseline >= 04.00 BOA offset: reflectance = DN * scale + offset "
            "from raster:bands (0.0001, -0.1); 0 is nodata."
        ),
        "keywords": ["sentinel", "earth observation", "esa", "synthetic"],
        "license": "proprietary",
        "providers": [
            {"name": "ESA", "roles": ["producer"], "url": "https://earth.esa.int/web/guest/home"},
            {"name": "hybrid", "roles": ["processor"]},
        ],
        "extent": {
            "spatial": {
                "bbox": [
                    [
                        float(boxes[:, 0].min()),
                        float(boxes[:, 1].min()),
                        float(boxes[:, 2].max()),
                        float(boxes[:, 3].max()),
                    ]
                ]
            },
            "temporal": {"interval": [[times[0], times[-1]]]},
        },
        "summaries": {
            "platform": sorted({it["properties"]["platform"] for it in items}),
            "constellation": ["sentinel-2"],
            "instruments": ["msi"],
            "gsd": [10, 20],
            "grid:code": sorted({it["properties"]["grid:code"] for it in items}),
        },
        "item_assets": {b.key: asset_definition(b) for b in BANDS},
        "links": [
            {
                "rel": "root",
                "href": "./collection.json",
                "type": "application/json",
                "title": "Sentinel-2 Level-2A (hybrid offline sample)",
            },
            {"rel": "license", "href": LICENSE_URL},
            *(
                {
                    "rel": "item",
                    "href": f"./{it['id']}/{it['id']}.json",
                    "type": "application/geo+json",
                }
                for it in items
            ),
        ],
    }
