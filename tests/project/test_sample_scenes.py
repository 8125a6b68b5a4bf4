"""The embedded offline Sentinel-2 sample's special cases over the AOI: a nodata strip,
clouds near and far, two tiles of the same ground, a reprocessed duplicate, snow, a season.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import rasterio.features
from rasterio.warp import Resampling, reproject
from shapely.geometry import mapping, shape

from hybrid.sample import SEED_AOI, SEED_END, SEED_START
from hybrid.sample.grid import aoi_polygon
from tests.project.sample_items import CLOUD, _day, _folder


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
