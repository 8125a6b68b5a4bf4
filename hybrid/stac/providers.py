"""Provider layouts: how each STAC provider names the Copernicus bands and encodes DNs.

Copernicus works in digital numbers harmonised to the pre-04.00 baselines: for
processing baseline >= 04.00 the BOA_ADD_OFFSET (-1000) is added to every valid
reflectance pixel; stored 0 is nodata. Each layout knows where to find that offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hybrid.errors import BandNotFound

#: Copernicus band name -> Earth Search v1 common-name asset key
_EARTH_SEARCH_KEYS = {
    "B01": "coastal",
    "B02": "blue",
    "B03": "green",
    "B04": "red",
    "B05": "rededge1",
    "B06": "rededge2",
    "B07": "rededge3",
    "B08": "nir",
    "B8A": "nir08",
    "B09": "nir09",
    "B11": "swir16",
    "B12": "swir22",
    "SCL": "scl",
    "AOT": "aot",
    "WVP": "wvp",
}
_RESOLUTION = {
    "B01": 60, "B02": 10, "B03": 10, "B04": 10, "B05": 20, "B06": 20, "B07": 20,
    "B08": 10, "B8A": 20, "B09": 60, "B11": 20, "B12": 20, "SCL": 20, "AOT": 10, "WVP": 10,
}  # fmt: skip
#: bands that carry reflectance (and so the BOA offset); the others are classes or
#: auxiliary products without it
REFLECTANCE_BANDS = frozenset(b for b in _RESOLUTION if b.startswith("B"))
#: BOA_ADD_OFFSET of baseline >= 04.00, in DN
BOA_ADD_OFFSET = -1000.0


@dataclass(frozen=True)
class Layout:
    """How one provider's items describe the Sentinel-2 bands."""

    name: str
    #: Copernicus band name -> asset key
    asset_keys: dict[str, str] = field(default_factory=dict)

    def asset_key(self, item: Any, band: str) -> str:
        key = self.asset_keys.get(band)
        if key is None or key not in item.assets:
            available = sorted(self.bands_of(item))
            raise BandNotFound(
                f"item {item.id} ({self.name} layout) has no asset for band {band}; "
                f"it has {', '.join(available) or 'no known bands'}"
            )
        return key

    def bands_of(self, item: Any) -> set[str]:
        return {b for b, k in self.asset_keys.items() if k in item.assets}

    def dn_offset(self, item: Any, band: str) -> float:
        """DN to add to every valid pixel of ``band`` to harmonise it like Copernicus."""
        if band not in REFLECTANCE_BANDS:
            return 0.0
        asset = item.assets[self.asset_keys[band]]
        raster = asset.extra_fields.get("raster:bands")
        if raster:
            info = raster[0]
            offset, scale = info.get("offset"), info.get("scale")
            if offset is not None and scale:
                return float(round(float(offset) / float(scale), 6))
            return 0.0
        return BOA_ADD_OFFSET if _baseline(item) >= 4.0 else 0.0

    def nodata(self, item: Any, band: str) -> float:
        asset = item.assets[self.asset_keys[band]]
        raster = asset.extra_fields.get("raster:bands")
        if raster and raster[0].get("nodata") is not None:
            return float(raster[0]["nodata"])
        return 0.0


def _baseline(item: Any) -> float:
    props = item.properties
    for key in ("s2:processing_baseline", "processing:version", "sentinel:processing_baseline"):
        value = props.get(key)
        if value is not None:
            try:
                return float(str(value).lstrip("N").replace("_", "."))
            except ValueError:
                continue
    # undocumented baseline: judge by date (04.00 went live on 2022-01-25)
    dt = item.datetime
    return 4.0 if dt is not None and dt.date().isoformat() >= "2022-01-25" else 0.0


EARTH_SEARCH = Layout("earth-search", dict(_EARTH_SEARCH_KEYS))
PLANETARY_COMPUTER = Layout("planetary-computer", {b: b for b in _RESOLUTION})
CDSE = Layout("cdse", {b: f"{b}_{_RESOLUTION[b]}m" for b in _RESOLUTION})
LAYOUTS = (EARTH_SEARCH, PLANETARY_COMPUTER, CDSE)


def detect_layout(item: Any) -> Layout:
    """Recognise an item's provider layout from its asset keys."""
    keys = set(item.assets)
    best = max(LAYOUTS, key=lambda layout: len(keys & set(layout.asset_keys.values())))
    if not keys & set(best.asset_keys.values()):
        raise BandNotFound(
            f"item {item.id} has no Sentinel-2 band assets in a known layout "
            f"(assets: {', '.join(sorted(keys)) or 'none'}); expected Earth Search "
            "(red, nir, scl), Planetary Computer (B04, B08, SCL) or CDSE (B04_10m, SCL_20m) keys"
        )
    return best


def band_resolution(band: str) -> int:
    return _RESOLUTION.get(band, 10)
