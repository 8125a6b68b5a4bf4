"""STAC providers as data (:data:`PROVIDERS`) and their asset layouts: how each names the
Copernicus bands and encodes DNs.

Copernicus works in digital numbers harmonised to the pre-04.00 baselines: for
processing baseline >= 04.00 the BOA_ADD_OFFSET (-1000) is added to every valid
reflectance pixel; stored 0 is nodata. Each layout knows where to find that offset.
Items in none of the providers' layouts are read by their band metadata
(:data:`BAND_METADATA`, :mod:`hybrid.stac.band_metadata`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hybrid.collection import file_resolutions
from hybrid.errors import BandNotFound
from hybrid.stac.band_metadata import expected_band, metadata_bands, metadata_key

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
#: band -> the pixel size of its finest file (CDSE names the assets after it: B02_10m)
_RESOLUTION = file_resolutions()
#: bands that carry reflectance (and so the BOA offset); the others are classes or
#: auxiliary products without it
REFLECTANCE_BANDS = frozenset(b for b in _RESOLUTION if b.startswith("B"))
#: BOA_ADD_OFFSET of baseline >= 04.00, in DN
BOA_ADD_OFFSET = -1000.0


@dataclass(frozen=True)
class Layout:
    """How one provider's items name the Sentinel-2 band assets."""

    name: str
    #: Copernicus band name -> asset key
    asset_keys: dict[str, str] = field(default_factory=dict)
    #: the provider publishes a band in several files ``<band>_<res>m`` (CDSE: B01_20m
    #: and B01_60m, B02_10m/_20m/_60m); the finest copy present is read, as Copernicus's
    #: load_stac visits an item's assets by ``gsd`` then asset id and skips an asset
    #: whose bands an earlier one gave (openeo-geopyspark-driver 9baf2e10
    #: openeogeotrellis/load_stac.py L325-335, L372-374): B01 from its 20 m file
    resolution_copies: bool = False
    #: no fixed keys: each band's asset is found by the item's band metadata
    #: (:mod:`hybrid.stac.band_metadata`), for items in no provider's layout
    by_metadata: bool = False

    def find_key(self, item: Any, band: str) -> str | None:
        """The asset key of ``band`` in ``item``, or None when the item lacks it."""
        if self.by_metadata:
            return metadata_key(item, band)
        if self.resolution_copies:
            copies = [k for k in item.assets if re.fullmatch(rf"{band}_\d+m", k)]
            if copies:
                return min(copies, key=lambda k: int(k[len(band) + 1 : -1]))
        key = self.asset_keys.get(band)
        return key if key is not None and key in item.assets else None

    def asset_key(self, item: Any, band: str) -> str:
        """The asset key of ``band``; BandNotFound listing the item's bands if absent."""
        key = self.find_key(item, band)
        if key is None:
            available = sorted(self.bands_of(item))
            expected = f"; {expected_band(item, band)}" if self.by_metadata else ""
            raise BandNotFound(
                f"item {item.id} ({self.name} layout) has no asset for band {band}; "
                f"it has {', '.join(available) or 'no known bands'}{expected}"
            )
        return key

    def bands_of(self, item: Any) -> set[str]:
        """The Copernicus band names ``item`` has assets for."""
        if self.by_metadata:
            return metadata_bands(item)
        return {b for b in self.asset_keys if self.find_key(item, b) is not None}

    def dn_offset(self, item: Any, band: str) -> float:
        """DN to add to every valid pixel of ``band`` to harmonise it like Copernicus.

        In order:

        - the asset's ``raster:bands`` offset/scale (or raster v2 ``raster:offset``/
          ``raster:scale``, of the asset, else of the item) as ``offset / scale`` DN:
          Earth Search Collection-1 and v1 originals (0 before 04.00), CDSE STAC. Earth
          Search documents the offset as "anything other than 0 ... should be applied"
          (Element84/earth-search
          docs/collections/sentinel-2-l2a.md), and the Copernicus load_stac path adds it
          (openeo-geopyspark-driver load_stac.py ``_get_pixel_value_scale_and_offset``).
          Earth Search v1 items flagged ``earthsearch:boa_offset_applied: true`` follow
          the same rule: FIELD_NOTES section 3 lists the flag beside the -0.1 offset and
          the project's conformance data (WP6 generator) stores such DN with the offset
          still to apply. Same-scene comparisons of v1 and Collection-1 have been reported
          to differ by 1000 DN; if that holds for real v1 items, their offset is applied
          twice here (see the issue note).
        - else -1000 for processing baseline >= 04.00 (Planetary Computer, no raster
          extension) [FIELD_NOTES section 1].
        """
        if band not in REFLECTANCE_BANDS:
            return 0.0
        asset = item.assets[self.asset_key(item, band)]
        info = _raster_info(asset, item)
        offset, scale = info.get("offset"), info.get("scale")
        if offset is not None and scale:
            return float(round(float(offset) / float(scale), 6))
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


def _raster_info(asset: Any, item: Any = None) -> dict[str, Any]:
    """nodata/data_type/scale/offset of a single-band asset, from the raster extension v1
    (``raster:bands``), else from the asset itself or its first entry of STAC 1.1's
    ``bands`` (common ``nodata``/``data_type``, raster v2 ``raster:scale``/``raster:offset``),
    as the Copernicus load_stac path reads them (openeo-geopyspark-driver load_stac.py
    ``_get_asset_property``). ``raster:scale``/``raster:offset`` the asset lacks come
    from the ``item``'s properties, each on its own, before its ``bands`` entry, as
    Copernicus's ``_get_raster_scale_and_offset`` (L2358-2364: the asset's, else the
    item's) reads them."""
    fields = asset.extra_fields
    raster = fields.get("raster:bands")
    info: dict[str, Any] = dict(raster[0]) if raster and isinstance(raster[0], dict) else {}
    bands = fields.get("bands")
    band = bands[0] if isinstance(bands, list) and bands and isinstance(bands[0], dict) else {}
    properties = getattr(item, "properties", None) or {}
    for key, name in (("nodata", "nodata"), ("data_type", "data_type"),
                      ("scale", "raster:scale"), ("offset", "raster:offset")):  # fmt: skip
        sources = (fields, properties, band) if name.startswith("raster:") else (fields, band)
        for source in sources:
            if key not in info and source.get(name) is not None:
                info[key] = source[name]
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
    # undocumented baseline: judge by date (04.00 went live on 2022-01-25), the
    # ``start_datetime`` of an item whose ``datetime`` is null
    from hybrid.stac.selection import acquisition_date

    try:
        date = acquisition_date(item)
    except (KeyError, ValueError, TypeError):  # neither datetime nor start_datetime
        return 0.0
    return 4.0 if date.isoformat() >= "2022-01-25" else 0.0


EARTH_SEARCH = Layout("earth-search", dict(_EARTH_SEARCH_KEYS))
PLANETARY_COMPUTER = Layout("planetary-computer", {b: b for b in _RESOLUTION})
CDSE = Layout("cdse", {b: f"{b}_{_RESOLUTION[b]}m" for b in _RESOLUTION}, resolution_copies=True)
#: any other catalog: the assets its band metadata names (hybrid.stac.band_metadata)
BAND_METADATA = Layout("band metadata", by_metadata=True)


def band_path(item: Any, band: str) -> str:
    """The name Copernicus sorts a date's products by before merging them (first valid
    value wins): the asset path of the load's first band. A region's source name is its
    band composite's, which is its first source's (openeo-geotrellis-extensions
    FileLayerProvider.scala L127 ``BandCompositeRasterSource.name``, sorted at L859-864),
    the sources following the requested bands (L1488-1512; openeo-geopyspark-driver
    load_stac.py L602, L705). Other assets (CDSE's ``thumbnail`` on
    ``https://datahub.creodias.eu/odata/v1/Assets(<uuid>)``, Planetary Computer's
    ``rendered_preview``) play no part. An item without that band: its smallest href."""
    from hybrid.stac.selection import smallest_href

    try:
        key = detect_layout(item).find_key(item, band)
    except BandNotFound:  # an item in no known layout
        key = None
    return str(item.assets[key].href) if key is not None else smallest_href(item)


def read_hrefs(item: Any) -> list[str]:
    """The hrefs of the assets a load reads from ``item``: those of the bands its layout
    finds, as Copernicus reads only the assets of the requested bands (openeo-geopyspark-
    driver load_stac.py L325-367, 9baf2e1: any other asset is skipped); all of them for
    an item no layout reads (its load fails naming it)."""
    try:
        layout = detect_layout(item)
    except BandNotFound:
        return [a.href for a in item.assets.values()]
    keys = {layout.find_key(item, band) for band in layout.bands_of(item)}
    return [item.assets[k].href for k in sorted(k for k in keys if k is not None)]


def _sign_planetary_computer(items: list[Any]) -> list[Any]:
    from hybrid.stac.access import sign_items

    return sign_items(items, read_hrefs)


@dataclass(frozen=True)
class Provider:
    """A named STAC provider of Sentinel-2 L2A: everything hybrid needs to know about it.

    Adding a provider is adding one entry to :data:`PROVIDERS`; the CLI help, the error
    messages, layout detection and the collection guess for bare API URLs follow.
    """

    #: the name users pass to ``--stac``
    name: str
    #: a short human description (CLI help)
    title: str
    #: STAC API root URL
    url: str
    #: id of its Sentinel-2 L2A collection
    collection: str
    #: how its items name the band assets
    layout: Layout
    #: item properties (or property prefixes ending in ``:``) only this provider writes;
    #: they break ties when asset keys alone cannot tell the layout
    hints: tuple[str, ...] = ()
    #: whether the collection holds the reprocessed products Copernicus uses (the
    #: newest processing of every tile and date); False: originals only
    reprocessed: bool = True
    #: item properties recording the processing, as documented for the provider; the
    #: newest processing is chosen by ``updated`` then the item id, as the Copernicus
    #: driver does (hybrid.stac.selection); these are reported by ``hybrid scenes``
    processing_fields: tuple[str, ...] = ()
    #: makes searched items readable (e.g. signs Planetary Computer hrefs); None: as is
    prepare: Callable[[list[Any]], list[Any]] | None = None

    def has_hint(self, properties: Mapping[str, Any]) -> bool:
        return any(
            any(k.startswith(h) for k in properties) if h.endswith(":") else h in properties
            for h in self.hints
        )


#: the named providers, in the order ``--stac`` help lists them (the first is the default
#: for ``hybrid cache``/``--stac`` examples)
PROVIDERS: tuple[Provider, ...] = (
    Provider(
        name="earth-search",
        title="Element 84 Earth Search, Collection-1 (the reprocessed products Copernicus uses)",
        url="https://earth-search.aws.element84.com/v1",
        collection="sentinel-2-c1-l2a",
        layout=EARTH_SEARCH,
        hints=("earthsearch:",),
        processing_fields=("s2:processing_baseline", "processing:software", "updated", "created"),
    ),
    Provider(
        name="earth-search-v1",
        title="Element 84 Earth Search, original processings only (no reprocessings)",
        url="https://earth-search.aws.element84.com/v1",
        collection="sentinel-2-l2a",
        layout=EARTH_SEARCH,
        hints=("earthsearch:",),
        reprocessed=False,
        processing_fields=("s2:processing_baseline", "updated", "created"),
    ),
    Provider(
        name="planetary-computer",
        title="Microsoft Planetary Computer (hrefs signed automatically)",
        url="https://planetarycomputer.microsoft.com/api/stac/v1",
        collection="sentinel-2-l2a",
        layout=PLANETARY_COMPUTER,
        hints=("s2:processing_baseline",),
        # one item per product: the id ends with the product's generation time
        processing_fields=("s2:processing_baseline", "s2:generation_time", "s2:product_uri"),
        # the forward processing; no reprocessing campaign is documented for it
        reprocessed=False,
        prepare=_sign_planetary_computer,
    ),
    Provider(
        name="cdse",
        title="Copernicus Data Space Ecosystem STAC (JP2 on S3, needs S3 keys)",
        url="https://stac.dataspace.copernicus.eu/v1",
        collection="sentinel-2-l2a",
        layout=CDSE,
        hints=("processing:version",),
        processing_fields=("processing:version", "processing:datetime", "published", "updated"),
    ),
)
#: Sentinel-2 L2A collection ids of other catalogs, tried after the providers' own when
#: a STAC API URL is given without a collection (Earth Search's original-processing
#: collection last: Copernicus uses the reprocessings)
OTHER_S2_COLLECTIONS = ("SENTINEL2_L2A", "sentinel2-l2a")
LAYOUTS = tuple({id(p.layout): p.layout for p in PROVIDERS}.values())


def provider_named(name: str) -> Provider | None:
    return next((p for p in PROVIDERS if p.name == name), None)


def provider_names() -> str:
    """``earth-search | planetary-computer | cdse`` for help and error texts."""
    return " | ".join(p.name for p in PROVIDERS)


def s2_collections() -> tuple[str, ...]:
    """Collection ids tried, in order, when a STAC API URL comes without a collection."""
    return tuple(dict.fromkeys([*(p.collection for p in PROVIDERS), *OTHER_S2_COLLECTIONS]))


def detect_provider(item: Any) -> Provider:
    """The provider whose layout fits ``item``: asset keys first, then property hints,
    then the item's collection id."""
    keys = set(item.assets)

    def score(provider: Provider) -> tuple[int, int, int]:
        shared = len(keys & set(provider.layout.asset_keys.values()))
        same_collection = int(getattr(item, "collection_id", None) == provider.collection)
        return shared, int(provider.has_hint(item.properties)), same_collection

    best = max(PROVIDERS, key=score)
    if score(best)[0] == 0:
        expected = "; ".join(
            f"{p.name}: {', '.join(p.layout.asset_keys[b] for b in ('B04', 'B08', 'SCL'))}"
            for p in PROVIDERS
        )
        raise BandNotFound(
            f"item {item.id} has no Sentinel-2 band assets in a known layout "
            f"(assets: {', '.join(sorted(keys)) or 'none'}); expected the asset keys of "
            f"one of: {expected}"
        )
    return best


def item_provider(item: Any) -> Provider | None:
    """The provider whose layout ``item`` is read in; None for an item read by its band
    metadata, as :func:`detect_layout` decides (BandNotFound when neither reads it)."""
    try:
        provider = detect_provider(item)
    except BandNotFound as exc:
        if BAND_METADATA.bands_of(item):
            return None
        raise BandNotFound(
            f"{exc}; or single-band raster assets whose band metadata names the bands "
            "(eo:bands/bands name B04 or B4, or common_name red)"
        ) from None
    found = len(provider.layout.bands_of(item))
    renamed = found < len(provider.layout.asset_keys)
    return None if renamed and len(BAND_METADATA.bands_of(item)) > found else provider


def detect_layout(item: Any) -> Layout:
    """Recognise an item's asset layout from its content (see :func:`detect_provider`);
    an item in no provider's layout, or whose band metadata finds more bands than its
    provider's asset keys do (keys renamed), is read by its band metadata
    (:data:`BAND_METADATA`)."""
    provider = item_provider(item)
    return BAND_METADATA if provider is None else provider.layout
