"""The embedded offline Sentinel-2 sample's catalog: STAC as pystac and odc-stac read it,
item properties, dates, COGs, size, cloud cover and stored values.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import rasterio.features
from shapely.geometry import shape

from hybrid.sample import SEED_AOI, SEED_END, SEED_START, cog_problems
from hybrid.sample.grid import aoi_polygon, reproject_geometry
from tests.project.sample_items import CLOUD, _day, _folder

ASSETS = {
    "blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "scl": "SCL",
    "coastal": "B01", "rededge1": "B05", "rededge2": "B06", "rededge3": "B07",
    "nir08": "B8A", "nir09": "B09", "swir16": "B11", "swir22": "B12", "aot": "AOT", "wvp": "WVP",
}  # fmt: skip

#: native resolution (m) of each asset, as Copernicus and Earth Search serve them
RESOLUTION = {
    "scl": 20, "coastal": 60, "rededge1": 20, "rededge2": 20, "rededge3": 20,
    "nir08": 20, "nir09": 60, "swir16": 20, "swir22": 20, "aot": 20, "wvp": 20,
}  # fmt: skip


def _by_id(items: list[dict[str, Any]], iid: str) -> dict[str, Any]:
    return next(it for it in items if it["id"] == iid)


def test_catalog_reads_with_pystac(sample: Path, items: list[dict[str, Any]]) -> None:
    import pystac

    coll = pystac.Collection.from_file(str(sample))
    assert coll.id == "sentinel-2-c1-l2a"
    assert set(coll.extra_fields["item_assets"]) == set(ASSETS)
    loaded = list(coll.get_items())
    assert [i.id for i in loaded] == [it["id"] for it in items]
    assert isinstance(pystac.read_file(str(sample)), pystac.Collection)
    for item in loaded:
        assert re.fullmatch(r"S2[AB]_(32TLR|31TGL)_2023\d{4}_[01]_L2A", item.id)
        assert item.properties["grid:code"] == "MGRS-" + item.id[4:9]
        epsg = 32632 if "32TLR" in item.id else 32631
        assert item.properties["proj:code"] == f"EPSG:{epsg}"  # pystac migrates proj:epsg
        for key, name in ASSETS.items():
            asset = item.assets[key]
            assert Path(asset.get_absolute_href() or "").is_file()
            assert asset.media_type == "image/tiff; application=geotiff; profile=cloud-optimized"
            assert asset.extra_fields["eo:bands"][0]["name"] == name
            band = asset.extra_fields["raster:bands"][0]
            if key == "scl":
                assert band == {"nodata": 0, "data_type": "uint8", "spatial_resolution": 20}
            elif key in ("aot", "wvp"):
                assert band["scale"] == 0.001 and band["offset"] == 0
            else:
                assert band["scale"] == 0.0001 and band["offset"] == -0.1
                assert (band["nodata"], band["data_type"]) == (0, "uint16")
    raw = sample.read_text(encoding="utf-8") + "".join(json.dumps(it) for it in items)
    assert str(sample.parent) not in raw, "hrefs and links must be relative"


def test_item_properties_follow_earth_search(items: list[dict[str, Any]]) -> None:
    for it in items:
        p = it["properties"]
        assert p["s2:processing_baseline"] == "05.09"
        # Collection-1 items carry no boa flag: raster:bands offset -0.1 says -1000 DN
        assert "earthsearch:boa_offset_applied" not in p
        assert p["constellation"] == "sentinel-2" and p["instruments"] == ["msi"]
        assert p["platform"] == f"sentinel-2{it['id'][2].lower()}"
        assert p["s2:product_uri"].endswith(".SAFE") and it["id"][4:9] in p["s2:product_uri"]
        assert (p["mgrs:utm_zone"], p["mgrs:latitude_band"]) in ((32, "T"), (31, "T"))
        assert p["proj:epsg"] == it["assets"]["red"]["proj:epsg"]
        assert p["created"] == p["updated"] and p["created"] > p["datetime"]
        assert it["collection"] == "sentinel-2-c1-l2a"
        schemas = it["stac_extensions"]
        assert all(u.startswith("https://stac-extensions.github.io/") for u in schemas)


def test_dates_cover_the_season_and_its_edges(items: list[dict[str, Any]]) -> None:
    days = sorted({_day(it) for it in items})
    assert days[0] == "2023-04-28" and days[-1] == "2023-10-02"
    assert "2023-09-30" in days
    assert any(d < SEED_START for d in days) and any(d >= SEED_END for d in days)
    gaps = [
        (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days
        for a, b in itertools.pairwise(days)
    ]
    assert max(gaps) <= 5
    lr = [it for it in items if "32TLR" in it["id"] and it["id"].endswith("_0_L2A")]
    assert len(lr) == len(days), "one regular 32TLR item per date"
    assert {it["properties"]["platform"] for it in items} == {"sentinel-2a", "sentinel-2b"}
    for it in items:
        hour = dt.datetime.fromisoformat(it["properties"]["datetime"].replace("Z", "+00:00"))
        assert dt.time(10, 0) <= hour.time() <= dt.time(11, 0)


def test_cogs_are_valid_and_aligned(sample: Path, items: list[dict[str, Any]]) -> None:
    for it in items:
        for key, asset in it["assets"].items():
            path = _folder(sample, it) / asset["href"]
            assert cog_problems(path) == [], path
            with rasterio.open(path) as ds:
                assert ds.block_shapes[0] in ((256, 256), (512, 512))
                assert ds.compression is not None and ds.compression.value == "DEFLATE"
                assert ds.nodata == 0
                assert ds.dtypes[0] == ("uint8" if key == "scl" else "uint16")
                assert ds.crs.to_epsg() == asset["proj:epsg"]
                assert list(ds.shape) == asset["proj:shape"]
                assert list(ds.transform)[:6] == asset["proj:transform"]
                res = RESOLUTION.get(key, 10)
                assert ds.res == (res, res)
                assert ds.transform.c % 60 == 0 and ds.transform.f % 60 == 0
                assert list(ds.bounds) == asset["proj:bbox"]
                assert ds.overviews(1)


def test_sample_is_small(sample: Path) -> None:
    total = sum(p.stat().st_size for p in sample.parent.rglob("*") if p.is_file())
    # every SENTINEL2_L2A band (15 assets per item)
    assert total < 64 * 2**20, f"sample is {total / 2**20:.1f} MiB"


def test_cloud_cover_is_computed_from_scl(sample: Path, items: list[dict[str, Any]]) -> None:
    for it in items:
        with rasterio.open(_folder(sample, it) / "SCL.tif") as ds:
            scl = ds.read(1)
        valid = scl[scl > 0]
        expected = 100.0 * np.isin(valid, CLOUD).mean()
        p = it["properties"]
        assert p["eo:cloud_cover"] == pytest.approx(expected, abs=1e-4), it["id"]
        shares = [v for k, v in p.items() if k.endswith("_percentage") and "nodata" not in k]
        assert sum(shares) == pytest.approx(100.0, abs=1e-3)
        assert p["s2:nodata_pixel_percentage"] == pytest.approx(100 * (scl == 0).mean(), abs=1e-4)
    covers = [it["properties"]["eo:cloud_cover"] for it in items]
    assert sum(c > 20 for c in covers) >= 5 and sum(c < 10 for c in covers) >= 5


def test_stored_dn_carry_the_boa_offset(sample: Path, items: list[dict[str, Any]]) -> None:
    for iid in ("S2A_32TLR_20230609_0_L2A", "S2B_32TLR_20230717_0_L2A"):
        folder = sample.parent / iid
        bands = []
        for name in ("B02", "B03", "B04", "B08"):
            with rasterio.open(folder / f"{name}.tif") as ds:
                bands.append(ds.read(1))
        stack = np.stack(bands)
        nodata = stack == 0
        assert (nodata == nodata[0]).all(), "nodata must be shared by every band"
        assert stack[~nodata].min() >= 1001
        with rasterio.open(folder / "SCL.tif") as ds:
            scl = ds.read(1)
        scl_nodata = np.repeat(np.repeat(scl == 0, 2, axis=0), 2, axis=1)
        assert (scl_nodata != nodata[0]).mean() < 0.01
        red, nir = (stack[2].astype(float) - 1000) / 1e4, (stack[3].astype(float) - 1000) / 1e4
        ndvi = (nir - red)[~nodata[0]] / (nir + red)[~nodata[0]]
        assert ndvi.min() >= -1 and ndvi.max() <= 1


def test_items_footprints_are_valid_data(items: list[dict[str, Any]]) -> None:
    around = aoi_polygon(32632).buffer(1500.0, join_style="mitre")
    for it in items:
        footprint = shape(it["geometry"])
        assert footprint.is_valid
        assert list(footprint.bounds) == pytest.approx(it["bbox"])
        if it["properties"]["s2:nodata_pixel_percentage"] == 0:
            utm = reproject_geometry(footprint, 4326, 32632)
            assert utm.contains(around), "margin of >= 1.5 km around the AOI"


def test_odc_stac_loads_the_catalog(sample: Path) -> None:
    import odc.stac
    import pystac

    coll = pystac.Collection.from_file(str(sample))
    chosen = [i for i in coll.get_items() if "20230702" in i.id]
    assert len(chosen) == 2
    lon0, lat0, lon1, lat1 = shape(SEED_AOI).bounds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        ds = odc.stac.load(
            chosen,
            bands=["red", "nir", "scl"],
            crs="EPSG:32632",
            resolution=10,
            bbox=(lon0, lat0, lon1, lat1),
            groupby="solar_day",
            resampling="nearest",
        ).compute()
    assert ds.sizes["time"] == 1
    assert ds.sizes["y"] > 400 and ds.sizes["x"] > 150
    assert int(ds.red.min()) >= 1001
    assert set(np.unique(ds.scl.values)) <= set(range(1, 12))
