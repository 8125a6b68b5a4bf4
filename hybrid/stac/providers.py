"""Provider layouts: how each STAC provider names the Copernicus bands and encodes DNs.

Copernicus works in digital numbers harmonised to the pre-04.00 baselines: for
processing baseline >= 04.00 the BOA_ADD_OFFSET (-1000) is added to every valid
reflectance pixel; stored 0 is nodata. Each layout knows where to find that offset.
"""

from __future__ import annotations

import re
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

    def find_key(self, item: Any, band: str) -> str | None:
        """The asset key of ``band`` in ``item``, or None when the item lacks it."""
        key = self.asset_keys.get(band)
        if key is not None and key in item.assets:
            return key
        if self.name == "cdse":
            # CDSE also publishes coarser copies (B02_20m, B02_60m): the finest present
            copies = [k for k in item.assets if re.fullmatch(rf"{band}_\d+m", k)]
            if copies:
                return min(copies, key=lambda k: int(k[len(band) + 1 : -1]))
        return None

    def asset_key(self, item: Any, band: str) -> str:
        """The asset key of ``band``; BandNotFound listing the item's bands if absent."""
        key = self.find_key(item, band)
        if key is None:
            available = sorted(self.bands_of(item))
            raise BandNotFound(
                f"item {item.id} ({self.name} layout) has no asset for band {band}; "
                f"it has {', '.join(available) or 'no known bands'}"
            )
        return key

    def bands_of(self, item: Any) -> set[str]:
        """The Copernicus band names ``item`` has assets for."""
        return {b for b in self.asset_keys if self.find_key(item, b) is not None}

    def dn_offset(self, item: Any, band: str) -> float:
        """DN to add to every valid pixel of ``band`` to harmonise it like Copernicus.

        In order: the asset's ``raster:bands`` offset/scale (or raster v2
        ``raster:offset``/``raster:scale``) as ``offset / scale`` DN; else, when the item
        says ``earthsearch:boa_offset_applied``, nothing (the stored DN already carry
        it); else -1000 for processing baseline >= 04.00.
        """
        if band not in REFLECTANCE_BANDS:
            return 0.0
        asset = item.assets[self.asset_key(item, band)]
        info = _raster_info(asset)
        offset, scale = info.get("offset"), info.get("scale")
        if offset is not None and scale:
            return float(round(float(offset) / float(scale), 6))
        if item.properties.get("earthsearch:boa_offset_applied") is True:
            return 0.0
        return BOA_ADD_OFFSET if processing_baseline(item) >= 4.0 else 0.0

    def nodata(self, item: Any, band: str) -> float:
        """The asset's nodata value (``raster:bands``), else 0 as in every S2 L2A product."""
        value = _raster_info(item.assets[self.asset_key(item, band)]).get("nodata")
        return float(value) if value is not None else 0.0

    def dtype(self, item: Any, band: str) -> str:
        """The asset's data type (``raster:bands``), else the product's (uint8 SCL, uint16)."""
        value = _raster_info(item.assets[self.asset_key(item, band)]).get("data_type")
        if value:
            return str(value)
        return "uint8" if band == "SCL" else "uint16"


def _raster_info(asset: Any) -> dict[str, Any]:
    """nodata/data_type/scale/offset of a single-band asset, from either raster extension."""
    fields = asset.extra_fields
    raster = fields.get("raster:bands")
    info: dict[str, Any] = dict(raster[0]) if raster and isinstance(raster[0], dict) else {}
    for key in ("nodata", "data_type", "scale", "offset"):
        if f"raster:{key}" in fields and key not in info:
            info[key] = fields[f"raster:{key}"]
    if "nodata" not in info and fields.get("nodata") is not None:
        info["nodata"] = fields["nodata"]
    return info


def processing_baseline(item: Any) -> float:
    """The item's processing baseline as a number (``05.09`` -> 5.09)."""
    props = item.properties
    for key in ("s2:processing_baseline", "processing:version", "sentinel:processing_baseline"):
        value = props.get(key)
        if value is not None:
            try:
                return float(str(value).strip().lstrip("N").replace("_", "."))
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
    """Recognise an item's provider layout from its content.

    Asset keys decide (``red``/``nir``/``scl``, ``B04``/``SCL``, ``B04_10m``/``SCL_20m``);
    on a tie, the properties each provider writes (``earthsearch:*``, ``s2:*``,
    ``processing:version``) break it.
    """
    keys = set(item.assets)
    props = item.properties

    def score(layout: Layout) -> tuple[int, int]:
        hint = {
            "earth-search": any(k.startswith("earthsearch:") for k in props),
            "planetary-computer": "s2:processing_baseline" in props,
            "cdse": "processing:version" in props,
        }[layout.name]
        return len(keys & set(layout.asset_keys.values())), int(hint)

    best = max(LAYOUTS, key=score)
    if score(best)[0] == 0:
        raise BandNotFound(
            f"item {item.id} has no Sentinel-2 band assets in a known layout "
            f"(assets: {', '.join(sorted(keys)) or 'none'}); expected Earth Search "
            "(red, nir, scl), Planetary Computer (B04, B08, SCL) or CDSE (B04_10m, SCL_20m) keys"
        )
    return best


def band_resolution(band: str) -> int:
    return _RESOLUTION.get(band, 10)
