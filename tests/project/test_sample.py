"""The embedded offline Sentinel-2 sample: layout, COGs, STAC, special cases, determinism."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import rasterio.features
from rasterio.warp import Resampling, reproject
from shapely.geometry import mapping, shape

from hybrid.errors import UsageError
from hybrid.sample import (
    SEED_AOI,
    SEED_END,
    SEED_START,
    cog_problems,
    default_cache_dir,
    ensure_sample,
    generate_sample,
    write_cog,
)
from hybrid.sample.cache import MARKER, ensure_generated
from hybrid.sample.grid import aoi_polygon, reproject_geometry

REPO = Path(__file__).resolve().parents[2]
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
CLOUD = (8, 9, 10)
# a pid above any Linux pid_max: such a process cannot exist
DEAD_PID = 2**22 + 5


@pytest.fixture(scope="session")
def sample(sample_catalog: Path) -> Path:
    """The default sample (conftest generates it once per session with ensure_sample)."""
    return sample_catalog


@pytest.fixture(scope="session")
def items(sample: Path) -> list[dict[str, Any]]:
    coll = json.loads(sample.read_text(encoding="utf-8"))
    hrefs = [link["href"] for link in coll["links"] if link["rel"] == "item"]
    return [json.loads((sample.parent / h).read_text(encoding="utf-8")) for h in hrefs]


def _folder(sample: Path, item: dict[str, Any]) -> Path:
    return sample.parent / item["id"]


def _by_id(items: list[dict[str, Any]], iid: str) -> dict[str, Any]:
    return next(it for it in items if it["id"] == iid)


def _day(item: dict[str, Any]) -> str:
    return str(item["properties"]["datetime"][:10])


def _in_seed_period(item: dict[str, Any]) -> bool:
    return SEED_START <= _day(item) < SEED_END


@pytest.fixture(scope="session")
def aoi_stats(sample: Path, items: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """Per item: (cloud %, nodata %) of SCL over the AOI (cloud among valid pixels)."""
    out = {}
    for it in items:
        with rasterio.open(_folder(sample, it) / "SCL.tif") as ds:
            scl = ds.read(1)
            aoi = aoi_polygon(ds.crs.to_epsg())
            inside = rasterio.features.geometry_mask(
                [mapping(aoi)], out_shape=scl.shape, transform=ds.transform, invert=True
            )
        values = scl[inside]
        valid = values[values > 0]
        cloud = 100.0 * np.isin(valid, CLOUD).mean() if valid.size else float("nan")
        out[it["id"]] = (cloud, 100.0 * float((values == 0).mean()))
    return out


def test_seed_constants_match_data_file() -> None:
    aoi = json.loads((REPO / "data" / "aoi.geojson").read_text(encoding="utf-8"))
    assert aoi["features"][0]["geometry"] == SEED_AOI
    assert (SEED_START, SEED_END) == ("2023-05-01", "2023-09-30")


def test_default_cache_dir_reads_environment_at_call_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HYBRID_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("HYBRID_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "hybrid"


def test_the_default_sample_has_a_folder_per_generator_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Another generator never replaces (under a reader) the sample of this one."""
    from hybrid.sample import cache

    monkeypatch.setenv("HYBRID_CACHE_DIR", str(tmp_path))
    mine = cache.default_sample_dir()
    assert mine == tmp_path / f"sample-v1-{cache.generator_fingerprint()}"
    monkeypatch.setattr(cache, "generator_fingerprint", lambda: "0123456789abcdef")
    assert cache.default_sample_dir() == tmp_path / "sample-v1-0123456789abcdef" != mine


def test_ensure_sample_is_idempotent(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = sample.parent
    assert (root / MARKER).is_file()
    before = sample.stat().st_mtime_ns

    def regenerate(*_args: Any, **_kwargs: Any) -> Path:
        raise AssertionError("a complete sample was generated again")

    monkeypatch.setattr("hybrid.sample.generate.generate_sample", regenerate)
    assert ensure_sample(root) == sample
    assert sample.stat().st_mtime_ns == before
    assert not [p for p in root.parent.iterdir() if ".tmp-" in p.name]


def test_ensure_refuses_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="not a hybrid sample"):
        ensure_sample(tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_ensure_generated_replaces_a_partial_result(tmp_path: Path) -> None:
    root = tmp_path / "small"
    # a crashed earlier run: a half-written sample without marker, and a stale temp dir
    (root / "S2A_32TLR_20230503_0_L2A").mkdir(parents=True)
    (root / "S2A_32TLR_20230503_0_L2A" / "B02.tif").write_bytes(b"II*\x00trunc")
    (root / "collection.json").write_text('{"type": "Coll', encoding="utf-8")
    stale = tmp_path / f".small.tmp-{DEAD_PID}-abcd1234"
    (stale / "junk").mkdir(parents=True)
    alive = tmp_path / f".small.tmp-{os.getpid()}-efgh5678"
    alive.mkdir()
    calls = []

    def small(tmp: Path) -> Path:
        calls.append(tmp)
        return generate_sample(tmp, n_dates=1, margin_m=100.0)

    out = ensure_generated(root, generate=small, marker_text="test\n")
    assert out.is_file() and (root / MARKER).read_text(encoding="utf-8") == "test\n"
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == [
        "S2B_31TGL_20230428_0_L2A",
        "S2B_32TLR_20230428_0_L2A",
    ]
    assert ensure_generated(root, generate=small, marker_text="test\n") == out
    assert len(calls) == 1
    assert not calls[0].exists()
    assert not stale.exists(), "temp dir of a dead process must be removed"
    assert alive.exists(), "temp dir of a live process must be left alone"


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


def test_nodata_strip_crosses_the_aoi(
    items: list[dict[str, Any]], aoi_stats: dict[str, tuple[float, float]]
) -> None:
    crossing = [it for it in items if 5 < aoi_stats[it["id"]][1] < 95 and _in_seed_period(it)]
    assert crossing, "no item whose swath edge crosses the AOI"
    for it in crossing:
        assert not shape(it["geometry"]).contains(shape(SEED_AOI))
    strips = [it for it in items if it["properties"]["s2:nodata_pixel_percentage"] > 5]
    assert len({_day(it) for it in strips}) >= 2


def test_aoi_cloud_can_be_far_from_tile_cloud(
    items: list[dict[str, Any]], aoi_stats: dict[str, tuple[float, float]]
) -> None:
    gaps = {
        it["id"]: aoi_stats[it["id"]][0] - it["properties"]["eo:cloud_cover"]
        for it in items
        if _in_seed_period(it)
    }
    assert max(gaps.values()) > 30, "no scene with clouds concentrated over the AOI"
    assert min(gaps.values()) < -30, "no scene with clouds away from the AOI"


def test_clouds_hit_the_aoi_partially(
    items: list[dict[str, Any]], aoi_stats: dict[str, tuple[float, float]]
) -> None:
    partial = {_day(it) for it in items if _in_seed_period(it) and 5 < aoi_stats[it["id"]][0] < 95}
    assert len(partial) >= 2


def test_31tgl_is_clear_when_32tlr_is_cloudy(
    items: list[dict[str, Any]], aoi_stats: dict[str, tuple[float, float]]
) -> None:
    days = {}
    for it in items:
        if it["id"].endswith("_0_L2A"):
            days.setdefault(_day(it), {})[it["id"][4:9]] = it
    rescued = [
        d
        for d, tiles in days.items()
        if len(tiles) == 2
        and tiles["32TLR"]["properties"]["eo:cloud_cover"] > 20
        and tiles["31TGL"]["properties"]["eo:cloud_cover"] < 20
        and aoi_stats[tiles["31TGL"]["id"]][1] == 0
    ]
    assert rescued, "no date where only the 31TGL item passes max_cloud_cover=20"
    assert sum(len(t) == 2 for t in days.values()) >= 5


def test_both_tiles_show_the_same_ground(sample: Path) -> None:
    lr, gl = (sample.parent / f"S2B_{t}_20230717_0_L2A" / "B08.tif" for t in ("32TLR", "31TGL"))
    with rasterio.open(lr) as dst_ds, rasterio.open(gl) as src_ds:
        target = dst_ds.read(1)
        warped = np.zeros_like(target)
        reproject(
            src_ds.read(1),
            warped,
            src_transform=src_ds.transform,
            src_crs=src_ds.crs,
            dst_transform=dst_ds.transform,
            dst_crs=dst_ds.crs,
            resampling=Resampling.nearest,
            src_nodata=0,
            dst_nodata=0,
        )
        aoi = aoi_polygon(32632)
        inside = rasterio.features.geometry_mask(
            [mapping(aoi)], out_shape=target.shape, transform=dst_ds.transform, invert=True
        )
    a, b = target[inside].astype(float), warped[inside].astype(float)
    assert (b > 0).all()
    assert np.corrcoef(a, b)[0, 1] > 0.9
    assert np.median(np.abs(a - b)) < 20


def test_reprocessed_duplicate_has_more_cloud(items: list[dict[str, Any]]) -> None:
    seen: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for it in items:
        seen.setdefault((_day(it), it["id"][4:9]), []).append(it)
    dups = [group for group in seen.values() if len(group) > 1]
    assert len(dups) == 1
    first, second = sorted(dups[0], key=lambda it: it["id"])
    assert first["id"].endswith("_0_L2A") and second["id"].endswith("_1_L2A")
    assert first["properties"]["datetime"] == second["properties"]["datetime"]
    assert second["properties"]["eo:cloud_cover"] > first["properties"]["eo:cloud_cover"]
    assert _in_seed_period(first)


def test_snow_early_in_the_season(sample: Path, items: list[dict[str, Any]]) -> None:
    snow = {_day(it): it["properties"]["s2:snow_ice_percentage"] for it in items}
    assert all(snow[d] > 5 for d in ("2023-05-03", "2023-05-13"))
    assert all(v == 0 for d, v in snow.items() if d >= "2023-08-01")
    with rasterio.open(sample.parent / "S2A_32TLR_20230513_0_L2A" / "B03.tif") as ds:
        green = ds.read(1)
    with rasterio.open(sample.parent / "S2A_32TLR_20230513_0_L2A" / "SCL.tif") as ds:
        scl = np.repeat(np.repeat(ds.read(1), 2, axis=0), 2, axis=1)
    assert np.median(green[scl == 11]) > 1000 + 7000  # bright in the visible


def test_ndvi_follows_a_season(sample: Path, items: list[dict[str, Any]]) -> None:
    """Mean NDVI of clear AOI pixels: green-up in May-June, peak in July, decline in
    September; and parcels differ from each other."""
    means, spread = {}, {}
    for it in items:
        if "32TLR" not in it["id"] or it["properties"]["eo:cloud_cover"] > 20:
            continue
        folder = _folder(sample, it)
        with rasterio.open(folder / "B04.tif") as ds:
            red = ds.read(1).astype(float) - 1000
            inside = rasterio.features.geometry_mask(
                [mapping(aoi_polygon(32632))], out_shape=red.shape, transform=ds.transform,
                invert=True,
            )  # fmt: skip
        with rasterio.open(folder / "B08.tif") as ds:
            nir = ds.read(1).astype(float) - 1000
        with rasterio.open(folder / "SCL.tif") as ds:
            scl = np.repeat(np.repeat(ds.read(1), 2, axis=0), 2, axis=1)
        clear = np.isin(scl, (4, 5)) & inside
        if clear.sum() < 0.3 * inside.sum():
            continue
        ndvi = ((nir - red) / (nir + red))[clear]
        means[_day(it)], spread[_day(it)] = float(ndvi.mean()), float(ndvi.std())
    may = [v for d, v in means.items() if d < "2023-05-16"]
    july = [v for d, v in means.items() if "2023-07-01" <= d < "2023-08-01"]
    late = [v for d, v in means.items() if d >= "2023-09-15"]
    assert may and july and late
    assert min(july) > max(may) + 0.08
    assert min(july) > max(late) + 0.05
    assert min(spread.values()) > 0.05


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


@pytest.mark.slow
def test_generation_is_deterministic(tmp_path: Path) -> None:
    a = generate_sample(tmp_path / "a", seed=0, n_dates=3, margin_m=200.0)
    b = generate_sample(tmp_path / "b", seed=0, n_dates=3, margin_m=200.0)
    c = generate_sample(tmp_path / "c", seed=1, n_dates=3, margin_m=200.0)
    files_a = sorted(p.relative_to(a.parent) for p in a.parent.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b.parent) for p in b.parent.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 10
    differs = False
    for rel in files_a:
        if rel.suffix == ".json":
            assert (a.parent / rel).read_bytes() == (b.parent / rel).read_bytes(), rel
        elif rel.suffix == ".tif":
            with rasterio.open(a.parent / rel) as x, rasterio.open(b.parent / rel) as y:
                assert np.array_equal(x.read(), y.read()), rel
            if (c.parent / rel).exists():
                with rasterio.open(a.parent / rel) as x, rasterio.open(c.parent / rel) as z:
                    differs |= not np.array_equal(x.read(), z.read())
    assert differs, "another seed must give other pixels"


def test_generate_rejects_bad_knobs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="n_dates"):
        generate_sample(tmp_path, n_dates=0)
    with pytest.raises(UsageError, match="margin_m"):
        generate_sample(tmp_path, margin_m=-1.0)


def test_write_cog_helper(tmp_path: Path) -> None:
    from affine import Affine

    data = np.arange(3 * 40 * 30, dtype=np.uint16).reshape(3, 40, 30) + 1
    path = write_cog(
        tmp_path / "x.tif",
        data,
        transform=Affine(10, 0, 300000, 0, -10, 5100000),
        crs="EPSG:32632",
        nodata=0,
    )
    assert cog_problems(path) == []
    with rasterio.open(path) as ds:
        assert np.array_equal(ds.read(), data)
        assert ds.crs.to_epsg() == 32632 and ds.nodata == 0
    origin = Affine(10, 0, 300000, 0, -10, 5100000)
    tiny = write_cog(tmp_path / "tiny.tif", data[:1, :1, :1], transform=origin, crs=32632,
                     nodata=None)  # fmt: skip
    assert cog_problems(tiny) == []
    plain = tmp_path / "plain.tif"
    big = np.ones((600, 700), dtype=np.uint16)
    with rasterio.open(
        plain, "w", driver="GTiff", width=700, height=600, count=1, dtype="uint16",
        crs="EPSG:32632", transform=origin,
    ) as ds:  # fmt: skip
        ds.write(big, 1)
    problems = cog_problems(plain)
    assert any("not tiled" in p for p in problems) and any("overviews" in p for p in problems)


def test_package_import_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, hybrid.sample; "
        "print(int(any(m in sys.modules for m in ('rasterio', 'scipy', 'pyproj'))))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "0"
