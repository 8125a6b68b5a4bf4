"""Provider detection, asset layout, offsets and newest-processing choice on items built
like the real ones of each provider.

The structures follow real items read in public test data (not copied): CDSE STAC 1.1
(opendatacube/odc-stac tests/data/S2C_MSIL2A_20250330T100051_N0511_R122_T33UWP_
20250330T145914_cdse_stac_v110.json: ``B04_10m``/``B04_20m``/``B04_60m`` copies,
asset-level ``nodata``, ``data_type``, ``raster:scale``/``raster:offset``, properties
``processing:version``, ``processing:datetime``, ``published``, ``updated``,
``product:timeliness``, ``sat:absolute_orbit``), Planetary Computer (odc-stac
S2B_MSIL2A_20190629T212529_R043_T06VVN_20201006T080531.json: ``B04``/``SCL`` keys, no
raster extension, ``s2:processing_baseline``, the id ending with the generation time)
and Earth Search. Collection-1 follows the real item
philvarner/stac-factory tests/fixtures/S2B_T38XNF_20250422T091553_L2A.json: common-name
keys (``red``, ``nir``, ``scl``...) on COGs named ``B04.tif``/``SCL.tif`` in the bucket
``e84-earth-search-sentinel-data``, ``raster:bands`` nodata 0 / uint16 / scale 1e-4 /
offset -0.1 on reflectance, uint8 on SCL, scale 1e-3 offset 0 on AOT/WVP, item-level
``proj:epsg``, ``grid:code``, ``s2:processing_baseline`` "05.11", ``created``/``updated``,
``earthsearch:payload_id`` and no ``earthsearch:boa_offset_applied``. Earth Search v1
``sentinel-2-l2a`` items (ids like ``S2C_17TKG_20251212_0_L2A``) have the same keys and
``raster:bands`` and, from baseline 04.00, ``earthsearch:boa_offset_applied: true``; the
declared -0.1 is applied to both (FIELD_NOTES section 3).
"""

from __future__ import annotations

import functools
from typing import Any

import pystac
import pytest

from hybrid.stac.providers import PROVIDERS, band_path, detect_provider, provider_named
from hybrid.stac.selection import select_scenes

FOOTPRINT = {
    "type": "Polygon",
    "coordinates": [[[15.0, 47.76], [16.49, 47.76], [16.49, 48.75], [15.0, 48.75], [15.0, 47.76]]],
}
BBOX = [15.0, 47.76, 16.49, 48.75]


def _item(item_id: str, props: dict[str, Any], assets: dict[str, Any], collection: str) -> Any:
    return pystac.Item.from_dict(
        {
            "type": "Feature",
            "stac_version": "1.1.0",
            "id": item_id,
            "bbox": BBOX,
            "geometry": FOOTPRINT,
            "properties": {"datetime": "2025-03-30T10:00:51.025Z", "platform": "sentinel-2c",
                           "constellation": "sentinel-2", **props},
            "assets": assets,
            "links": [],
            "collection": collection,
        }
    )  # fmt: skip


def _cdse(version: str, generated: str, updated: str) -> Any:
    def jp2(band: str, res: int, reflectance: bool = True) -> dict[str, Any]:
        asset: dict[str, Any] = {
            "href": f"s3://eodata/Sentinel-2/MSI/L2A/2025/03/30/S2C_MSIL2A_20250330T100051_"
            f"N{version.replace('.', '')}_R122_T33UWP_{generated}.SAFE/T33UWP_{band}_{res}m.jp2",
            "type": "image/jp2",
            "proj:code": "EPSG:32633",
            "nodata": 0,
            "data_type": "uint8" if band == "SCL" else "uint16",
            "gsd": res,
        }
        if reflectance:
            asset |= {"raster:scale": 0.0001, "raster:offset": -0.1}
        return asset

    assets = {f"{b}_{r}m": jp2(b, r) for b in ("B02", "B04", "B08") for r in (10, 20, 60)} | {
        "B01_20m": jp2("B01", 20),
        "B01_60m": jp2("B01", 60),
    }
    assets |= {f"SCL_{r}m": jp2("SCL", r, reflectance=False) for r in (20, 60)}
    props = {
        "processing:version": version,
        "processing:datetime": f"{generated[:4]}-{generated[4:6]}-{generated[6:8]}T00:00:00Z",
        "processing:level": "L2",
        "product:type": "S2MSI2A",
        "product:timeliness": "PT24H",
        "sat:absolute_orbit": 2952,
        "sat:orbit_state": "descending",
        "gsd": 10,
        "grid:code": "MGRS-33UWP",
        "eo:cloud_cover": 86.0,
        "published": updated,
        "updated": updated,
    }
    item_id = f"S2C_MSIL2A_20250330T100051_N{version.replace('.', '')}_R122_T33UWP_{generated}"
    return _item(item_id, props, assets, "sentinel-2-l2a")


def _planetary(baseline: str, generated: str) -> Any:
    assets = {
        b: {"href": f"https://sentinel2l2a01.blob.core.windows.net/x/{generated}/{b}.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized", "gsd": 10}
        for b in ("B02", "B03", "B04", "B08", "SCL")
    }  # fmt: skip
    props = {
        "s2:processing_baseline": baseline,
        "s2:mgrs_tile": "33UWP",
        "s2:generation_time": f"{generated[:4]}-01-01T00:00:00Z",
        "eo:cloud_cover": 80.0,
    }
    item_id = f"S2C_MSIL2A_20250330T100051_R122_T33UWP_{generated}"
    return _item(item_id, props, assets, "sentinel-2-l2a")


def _earth_search(collection: str, updated: str, suffix: str = "") -> Any:
    """An Earth Search item of ``collection`` (Collection-1 or v1), baseline 05.11."""
    c1 = collection == "sentinel-2-c1-l2a"
    item_id = (
        f"S2C_T33UWP_20250330T100051_L2A{suffix}" if c1 else f"S2C_33UWP_20250330_0_L2A{suffix}"
    )
    folder = (
        f"https://e84-earth-search-sentinel-data.s3.us-west-2.amazonaws.com/{collection}"
        if c1
        else "https://sentinel-cogs.s3.us-west-2.amazonaws.com/sentinel-s2-l2a-cogs"
    ) + f"/33/U/WP/2025/3/{item_id}"
    files = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "scl": "SCL", "aot": "AOT"}

    def cog(key: str, reflectance: bool = True) -> dict[str, Any]:
        band: dict[str, Any] = {"nodata": 0, "data_type": "uint8" if key == "scl" else "uint16",
                                "spatial_resolution": 20 if key == "scl" else 10}  # fmt: skip
        if reflectance:
            band |= {"bits_per_sample": 15, "scale": 0.0001, "offset": -0.1}
        return {
            "href": f"{folder}/{files[key]}.tif",
            "proj:shape": [10980, 10980],
            "proj:transform": [10, 0, 499980, 0, -10, 5400000],
            "raster:bands": [band],
        }

    assets = {k: cog(k) for k in ("blue", "green", "red", "nir")} | {"scl": cog("scl", False)}
    assets["aot"] = cog("aot", False)
    assets["aot"]["raster:bands"][0] |= {"scale": 0.001, "offset": 0}
    props: dict[str, Any] = {
        "s2:processing_baseline": "05.11", "grid:code": "MGRS-33UWP", "proj:epsg": 32633,
        "mgrs:utm_zone": 33, "mgrs:latitude_band": "U", "mgrs:grid_square": "WP",
        "s2:datatake_id": "GS2C_20250330T100051_002952_N05.11", "eo:cloud_cover": 85.0,
        "created": "2025-03-30T17:00:00Z", "updated": updated,
    }  # fmt: skip
    props["earthsearch:payload_id"] = f"roda-{collection}/workflow-{collection}-to-stac/0c8b"
    if not c1:
        props["earthsearch:boa_offset_applied"] = True
        assets["red-jp2"] = {"href": "s3://sentinel-s2-l2a/tiles/33/U/WP/2025/3/30/0/B04.jp2"}
    return _item(item_id, props, assets, collection)


def test_cdse_items_layout_offsets_and_finest_copies():
    item = _cdse("05.11", "20250330T145914", "2025-03-30T16:00:32.482826Z")
    provider = detect_provider(item)
    assert provider.name == "cdse"
    layout = provider.layout
    assert layout.asset_key(item, "B04") == "B04_10m"
    # the finest file, as Copernicus visits assets by gsd (load_stac.py L325-335, L372-374)
    assert layout.asset_key(item, "B01") == "B01_20m"
    assert layout.asset_key(item, "SCL") == "SCL_20m"
    assert layout.dn_offset(item, "B04") == -1000.0
    assert layout.dn_offset(item, "SCL") == 0.0
    assert layout.nodata(item, "B04") == 0.0
    del item.assets["B04_10m"]  # only the coarser copies left: the finest is used
    assert layout.asset_key(item, "B04") == "B04_20m"


def test_stac_1_1_band_entries_and_asset_level_common_metadata_are_read():
    """STAC 1.1 moves nodata and data_type to common metadata, on the asset or in its
    ``bands`` entries, with raster v2's ``raster:scale``/``raster:offset`` beside them."""
    item = _cdse("05.11", "20250330T145914", "2025-03-30T16:00:32.482826Z")
    layout = provider_named("cdse").layout
    assert layout.dtype(item, "SCL") == "uint8"
    item.assets["B04_10m"].extra_fields["data_type"] = "int16"
    assert layout.dtype(item, "B04") == "int16"
    fields = item.assets["B08_10m"].extra_fields
    for key in ("nodata", "data_type", "raster:scale", "raster:offset"):
        del fields[key]
    band = {"name": "B08", "eo:center_wavelength": 0.833, "nodata": 65535, "data_type": "uint16"}
    fields["bands"] = [band | {"raster:scale": 0.0002, "raster:offset": -0.1}]
    assert layout.nodata(item, "B08") == 65535.0
    assert layout.dn_offset(item, "B08") == -500.0
    fields["nodata"] = 7  # the asset's own value comes first
    assert layout.nodata(item, "B08") == 7.0


def test_item_level_raster_scale_and_offset_count_where_the_asset_has_none():
    """Copernicus reads ``raster:scale``/``raster:offset`` from the asset, else from the
    item's properties, each on its own (load_stac.py L2358-2364); the item's were not
    read here, and the baseline's -1000 was taken instead."""
    item = _cdse("05.11", "20250330T145914", "2025-03-30T16:00:32.482826Z")
    layout = provider_named("cdse").layout
    for asset in item.assets.values():
        asset.extra_fields.pop("raster:scale", None)
        asset.extra_fields.pop("raster:offset", None)
    item.properties |= {"raster:scale": 0.0001, "raster:offset": -0.05}
    assert layout.dn_offset(item, "B04") == -500.0
    assert layout.dn_offset(item, "SCL") == 0.0  # no reflectance, no offset
    # per field: the asset's scale, the item's offset; the asset's offset before the item's
    item.assets["B08_10m"].extra_fields["raster:scale"] = 0.0002
    assert layout.dn_offset(item, "B08") == -250.0
    item.assets["B08_10m"].extra_fields["raster:offset"] = -0.1
    assert layout.dn_offset(item, "B08") == -500.0
    # the item's before a ``bands`` entry's (which Copernicus does not read)
    fields = item.assets["B02_10m"].extra_fields
    fields["bands"] = [{"name": "B02", "raster:scale": 0.0001, "raster:offset": -0.2}]
    assert layout.dn_offset(item, "B02") == -500.0


def test_cdse_reprocessing_most_recently_updated_wins_over_its_baseline():
    old = _cdse("05.11", "20250330T145914", "2025-03-30T16:00:32.482826Z")
    new = _cdse("05.00", "20260105T101010", "2026-01-05T12:00:00.000000Z")
    (day,) = select_scenes([old, new])
    assert [i.id for i in day.items] == [new.id]
    assert [i.id for i in day.replaced] == [old.id]


def test_planetary_computer_newest_generation_wins_through_the_id():
    first = _planetary("05.11", "20250330T145914")
    again = _planetary("05.11", "20260105T101010")
    assert detect_provider(first).name == "planetary-computer"
    assert detect_provider(first).layout.dn_offset(first, "B04") == -1000.0
    (day,) = select_scenes([again, first])
    assert [i.id for i in day.items] == [again.id]


@pytest.mark.parametrize(
    ("collection", "name", "reprocessed", "offset"),
    [
        # Collection-1: raw DN of the reprocessing, raster:bands offset applies
        ("sentinel-2-c1-l2a", "earth-search", True, -1000.0),
        # v1: flagged earthsearch:boa_offset_applied; the declared -0.1 applies all the same
        ("sentinel-2-l2a", "earth-search-v1", False, -1000.0),
    ],
)
def test_earth_search_collections_are_told_apart(collection, name, reprocessed, offset):
    item = _earth_search(collection, "2025-03-30T18:00:00Z")
    provider = detect_provider(item)
    assert (provider.name, provider.reprocessed) == (name, reprocessed)
    layout = provider.layout
    assert [layout.asset_key(item, b) for b in ("B04", "B08", "SCL")] == ["red", "nir", "scl"]
    assert layout.dn_offset(item, "B04") == offset
    assert layout.dn_offset(item, "SCL") == layout.dn_offset(item, "AOT") == 0.0
    assert (layout.nodata(item, "B04"), layout.dtype(item, "SCL")) == (0.0, "uint8")


def test_earth_search_duplicates_keep_the_latest_updated():
    older = _earth_search("sentinel-2-c1-l2a", "2025-03-30T18:00:00Z", suffix="_a")
    newer = _earth_search("sentinel-2-c1-l2a", "2025-11-02T07:00:00Z", suffix="_0")
    (day,) = select_scenes([older, newer])
    assert [i.id for i in day.items] == [newer.id]  # not the greater id: updated decides


def test_different_orbits_or_footprints_are_not_duplicates():
    one = _cdse("05.11", "20250330T145914", "2025-03-30T16:00:32Z")
    other = _cdse("05.11", "20250330T150000", "2025-03-30T17:00:00Z")
    other.properties["sat:absolute_orbit"] = 2953
    (day,) = select_scenes([one, other])
    assert len(day.items) == 2 and not day.replaced


def test_every_provider_entry_is_complete_and_the_default_is_collection_1():
    assert PROVIDERS[0].name == "earth-search"
    assert provider_named("earth-search").collection == "sentinel-2-c1-l2a"
    assert len({p.name for p in PROVIDERS}) == len(PROVIDERS)
    for provider in PROVIDERS:
        assert provider.url.startswith("https://") and provider.collection
        assert {"B04", "B08", "SCL"} <= set(provider.layout.asset_keys)
        assert provider.processing_fields


def test_merge_order_follows_the_first_band_path_not_the_thumbnail():
    """Copernicus merges a date's products in the order of the load's first band's asset
    path (FileLayerProvider.scala L859-864 sorts by the region's source name, the band
    composite's first source, L127). A real CDSE item also has a ``thumbnail`` on
    https://datahub.creodias.eu/odata/v1/Assets(<uuid>)/$value, which sorts before every
    s3:// band path and in the random order of its uuid: it must not decide."""
    first = _cdse("05.11", "20250330T145914", "2025-03-30T16:00:32Z")
    second = _cdse("05.11", "20250330T150000", "2025-03-30T17:00:00Z")
    second.properties["sat:absolute_orbit"] = 2953  # another product, not a duplicate
    for item, uuid in ((first, "f1"), (second, "0a")):  # thumbnails sort the other way
        href = f"https://datahub.creodias.eu/odata/v1/Assets({uuid}-4f51)/$value"
        item.add_asset("thumbnail", pystac.Asset(href=href, roles=["thumbnail"]))
    assert first.assets["B04_10m"].href < second.assets["B04_10m"].href
    (day,) = select_scenes([second, first], functools.partial(band_path, band="B04"))
    assert [i.id for i in day.items] == [first.id, second.id]
    (day,) = select_scenes([first, second], functools.partial(band_path, band="B08"))
    assert [i.id for i in day.items] == [first.id, second.id]
