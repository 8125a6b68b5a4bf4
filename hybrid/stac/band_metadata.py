"""Which asset of a STAC item holds a Copernicus band, read from its band metadata.

For items in none of the providers' layouts (:mod:`hybrid.stac.providers`): a catalog
whose assets are named otherwise (``B4``, ``band_04``, ``B04.tif``, ``sr_b4``, ``b04``)
but describe their band in standard STAC metadata. The asset of band ``B04`` is, among
the item's single-band raster assets (previews, metadata and multi-band assets such as
``visual`` hold no band of their own):

1. one whose band ``name`` spells ``B04`` (STAC 1.0 ``eo:bands``, else STAC 1.1
   ``bands``, as the openEO client's ``bands_from_stac_asset`` reads them; any case,
   ``B4`` and ``B8a`` too);
2. else one whose ``common_name`` (STAC 1.1: ``eo:common_name``) is the band's in the
   collection (:mod:`hybrid.collection`: ``red``; ``nir`` is B08, ``nir08`` B8A) or the
   EO extension's (``rededge071`` B05), when its assets do not name two bands of
   different wavelengths;
3. else one without such metadata whose key spells the band (``scl``, ``SCL_20m``).

Of several assets of the band, the finest (``gsd``, else the ``raster:bands``
resolution, else ``proj:transform``), then a GeoTIFF before a JP2, then by asset key.

This is how Copernicus's load_stac maps band names to assets (openeo-geopyspark-driver
``openeogeotrellis/load_stac.py``, commit 9baf2e1): the assets with raster media types or
a data role (``_is_band_asset`` L1955-1987), visited by (gsd, asset id) so that the
finest asset of a band wins (L325-335, L372-374), each asset's band names from its
metadata (L347, the client's ``bands_from_stac_asset``), the asset id itself when a
requested band is named so (L361-365). It matches names exactly; case, ``B4`` and
common names are accepted here because layouts differ where Copernicus reads one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hybrid.collection import eo_bands, file_resolutions

#: media types of raster assets (load_stac.py ``_is_supported_raster_mime_type``)
RASTER_MEDIA = (
    "image/tiff",
    "image/vnd.stac.geotiff",
    "image/jp2",
    "image/png",
    "image/jpeg",
    "application/x-hdf",
    "application/x-netcdf",
    "application/netcdf",
)
#: asset roles of files that hold no band of their own
_NOT_BAND_ROLES = frozenset({"thumbnail", "overview", "visual", "metadata"})
#: the Copernicus bands an item's assets hold
COPERNICUS_BANDS = tuple(file_resolutions())
#: wavelengths (um) further apart than this are different bands
_SAME_BAND = 0.01


@dataclass(frozen=True)
class BandEntry:
    """One band an asset describes."""

    name: Any
    common_name: Any
    wavelength: Any


def asset_bands(asset: Any) -> list[BandEntry] | None:
    """The bands of an asset: ``eo:bands``, else STAC 1.1 ``bands`` (``eo:common_name``,
    ``eo:center_wavelength``), as the openEO client's ``bands_from_stac_asset`` reads
    them; None when it has neither."""
    fields = asset.extra_fields
    for field, prefix in (("eo:bands", ""), ("bands", "eo:")):
        bands = fields.get(field)
        if isinstance(bands, list):
            return [
                BandEntry(
                    b.get("name"),
                    b.get(f"{prefix}common_name"),
                    b.get(f"{prefix}center_wavelength"),
                )
                for b in bands
                if isinstance(b, Mapping)
            ]
    return None


def asset_band_names(asset: Any) -> list[str]:
    """``eo:bands`` names, else ``bands`` names (the client's ``bands_from_stac_asset``)."""
    return [str(b.name) for b in asset_bands(asset) or []]


def copernicus_band(text: Any, *, key: bool = False) -> str | None:
    """The Copernicus band ``text`` spells (``B4``, ``b04``, ``band_04``, ``B8a``,
    ``B04.tif``, ``B04_10m``, ``scl``, ``SCL_20m``; an asset ``key`` also after a product
    prefix: ``sr_b4``), or None."""
    if not isinstance(text, str):
        return None
    s = re.sub(r"(?:[ _-]\d+m)?(?:\.(?:tiff?|jp2))?$", "", text.strip().lower())
    if key:
        s = re.sub(r"^[a-z]+[_-](?=b)", "", s)
    if s.upper() in ("SCL", "AOT", "WVP"):
        return s.upper()
    match = re.fullmatch(r"(?:band[ _-]?|b)0*(8a|1[0-2]|[1-9])", s)
    if match is None:
        return None
    band = "B8A" if match.group(1) == "8a" else f"B{int(match.group(1)):02d}"
    return band if band in COPERNICUS_BANDS else None


def _squeezed(text: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower()) if isinstance(text, str) else ""


def _common_names() -> dict[str, str]:
    """EO common name (squeezed: ``nir narrow`` is ``nirnarrow``) -> Copernicus band."""
    names = {_squeezed(b["common_name"]): b["name"] for b in eo_bands() if b.get("common_name")}
    # the EO extension's red-edge names (v1.1), and B8A's descriptive name
    return {**names, "rededge071": "B05", "rededge075": "B06", "rededge078": "B07",
            "nirnarrow": "B8A"}  # fmt: skip


COMMON_NAMES = _common_names()
#: Copernicus band -> its first common name (the collection's)
_COMMON_OF = {band: name for name, band in reversed(COMMON_NAMES.items())}


@dataclass(frozen=True)
class _Candidate:
    """A single-band raster asset and the band each rule reads from it."""

    key: str
    by_name: str | None
    by_common: str | None
    by_key: str | None
    wavelength: float | None
    order: tuple[float, int]


def _candidates(item: Any) -> list[_Candidate]:
    found = []
    for key, asset in sorted(item.assets.items()):
        media = (asset.media_type or "").lower()
        if (media and not media.startswith(RASTER_MEDIA)) or _NOT_BAND_ROLES & set(
            asset.roles or ()
        ):
            continue
        entries = asset_bands(asset) or []
        if len(entries) > 1:
            continue
        entry = entries[0] if entries else BandEntry(None, None, None)
        by_name = copernicus_band(entry.name)
        common = entry.common_name if entry.common_name is not None else entry.name
        by_common = None if by_name else COMMON_NAMES.get(_squeezed(common))
        by_key = None if by_name or by_common else copernicus_band(key, key=True)
        wavelength = entry.wavelength if isinstance(entry.wavelength, int | float) else None
        order = (asset_resolution(key, asset, item), int("jp2" in media or key.endswith(".jp2")))
        found.append(_Candidate(key, by_name, by_common, by_key, wavelength, order))
    return found


def asset_resolution(key: str, asset: Any, item: Any) -> float:
    """The asset's pixel size: ``gsd``, the ``raster:bands`` or STAC 1.1 ``bands``
    resolution, ``proj:transform``, ``proj:bbox`` over ``proj:shape``, a ``_20m`` key,
    else the item's ``gsd`` (infinite when nothing tells)."""
    fields = asset.extra_fields
    raster = fields.get("raster:bands")
    bands = fields.get("bands")
    first = [b[0] for b in (raster, bands) if isinstance(b, list) and b and isinstance(b[0], dict)]
    values = [fields.get("gsd"), *(b.get("spatial_resolution") for b in first)]
    values += [b.get("raster:spatial_resolution") for b in first]
    transform, shape, bbox = (fields.get(f"proj:{n}") for n in ("transform", "shape", "bbox"))
    if isinstance(transform, list) and transform:
        values.append(abs(transform[0]) if isinstance(transform[0], int | float) else None)
    if isinstance(bbox, list) and len(bbox) == 4 and isinstance(shape, list) and shape:
        values.append((bbox[2] - bbox[0]) / shape[-1] if shape[-1] else None)
    match = re.search(r"[_-](\d+)m(?:\.\w+)?$", key)
    values += [int(match.group(1)) if match else None, item.properties.get("gsd")]
    for value in values:
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return math.inf


def _choice(
    item: Any, band: str, candidates: list[_Candidate] | None = None
) -> tuple[str | None, str]:
    """The asset key of ``band`` (None: no asset) and why not, when none (``candidates``:
    the item's, when already listed)."""
    candidates = _candidates(item) if candidates is None else candidates
    for rule in ("by_name", "by_common", "by_key"):
        found = [c for c in candidates if getattr(c, rule) == band]
        if not found:
            continue
        waves = sorted({c.wavelength for c in found if c.wavelength is not None})
        if rule == "by_common" and waves and waves[-1] - waves[0] > _SAME_BAND:
            keys = ", ".join(c.key for c in found)
            return None, (
                f"the assets with common_name {_COMMON_OF[band]} ({keys}) hold bands of "
                f"different wavelengths ({', '.join(f'{w:g}' for w in waves)} um): name "
                f"their bands in eo:bands/bands"
            )
        return min(found, key=lambda c: c.order).key, ""
    return None, ""


def metadata_key(item: Any, band: str) -> str | None:
    """The asset key of Copernicus band ``band`` in ``item`` by its band metadata (see
    the module's rules), or None."""
    return _choice(item, band)[0]


def metadata_bands(item: Any) -> set[str]:
    """The Copernicus bands ``item``'s band metadata finds an asset for (its assets
    listed once, not once per band)."""
    candidates = _candidates(item)
    return {b for b in COPERNICUS_BANDS if _choice(item, b, candidates)[0] is not None}


def expected_band(item: Any, band: str) -> str:
    """What an asset of ``band`` must carry, for an error (and why ``item``'s do not)."""
    _, why = _choice(item, band)
    if why:
        return why
    short = "B8A" if band == "B8A" else re.sub(r"^B0", "B", band)
    spelt = f"{band} (or {short})" if short != band else band
    common = f", or common_name {_COMMON_OF[band]}" if band in _COMMON_OF else ""
    return (
        f"expected a single-band raster asset whose eo:bands/bands name is {spelt}"
        f"{common}, or one without band metadata whose key is {band}"
    )
