"""Workflows of the openEO community examples (github.com/Open-EO/openeo-community-examples,
python/) through the openeo client against ``hybrid serve``, changed only in URL, AOI and
dates (Sentinel-1 and other collections left out where a notebook merges them).

Each test holds the notebook's client calls (the source path is in its docstring) and
checks the result against numpy on the raw bands downloaded from the same server.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import BBOX, DATES, finite_share, nanmax_t, raw_bands, read_tiff

#: the Dynamic land cover notebook's cloud mask parameters, also in BasicSentinelMerge,
#: RankComposites and ManagingMultipleLargeScaleJobs
DILATION = {
    "kernel1_size": 17,
    "kernel2_size": 77,
    "mask1_values": [2, 4, 5, 6, 7],
    "mask2_values": [3, 8, 9, 10, 11],
    "erosion_kernel_size": 3,
}


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _quiet(func: Any, values: np.ndarray, **kwargs: Any) -> np.ndarray:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = func(values, **kwargs)
    return out


def _ndvi(raw: xr.Dataset) -> np.ndarray:
    r, n = raw["B04"].values.astype(np.float64), raw["B08"].values.astype(np.float64)
    with np.errstate(all="ignore"):
        out: np.ndarray = (n - r) / (n + r)
    return out


def test_getting_started_evi_composite(connection: Any, tmp_path: Path) -> None:
    """python/1. GettingStarted/GettingStarted.ipynb: EVI by band maths on scaled bands,
    ``max_time``, downloaded as GeoTIFF."""
    sentinel2_cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=BBOX,
        temporal_extent=DATES,
        bands=["B02", "B04", "B08"],
    )
    blue = sentinel2_cube.band("B02") * 0.0001
    red = sentinel2_cube.band("B04") * 0.0001
    nir = sentinel2_cube.band("B08") * 0.0001
    evi_cube = 2.5 * (nir - red) / (nir + 6.0 * red - 7.5 * blue + 1.0)
    evi_composite = evi_cube.max_time()
    evi_composite.download(tmp_path / "evi_composite.tiff")
    img = read_tiff(tmp_path / "evi_composite.tiff")

    raw = raw_bands(connection, ["B02", "B04", "B08"], tmp_path / "raw.nc")
    b, r, n = (raw[x].values.astype(np.float64) * 0.0001 for x in ("B02", "B04", "B08"))
    with np.errstate(all="ignore"):
        want = nanmax_t(2.5 * (n - r) / (n + 6.0 * r - 7.5 * b + 1.0))
    assert img.shape == (1, *want.shape)
    np.testing.assert_allclose(img[0], want, rtol=1e-5, atol=1e-6, equal_nan=True)
    assert finite_share(img) > 0.9 and 0.0 < np.nanmedian(img) < 1.5


def test_landslide_ndvi_difference_of_two_periods(connection: Any, tmp_path: Path) -> None:
    """python/LandslideNDVI/LandslidesNDVI.ipynb: change detection, the mean NDVI after
    an event minus the mean NDVI before (two loads, ``ndvi``, ``mean_time``, a cube minus
    a cube), downloaded as GeoTIFF."""
    spatial_extent = BBOX
    pre, post = ["2023-06-10", "2023-06-20"], ["2023-06-20", "2023-07-05"]
    s2pre = connection.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=pre,
        spatial_extent=spatial_extent,
        bands=["B04", "B08"],
    )
    prendvi = s2pre.ndvi().mean_time()
    s2post = connection.load_collection(
        "SENTINEL2_L2A",
        temporal_extent=post,
        spatial_extent=spatial_extent,
        bands=["B04", "B08"],
    )
    postndvi = s2post.ndvi().mean_time()
    diff = postndvi - prendvi
    diff.download(tmp_path / "NDVIDiff.tiff")
    value = read_tiff(tmp_path / "NDVIDiff.tiff")

    before = _ndvi(raw_bands(connection, ["B04", "B08"], tmp_path / "pre.nc", dates=pre))
    after = _ndvi(raw_bands(connection, ["B04", "B08"], tmp_path / "post.nc", dates=post))
    want = _quiet(np.nanmean, after, axis=0) - _quiet(np.nanmean, before, axis=0)
    assert value.shape == (1, *want.shape)
    np.testing.assert_allclose(value[0], want, rtol=1e-5, atol=1e-6, equal_nan=True)
    assert finite_share(value) > 0.9 and np.nanmax(np.abs(value)) < 2


@pytest.mark.slow
def test_forest_fire_nbr_three_periods_in_one_job(connection: Any, tmp_path: Path) -> None:
    """python/ForestFire/ForestFire.ipynb: NBR through ``compute_indices`` (the client's
    spectral-indices catalogue), an SCL cloud mask dilated by a Gaussian ``apply_kernel``
    then thresholded, ``reduce_dimension`` first/last over three periods, and three
    ``save_result`` nodes with ``filename_prefix`` in one job (``MultiResult``)."""
    import scipy.signal
    from openeo import MultiResult
    from openeo.extra.spectral_indices import compute_indices

    extent = BBOX
    pre_temporal_extent = ["2023-06-10", "2023-06-20"]
    nrt_temporal_extent = ["2023-06-20", "2023-06-25"]
    post_temporal_extent = ["2023-06-20", "2023-07-05"]

    def get_cloud_free_pixels(scl: Any, data: Any, reducer: str = "first") -> Any:
        mask = (scl == 3) | (scl == 8) | (scl == 9) | (scl == 10)
        g = scipy.signal.windows.gaussian(11, std=1.6)
        kernel = np.outer(g, g)
        kernel = kernel / kernel.sum()
        mask = mask.apply_kernel(kernel)
        mask = mask > 0.1
        data_masked = data.mask(mask)
        return data_masked.reduce_dimension(reducer=reducer, dimension="t")

    def cal_nbr(temporal_extent: list[str], reducer: str) -> Any:
        s2_cube = connection.load_collection(
            "SENTINEL2_L2A",
            temporal_extent=temporal_extent,
            spatial_extent=extent,
            bands=["B08", "B12"],
            max_cloud_cover=90,
        )
        scl = connection.load_collection(
            "SENTINEL2_L2A",
            temporal_extent=temporal_extent,
            spatial_extent=extent,
            bands=["SCL"],
            max_cloud_cover=90,
        )
        nbr = compute_indices(s2_cube, indices=["NBR"])
        return get_cloud_free_pixels(scl, nbr, reducer=reducer)

    nbr_pre = cal_nbr(pre_temporal_extent, "last")
    nbr_nrt = cal_nbr(nrt_temporal_extent, "first")
    nbr_post = cal_nbr(post_temporal_extent, "first")
    nbr_pre_result = nbr_pre.save_result(format="GTiff", options={"filename_prefix": "NBR"})
    nbr_nrt_result = nbr_nrt.save_result(format="GTiff", options={"filename_prefix": "NRT_NBR"})
    nbr_post_result = nbr_post.save_result(format="GTiff", options={"filename_prefix": "Post_NBR"})
    multi_result_nbr = MultiResult([nbr_pre_result, nbr_nrt_result, nbr_post_result])
    nbr_job = multi_result_nbr.create_job(title="Multiple save result NBR")
    nbr_job.start_and_wait()
    results = nbr_job.get_results()
    results.download_files(tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").glob("*.tif"))
    assert names == ["NBR.tif", "NRT_NBR.tif", "Post_NBR.tif"]

    # every kept pixel is the NBR of one of the period's dates at that pixel
    for name, dates in (("NBR.tif", pre_temporal_extent), ("Post_NBR.tif", post_temporal_extent)):
        got = read_tiff(tmp_path / "out" / name)[0]
        raw = raw_bands(
            connection, ["B08", "B12"], tmp_path / f"{name}.nc", dates=dates, max_cloud_cover=90
        )
        n, s = raw["B08"].values.astype(np.float64), raw["B12"].values.astype(np.float64)
        with np.errstate(all="ignore"):
            candidates = (n - s) / (n + s)
        kept = np.isfinite(got)
        assert kept.mean() > 0.05, "the cloud mask leaves some pixels"
        close = np.isclose(candidates, got[None], rtol=1e-5, atol=1e-6).any(axis=0)
        assert close[kept].all()
        assert -1 <= got[kept].min() and got[kept].max() <= 1  # noqa: SIM300


def _web_mercator(bbox: dict[str, float]) -> dict[str, Any]:
    from pyproj import Transformer

    to = Transformer.from_crs(4326, 3857, always_xy=True).transform
    west, south = to(bbox["west"], bbox["south"])
    east, north = to(bbox["east"], bbox["north"])
    return {"west": west, "south": south, "east": east, "north": north, "crs": "EPSG:3857"}


@pytest.mark.slow
def test_managing_multiple_jobs_tile_job_median_composite(connection: Any, tmp_path: Path) -> None:
    """python/ManagingMultipleLargeScaleJobs/ManagingMultipleLargeScaleJobs.ipynb, the job
    of one tile (``start_job``): an EPSG:3857 extent, ``properties`` with a client lambda
    (``eo:cloud_cover`` lte 60), ``to_scl_dilation_mask``, ``reduce_temporal(median)``,
    a GeoTIFF batch job. Checked against numpy's median of the bands where the mask
    (downloaded from the same graph) is off."""
    spatial_extent = _web_mercator(BBOX)
    scl = connection.load_collection(
        collection_id="SENTINEL2_L2A",
        spatial_extent=spatial_extent,
        temporal_extent=DATES,
        bands=["SCL"],
        properties={"eo:cloud_cover": lambda x: x.lte(60)},
    )
    cloud_mask = scl.process("to_scl_dilation_mask", data=scl, **DILATION)
    s2_cube = connection.load_collection(
        collection_id="SENTINEL2_L2A",
        spatial_extent=spatial_extent,
        temporal_extent=DATES,
        bands=["B02", "B03", "B04"],
        properties={"eo:cloud_cover": lambda x: x.lte(60)},
    )
    s2_cube = s2_cube.mask(cloud_mask)
    s2_cube = s2_cube.reduce_temporal(reducer="median")
    job = s2_cube.create_job(title="MultiBackendJobManager - Tile 0", out_format="GTiff")
    job.start_and_wait()
    job.get_results().download_files(tmp_path / "tile")
    (tif,) = (tmp_path / "tile").glob("*.tif")
    got = read_tiff(tif)

    cloud_mask.download(tmp_path / "mask.nc", format="netCDF")
    mask = _nc(tmp_path / "mask.nc")
    (mask_var,) = [v for v in mask.data_vars if v != "crs"]
    on = mask[mask_var].values == 1
    raw = raw_bands(
        connection, ["B02", "B03", "B04"], tmp_path / "raw.nc", bbox=spatial_extent,
        max_cloud_cover=60,
    )  # fmt: skip
    assert on.shape == raw["B02"].shape and 0 < on.mean() < 1
    # the median of the int16 cube keeps its integer part, as Copernicus stores it
    want = np.stack(
        [
            np.trunc(_quiet(np.nanmedian, np.where(on, np.nan, raw[b].values), axis=0))
            for b in ("B02", "B03", "B04")
        ]
    )
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
    assert finite_share(got) > 0.5


def test_federation_filters_after_a_bare_load(connection: Any, tmp_path: Path) -> None:
    """python/Federation/FederatedProcessing.ipynb, its Sentinel-2 cube: ``load_collection``
    without extents, then ``filter_temporal(extent="2023-06")`` (a month as one string)
    and ``filter_bbox``, ``reduce_temporal("mean")``, saved as netCDF by a batch job
    (the TERRASCOPE_S2_NDVI_V2 cube it merges with is not here)."""
    temporal_extent = "2023-06"
    spatial_extent = BBOX
    cube1 = (
        connection.load_collection(
            "SENTINEL2_L2A",
            bands=["B02"],
            max_cloud_cover=50,
        )
        .filter_temporal(extent=temporal_extent)
        .filter_bbox(spatial_extent)
    )
    cube1 = cube1.reduce_temporal("mean")
    saved = cube1.save_result(format="netCDF")
    job = saved.create_job(title="Deep graph splitting demo")
    job.start_and_wait()
    job.get_results().download_files(tmp_path / "job")
    (path,) = (tmp_path / "job").glob("*.nc")
    got = _nc(path)

    raw = raw_bands(
        connection, ["B02"], tmp_path / "raw.nc", dates=["2023-06-01", "2023-07-01"],
        max_cloud_cover=50,
    )  # fmt: skip
    assert raw.sizes["t"] >= 3
    assert "t" not in got["B02"].dims and got["B02"].shape == raw["B02"].shape[1:]
    want = _quiet(np.nanmean, raw["B02"].values.astype(np.float64), axis=0)
    np.testing.assert_allclose(got["B02"].values, want, rtol=1e-5, equal_nan=True)


@pytest.mark.slow
def test_basic_sentinel_merge_dekad_composite_interpolated(connection: Any, tmp_path: Path) -> None:
    """python/BasicSentinelMerge/sentinel_merge.ipynb, its Sentinel-2 half: two loads
    without spatial extent, ``to_scl_dilation_mask``, ``mask``,
    ``aggregate_temporal_period("dekad", median)``, ``apply_dimension(t,
    array_interpolate_linear)``, ``filter_bbox`` last (the extent comes from it), a
    netCDF batch job with ``filename_prefix`` (the Sentinel-1 half and the UDF are left
    out)."""
    dates = ["2023-06-11", "2023-07-11"]
    scl = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=dates, bands=["SCL"], max_cloud_cover=95
    )
    cloud_mask = scl.process("to_scl_dilation_mask", data=scl, **DILATION)
    sentinel2 = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=dates, bands=["B02", "B03", "B04"], max_cloud_cover=95
    )
    sentinel2 = sentinel2.mask(cloud_mask)
    sentinel2 = sentinel2.aggregate_temporal_period("dekad", reducer="median").apply_dimension(
        dimension="t", process="array_interpolate_linear"
    )
    spatial_extent = {**BBOX, "crs": "epsg:4326"}
    sentinel2.filter_bbox(spatial_extent).execute_batch(
        tmp_path / "result.nc", title="Sentinel composite", filename_prefix="merged_cube"
    )
    got = _nc(tmp_path / "result.nc")

    assert [str(t)[:10] for t in got["t"].values] == ["2023-06-11", "2023-06-21", "2023-07-01"]
    cloud_mask.filter_bbox(spatial_extent).download(tmp_path / "mask.nc", format="netCDF")
    mask = _nc(tmp_path / "mask.nc")
    (mask_var,) = [v for v in mask.data_vars if v != "crs"]
    raw = raw_bands(connection, ["B02"], tmp_path / "raw.nc", dates=dates, max_cloud_cover=95)
    masked = np.where(mask[mask_var].values == 1, np.nan, raw["B02"].values.astype(np.float64))
    days = raw["t"].values.astype("datetime64[D]").astype(int) - np.datetime64(
        "2023-06-11", "D"
    ).astype(int)
    # the median of the int16 cube keeps its integer part, as Copernicus stores it
    medians = np.stack(
        [
            np.trunc(_quiet(np.nanmedian, masked[(days >= lo) & (days < lo + 10)], axis=0))
            for lo in (0, 10, 20)
        ]
    )
    b02 = got["B02"].values
    both = np.isfinite(medians)
    assert both.mean() > 0.3
    np.testing.assert_allclose(b02[both], medians[both], rtol=1e-6)
    # these dates leave no gap between two valid dekads (the middle one is never the only
    # one masked): the filling of gaps in an int16 cube is checked in
    # tests/server/test_server_cell_types.py (interpolated dekads keep integers)
    assert not (~both[1] & both[0] & both[2]).any()
