"""Catalogs in no provider's layout are read by their band metadata, pixel for pixel.

The embedded sample (Earth Search layout) is rewritten into layouts no provider uses,
its assets pointing at the very same COGs: odd keys (``b04``, ``band_03``, ``B02.tif``,
``sr_b8``, ``SCL_20m``) with STAC 1.0 ``eo:bands`` names ``B4``/``B8A``; STAC 1.1
``bands`` with lower-case names, ``eo:common_name`` and the raster fields inside them;
meaningless keys whose bands only a ``common_name`` tells (``nir`` B08 beside ``nir08``
B8A, the offset from the processing baseline); and coarser copies of a band (real COGs of
other values) that must lose to its finest asset. ``load_collection`` over each must give
the Earth Search layout's pixels; an item nobody can read fails in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hybrid.aoi import geometry_bbox
from hybrid.backends.local.loader import S2_BANDS, LoadRequest, load_s2
from hybrid.errors import BandNotFound
from hybrid.sample import SEED_AOI
from tests.stac_fixtures import NDVI_END, NDVI_START, rewritten_catalog, run_ndvi

START, END = "2023-05-01", "2023-05-20"
#: the Earth Search layout's ``B04``... as the first layout spells its keys
ODD_KEYS = {"B04": "b04", "B03": "band_03", "B02": "B02.tif", "B08": "sr_b8", "SCL": "SCL_20m"}


def _band(asset: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (entry,) = asset["eo:bands"]
    return entry["name"], entry


def _short(band: str) -> str:
    return band if band == "B8A" or not band.startswith("B0") else "B" + band[2:]


def _base(item: dict[str, Any]) -> dict[str, Any]:
    """The item without Earth Search's own properties (no provider hint left)."""
    props = {k: v for k, v in item["properties"].items() if not k.startswith("earthsearch:")}
    return {**item, "properties": props, "collection": "band-metadata"}


def _odd_keys_item(item: dict[str, Any]) -> dict[str, Any]:
    """STAC 1.0: odd keys, ``eo:bands`` names ``B4``, SCL known by its key only, and a
    three-band ``visual`` asset and a thumbnail that hold no band of their own."""
    assets = {}
    for asset in item["assets"].values():
        band, entry = _band(asset)
        new = dict(asset)
        if band == "SCL":
            del new["eo:bands"]
        else:
            new["eo:bands"] = [{**entry, "name": _short(band)}]
        assets[ODD_KEYS.get(band, f"{band.lower()}-cog")] = new
    red = item["assets"]["red"]
    assets["visual"] = {**red, "roles": ["visual"], "eo:bands": [
        {"name": "B04"}, {"name": "B03"}, {"name": "B02"}]}  # fmt: skip
    assets["thumbnail"] = {"href": red["href"], "type": "image/jpeg", "roles": ["thumbnail"]}
    return {**_base(item), "assets": assets}


def _stac_11_item(item: dict[str, Any]) -> dict[str, Any]:
    """STAC 1.1: ``bands`` with lower-case names, ``eo:common_name``, and nodata,
    data_type, ``raster:scale``/``raster:offset`` inside them; keys ``sr_b04``."""
    assets = {}
    for asset in item["assets"].values():
        band, entry = _band(asset)
        raster = asset["raster:bands"][0]
        new = {k: v for k, v in asset.items() if k not in ("eo:bands", "raster:bands")}
        one: dict[str, Any] = {"name": band.lower(), "nodata": 0, "data_type": raster["data_type"]}
        if "common_name" in entry:
            one["eo:common_name"] = entry["common_name"]
        if "scale" in raster:
            one.update({"raster:scale": raster["scale"], "raster:offset": raster["offset"]})
        new["bands"] = [one]
        assets[f"sr_{band.lower()}"] = new
    return {**_base(item), "stac_version": "1.1.0", "assets": assets}


#: the EO extension's red-edge names, where the sample writes "rededge" thrice
REDEDGE = {"B05": "rededge071", "B06": "rededge075", "B07": "rededge078"}


def _common_names_item(item: dict[str, Any]) -> dict[str, Any]:
    """Keys ``asset-<n>``; the spectral bands told only by ``common_name`` (and their
    wavelength; names such as "Red (band 4)"), SCL/AOT/WVP only by their keys; no raster
    fields (the DN offset from ``s2:processing_baseline``, nodata 0)."""
    assets = {}
    for n, asset in enumerate(item["assets"].values()):
        band, entry = _band(asset)
        new = {k: v for k, v in asset.items() if k not in ("eo:bands", "raster:bands")}
        common = REDEDGE.get(band, entry.get("common_name"))
        if common is None:
            assets[band.lower()] = new
            continue
        wavelength = {"center_wavelength": entry["center_wavelength"]}
        name = entry["description"]  # "Red (band 4)": the name spells no band
        new["eo:bands"] = [{"name": name, "common_name": common, **wavelength}]
        assets[f"asset-{n}"] = new
    return {**_base(item), "assets": assets}


def _coarse_copies(folder: Path) -> Any:
    """The odd-keys layout plus, for B04 and B08, 20 m and 60 m COGs of other values
    (named to sort first, no ``gsd``: the resolution from ``proj:transform``)."""
    from affine import Affine

    from hybrid.sample.cog import write_cog

    def convert(item: dict[str, Any]) -> dict[str, Any]:
        out = _odd_keys_item(item)
        for band, key in (("B04", "b04"), ("B08", "sr_b8")):
            fine = out["assets"][key]
            fine.pop("gsd")
            (raster,) = fine["raster:bands"]
            fine["raster:bands"] = [{k: v for k, v in raster.items() if k != "spatial_resolution"}]
            x0, y0 = fine["proj:transform"][2], fine["proj:transform"][5]
            for res, value in ((60, 7), (20, 9)):
                rows, cols = (n * 10 // res for n in fine["proj:shape"])
                path = folder / item["id"] / f"{band}_{res}.tif"
                path.parent.mkdir(parents=True, exist_ok=True)
                transform = Affine(res, 0, x0, 0, -res, y0)
                values = np.full((rows, cols), value, np.uint16)
                write_cog(path, values, transform=transform, crs="EPSG:32632", nodata=0)
                coarse = {k: v for k, v in fine.items() if k != "proj:bbox"}
                coarse.update(href=str(path), **{"proj:shape": [rows, cols]})
                coarse["proj:transform"] = [res, 0, x0, 0, -res, y0]
                out["assets"][f"a-{band}-{res}m"] = coarse
        return out

    return convert


@pytest.fixture(scope="module")
def layouts(sample_catalog, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("band-metadata")
    return {
        "earth-search": sample_catalog,
        "odd-keys": rewritten_catalog(sample_catalog, root / "odd", _odd_keys_item),
        "stac-1.1": rewritten_catalog(sample_catalog, root / "stac11", _stac_11_item),
        "common-names": rewritten_catalog(sample_catalog, root / "common", _common_names_item),
        "resolutions": rewritten_catalog(
            sample_catalog, root / "res", _coarse_copies(root / "copies")
        ),
    }


def _load(catalog: Path | str, bands: tuple[str, ...] = S2_BANDS) -> Any:
    request = LoadRequest(geometry_bbox(SEED_AOI), START, END, bands, None)
    return load_s2(str(catalog), request).cube.compute()


@pytest.fixture(scope="module")
def earth_search_cube(layouts) -> Any:
    return _load(layouts["earth-search"])


@pytest.mark.parametrize("layout", ["odd-keys", "stac-1.1", "common-names"])
def test_load_collection_gives_the_earth_search_pixels(layouts, earth_search_cube, layout):
    from hybrid.stac.providers import detect_layout
    from hybrid.stac.source import static_items

    items = list(static_items(layouts[layout]))
    assert {detect_layout(i).name for i in items} == {"band metadata"}
    got = _load(layouts[layout])
    assert list(got["bands"].values) == list(S2_BANDS)
    assert np.isfinite(got.values).any()
    np.testing.assert_array_equal(got["t"].values, earth_search_cube["t"].values)
    np.testing.assert_array_equal(got.values, earth_search_cube.values)


def test_the_finest_of_several_resolutions_is_read(layouts, earth_search_cube):
    bands = ("B04", "B08", "SCL")
    got = _load(layouts["resolutions"], bands)
    np.testing.assert_array_equal(got.values, earth_search_cube.sel(bands=list(bands)).values)


def test_the_workflow_ndvi_is_the_earth_search_one(layouts, seed_aoi, tmp_path):
    """The seed graph's load_collection through the local backend, on common names."""
    assert (NDVI_START, NDVI_END) == ("2023-05-01", "2023-06-01")
    expected = run_ndvi(str(layouts["earth-search"]), tmp_path / "es", seed_aoi, memo=True)
    got = run_ndvi(str(layouts["common-names"]), tmp_path / "common", seed_aoi)
    assert got.tobytes() == expected.tobytes()


def test_scenes_and_cache_read_the_layout(layouts, tmp_path):
    """``hybrid scenes`` rows and ``hybrid cache`` copies as for the Earth Search layout;
    the cached catalog keeps the band metadata and loads the same pixels."""
    from hybrid.cache import CacheRequest, cache_scenes
    from hybrid.params import Workflow
    from hybrid.scene_table import scene_table

    workflow = Workflow(aoi=SEED_AOI, start=START, end=END)
    expected = scene_table(workflow, stac=layouts["earth-search"])
    got = scene_table(workflow, stac=layouts["odd-keys"])
    assert [(r.date, r.item_ids, r.note) for r in got] == [
        (r.date, r.item_ids, r.note) for r in expected
    ]
    np.testing.assert_array_equal(
        [(r.aoi_cloud_pct, r.valid_pct) for r in got],
        [(r.aoi_cloud_pct, r.valid_pct) for r in expected],
    )
    reports = {
        name: cache_scenes(
            CacheRequest(geometry_bbox(SEED_AOI), START, END, str(layouts[name])),
            tmp_path / name,
            progress=False,
        )
        for name in ("earth-search", "odd-keys")
    }
    report = reports["odd-keys"]
    assert (report.items, report.copied) == (reports["earth-search"].items, 5 * report.items)
    bands = ("B02", "B04", "B08", "SCL")
    np.testing.assert_array_equal(
        _load(report.catalog, bands).values, _load(layouts["earth-search"], bands).values
    )


def _item(assets: dict[str, dict[str, Any]], item_id: str = "x") -> Any:
    import pystac

    return pystac.Item.from_dict({
        "type": "Feature", "stac_version": "1.0.0", "id": item_id,
        "geometry": None, "bbox": None, "links": [],
        "properties": {"datetime": "2023-05-02T10:30:00Z"},
        "assets": {k: {"href": f"https://example.org/{k}", **v} for k, v in assets.items()},
    })  # fmt: skip


def _eo(**band: Any) -> dict[str, Any]:
    return {"type": "image/tiff", "roles": ["data"], "eo:bands": [band]}


def test_names_then_common_names_then_keys():
    from hybrid.stac.providers import BAND_METADATA, detect_layout

    item = _item({
        "x1": _eo(name="b8a", common_name="nir"),  # the name decides: B8A
        "x2": _eo(common_name="nir"),
        "x3": _eo(common_name="Nir Narrow", center_wavelength=0.865),
        "red_60m": _eo(common_name="red"), "red_10m": _eo(common_name="red"),
        "rededge": _eo(common_name="rededge"),  # three bands have it: none
        "scl": {"type": "image/tiff", "roles": ["data"]},
        "B02_10m.jp2": {"type": "image/jp2", **_eo(name="B2")},
        "B02_10m.tif": {"type": "image/tiff", **_eo(name="B2")},
    })  # fmt: skip
    assert detect_layout(item) is BAND_METADATA
    keys = {b: BAND_METADATA.asset_key(item, b) for b in ("B8A", "B08", "B04", "SCL", "B02")}
    assert keys == {"B8A": "x1", "B08": "x2", "B04": "red_10m", "SCL": "scl",
                    "B02": "B02_10m.tif"}  # fmt: skip
    assert BAND_METADATA.bands_of(item) == {"B02", "B04", "B08", "B8A", "SCL"}


def test_an_item_in_a_layout_lists_its_assets_once(monkeypatch):
    # detect_layout runs for every item and band read: an item with only some of its
    # provider's keys (red, nir, scl) is also weighed by its band metadata, which lists
    # the item's assets once, not once per band (15 times, 75 times slower)
    from hybrid.stac import band_metadata
    from hybrid.stac.providers import EARTH_SEARCH, detect_layout

    calls = []
    listed = band_metadata._candidates
    monkeypatch.setattr(band_metadata, "_candidates", lambda i: calls.append(1) or listed(i))
    item = _item({"red": _eo(name="red", common_name="red"), "nir": _eo(common_name="nir"),
                  "scl": {"type": "image/tiff", "roles": ["data"]}})  # fmt: skip
    assert detect_layout(item) is EARTH_SEARCH
    assert len(calls) == 1


def test_a_band_no_metadata_names_is_one_clear_line():
    from hybrid.stac.providers import BAND_METADATA, detect_layout

    item = _item({"asset-1": _eo(common_name="red"), "asset-2": _eo(common_name="rededge")})
    with pytest.raises(BandNotFound) as info:
        detect_layout(item).asset_key(item, "B05")
    message = str(info.value)
    assert "\n" not in message
    assert "item x (band metadata layout) has no asset for band B05; it has B04" in message
    assert "eo:bands/bands name is B05 (or B5), or common_name rededge071" in message
    nir = _item({
        "n1": _eo(common_name="nir", center_wavelength=0.842),
        "n2": _eo(common_name="nir", center_wavelength=0.865),
    })  # fmt: skip
    with pytest.raises(BandNotFound, match=r"common_name nir \(n1, n2\) hold bands of differ"):
        BAND_METADATA.asset_key(nir, "B08")


def test_an_item_without_band_metadata_or_known_keys_is_refused(tmp_path):
    from hybrid.stac.providers import detect_layout

    item = _item({"data": {"type": "image/tiff", "roles": ["data"]}}, "mystery")
    with pytest.raises(BandNotFound) as info:
        detect_layout(item)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("item mystery has no Sentinel-2 band assets in a known layout")
    assert "earth-search: red, nir, scl" in message
    assert "or single-band raster assets whose band metadata names the bands" in message


def test_loading_an_unreadable_layout_names_the_item(layouts, tmp_path):
    def strip(item: dict[str, Any]) -> dict[str, Any]:
        """Neither band metadata nor keys that spell a band."""
        assets = _stac_11_item(item)["assets"].values()
        bare = {
            f"file-{n}": {k: v for k, v in a.items() if k != "bands"} for n, a in enumerate(assets)
        }
        return {**_base(item), "assets": bare}

    catalog = rewritten_catalog(layouts["earth-search"], tmp_path / "bare", strip)
    with pytest.raises(BandNotFound, match=r"^item \S+ has no Sentinel-2 band assets in a known"):
        _load(catalog, ("B04",))


@pytest.mark.pgstac
def test_the_layout_served_by_a_stac_api_gives_the_same_pixels(
    layouts, earth_search_cube, tmp_path
):
    """The STAC 1.1 layout through a real STAC API (pgSTAC): the items as the API
    hydrates them are read by their band metadata too."""
    from tests.pgstac import load_into_pgstac, missing_reason, running_pgstac, static_catalog_json

    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    collection, items = static_catalog_json(layouts["stac-1.1"])
    collection.update(id="band-metadata", stac_version="1.1.0")
    collection.pop("item_assets")  # pgSTAC would hydrate the items with Earth Search's keys
    for item in items:
        item["collection"] = "band-metadata"
    with running_pgstac() as server:
        load_into_pgstac(server, collection, items)
        got = _load(server.url)
    np.testing.assert_array_equal(got["t"].values, earth_search_cube["t"].values)
    np.testing.assert_array_equal(got.values, earth_search_cube.values)
