"""``hybrid cache`` against the sample served over HTTP range requests by a real local server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rasterio

from hybrid.cli import main
from hybrid.errors import DataSourceError
from hybrid.sample import cog_problems
from tests.pgstac import static_catalog_json
from tests.stac_fixtures import NDVI_END, NDVI_START, run_ndvi, serving_directory


def _http_catalog(sample_catalog: Path, base_url: str, out: Path) -> Path:
    """The sample as a static collection whose asset hrefs are http:// URLs."""
    collection, items = static_catalog_json(sample_catalog)
    root = sample_catalog.parent.resolve().as_uri()
    links = [{"rel": "root", "href": "./collection.json"}]
    out.mkdir(parents=True)
    for item in items:
        for asset in item["assets"].values():
            asset["href"] = asset["href"].replace(root, base_url)
            assert asset["href"].startswith(f"{base_url}/"), asset["href"]
        (out / f"{item['id']}.json").write_text(json.dumps(item))
        links.append({"rel": "item", "href": f"./{item['id']}.json"})
    collection["links"] = links
    path = out / "collection.json"
    path.write_text(json.dumps(collection))
    return path


@pytest.fixture(scope="module")
def served_sample(sample_catalog, tmp_path_factory):
    with serving_directory(sample_catalog.parent) as url:
        yield _http_catalog(sample_catalog, url, tmp_path_factory.mktemp("http") / "cat")


def _cache(source: Path, out: Path, aoi_file: Path) -> int:
    return main(
        ["cache", "--stac", str(source), "--aoi", str(aoi_file), "--start", NDVI_START,
         "--end", NDVI_END, "--out", str(out), "--quiet"]
    )  # fmt: skip


def test_cache_over_http_runs_offline_with_identical_ndvi(
    served_sample, sample_catalog, seed_aoi, tmp_path, capsys
):
    aoi_file = tmp_path / "aoi.geojson"
    aoi_file.write_text(json.dumps(seed_aoi))
    out = tmp_path / "cache"
    assert _cache(served_sample, out, aoi_file) == 0
    first = capsys.readouterr().out
    assert "0 already present" in first
    # the printed command runs what was cached, not the default area and season
    hint = f"hybrid run --stac {out} --aoi {aoi_file} --start {NDVI_START} --end {NDVI_END}"
    assert f"run offline with: {hint}" in first
    # copies are windows: far smaller than the tiles, on their own pixel grid
    catalog = json.loads((out / "collection.json").read_text())
    item_links = [link["href"] for link in catalog["links"] if link["rel"] == "item"]
    assert item_links
    item = json.loads((out / item_links[0]).read_text())
    assert all(a["href"].startswith("./") for a in item["assets"].values())
    for key, asset in item["assets"].items():
        path = (out / item_links[0]).parent / asset["href"]
        assert cog_problems(path) == []
        with rasterio.open(path) as src:
            assert [src.height, src.width] == asset["proj:shape"]
            assert list(src.transform)[:6] == asset["proj:transform"]
            assert src.nodata == 0
            assert src.dtypes[0] == ("uint8" if key == "scl" else "uint16")
            # aligned on the source grid: origin a multiple of the pixel size
            res = src.transform.a
            assert src.transform.c % res == 0 and src.transform.f % res == 0
    assert sum(f.stat().st_size for f in out.rglob("*.tif")) < 0.5 * sum(
        f.stat().st_size for f in sample_catalog.parent.rglob("*.tif")
    )
    # resumable: a second run copies nothing
    assert _cache(served_sample, out, aoi_file) == 0
    assert "0 windows copied" in capsys.readouterr().out
    # offline (no server involved) and bit-identical to the original catalog
    cached = run_ndvi(str(out), tmp_path / "cached", seed_aoi)
    static = run_ndvi(str(sample_catalog), tmp_path / "static", seed_aoi, memo=True)
    assert cached.tobytes() == static.tobytes()


def test_interrupted_copy_resumes_and_replaces_partial_files(served_sample, seed_aoi, tmp_path):
    from hybrid.aoi import geometry_bbox
    from hybrid.cache import CacheRequest, cache_scenes

    request = CacheRequest(
        aoi=geometry_bbox(seed_aoi), start=NDVI_START, end="2023-05-10", source=str(served_sample)
    )
    out = tmp_path / "cache"
    report = cache_scenes(request, out, progress=False)
    cogs = sorted(out.rglob("*.tif"))
    # simulate an interruption: one COG lost, one temp file left behind, one truncated
    cogs[0].unlink()
    (cogs[1].parent / f".{cogs[1].stem}.part.tif").write_bytes(b"partial")
    cogs[2].write_bytes(cogs[2].read_bytes()[:100])
    again = cache_scenes(request, out, progress=False)
    assert again.copied == 2 and again.skipped == report.copied - 2
    assert all(cog_problems(c) == [] for c in cogs)


def test_unreadable_source_names_item_and_asset_and_leaves_no_catalog(
    sample_catalog, seed_aoi, tmp_path
):
    from hybrid.aoi import geometry_bbox
    from hybrid.cache import CacheRequest, cache_scenes

    broken = tmp_path / "broken"
    collection, items = static_catalog_json(sample_catalog)
    bad = items[0]
    bad["assets"]["nir"]["href"] = (tmp_path / "garbage.tif").as_uri()
    (tmp_path / "garbage.tif").write_bytes(b"II*\x00" + b"\x00" * 64)
    broken.mkdir()
    for item in items:
        (broken / f"{item['id']}.json").write_text(json.dumps(item))
    collection["links"] = [{"rel": "item", "href": f"./{i['id']}.json"} for i in items]
    (broken / "collection.json").write_text(json.dumps(collection))
    when = bad["properties"]["datetime"][:10]
    request = CacheRequest(
        aoi=geometry_bbox(seed_aoi), start=when, end="2023-12-31", source=str(broken)
    )
    out = tmp_path / "cache"
    with pytest.raises(DataSourceError) as info:
        cache_scenes(request, out, progress=False)
    assert bad["id"] in str(info.value) and "'nir'" in str(info.value)
    assert not (out / "collection.json").exists()
    assert not list(out.rglob("*.part.tif"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kernel-size", "4"], "--kernel-size 4 must be a positive odd number"),
        (["--kernel-size", "103"], "--kernel-size 103 is too large"),
        (["--max-cloud-cover", "101"], "--max-cloud-cover 101.0 must be a percentage"),
        (["--max-cloud-cover", "-5"], "--max-cloud-cover -5.0 must be a percentage"),
        (["--bands", "B04,XX"], "--bands: SENTINEL2_L2A has no band XX to copy; use B01"),
        (["--bands", ""], "--bands '' names no band"),
    ],
)
def test_options_a_run_refuses_are_refused_before_anything_is_copied(
    args: list[str], message: str, sample_catalog: Path, tmp_path: Path, capsys: Any
) -> None:
    """They were taken (an even kernel, a limit over 100, '' as the default bands) or
    failed after the cache folder was made (an unknown band)."""
    out = tmp_path / "cache"
    window = ["--start", "2023-06-01", "--end", "2023-06-15"]
    argv = ["cache", "--stac", str(sample_catalog), *window, "--out", str(out), "--quiet"]
    assert main([*argv, *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()


def test_an_earlier_cache_killed_while_writing_its_catalog_is_taken_again(
    sample_catalog: Path, tmp_path: Path, capsys: Any
) -> None:
    """A kill while the catalog was written leaves ``.collection.json.XXXX.part``
    (hybrid.atomic.atomic_path) beside the item folders: that cache was refused as a
    folder with "files of its own". It is ours: the cache is made again, the file gone."""
    out = tmp_path / "cache"
    window = ["--start", "2023-06-01", "--end", "2023-06-15", "--bands", "B04"]
    argv = ["cache", "--stac", str(sample_catalog), *window, "--out", str(out), "--quiet"]
    assert main(argv) == 0
    (out / "collection.json").unlink()
    leftover = out / ".collection.json.k1ll3d__.part"
    leftover.write_text('{"type": "Coll')
    capsys.readouterr()
    assert main(argv) == 0, capsys.readouterr().err
    assert "windows copied" in capsys.readouterr().out
    assert (out / "collection.json").is_file() and not leftover.exists()
