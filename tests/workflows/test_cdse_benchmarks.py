"""CDSE's regression benchmarks for its openEO backend (github.com/eu-cdse/openeo-benchmarks,
``tests/test_regression.py`` with ``tests/utils_BAP.py``): the SENTINEL2_L2A scenarios
through the openeo client against ``hybrid serve``, changed only in URL, AOI and dates (the
BAP area a GeoJSON file of our own instead of the one the benchmark downloads), each result
checked pixel by pixel against numpy on the raw bands downloaded from the same server. The
benchmark compares statistics with a ground truth recorded on Copernicus; none is used
here. Its SENTINEL2_L1C scenarios (aggregate_polygons, upsample_spatial) are left out.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import BBOX, DATES, pixels_inside, raw_bands

#: the published ``spatial_extent`` keeps its ``'espg': 4326`` typo (no ``crs``: lon/lat)
EXTENT = {**BBOX, "espg": 4326}
#: 2023-08-13: the neighbouring orbit's swath edge crosses this box (about half nodata);
#: one orbit only, so a wider load holds the same pixels
EDGE = {"west": 6.640, "south": 45.240, "east": 6.650, "north": 45.250, "espg": 4326}
EDGE_DAY = ["2023-08-13", "2023-08-14"]
CASES = {"seed": (EXTENT, DATES), "swath-edge": (EDGE, EDGE_DAY)}


def _wider(extent: dict[str, float], by: float = 0.003) -> dict[str, float]:
    """A lon/lat box around ``extent`` holding every pixel a kernel or a 60 m pixel reads."""
    return {k: extent[k] + (by if k in ("east", "north") else -by)
            for k in ("west", "south", "east", "north")}  # fmt: skip


def _nc(path: Path, **kwargs: Any) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf", **kwargs) as ds:
        return ds.load()


def _batch(cube: Any, output_path: Path, scenario_name: str) -> xr.Dataset:
    """The benchmark's ``execute_batch`` call, then the file as it reads it."""
    cube.execute_batch(outputfile=output_path,
                       title=scenario_name,
                       description='benchmarking-creo',
                       job_options={'driver-memory': '1g'}
                       )  # fmt: skip
    return _nc(output_path)


def _same(got: np.ndarray, want: np.ndarray) -> bool:
    return bool(np.array_equal(got, want, equal_nan=True))


@pytest.mark.parametrize("case", list(CASES))
def test_apply_spatial_kernel(connection: Any, tmp_path: Path, case: str) -> None:
    """test_apply_kernel: an 11 x 11 box with ``factor`` 1/121 on B02. Copernicus
    multiplies the kernel by the factor (geopysparkdatacube.py L1245) and, the kernel
    being over 10 px, runs FFTConvolve (OpenEOProcesses.scala L1104-1108): nodata read as
    0 (FFTConvolve.scala L36-40), zero padding, a full convolution cropped to the tile,
    never nodata; the load is buffered by kernel/2 px (dry_run.py L875), so real
    neighbours feed the AOI's edge. float64 (the union with the kernel's type, L1103)."""
    extent, dates = CASES[case]
    filter_window = np.ones([11, 11])
    factor = 1 / filter_window.sum()
    cube = connection.load_collection(
        collection_id='SENTINEL2_L2A',
        temporal_extent=dates,
        spatial_extent=extent,
        bands=['B02']
    ).apply_kernel(
        kernel=filter_window,
        factor=factor)  # fmt: skip
    got = _batch(cube, tmp_path / "output.nc", "apply_spatial_kernel")

    from scipy.ndimage import convolve

    raw = raw_bands(connection, ["B02"], tmp_path / "raw.nc", bbox=_wider(extent), dates=dates)
    values = np.nan_to_num(raw["B02"].values.astype(np.float64), nan=0.0)
    conv = np.stack([convolve(v, filter_window * factor, mode="constant") for v in values])
    want = xr.DataArray(conv, coords={"y": raw["y"], "x": raw["x"]}, dims=("t", "y", "x"))
    want = want.sel(x=got["x"], y=got["y"]).values
    bare = raw_bands(connection, ["B02"], tmp_path / "bare.nc", bbox=extent, dates=dates)
    assert got["B02"].dtype == np.float64 and got["B02"].shape == bare["B02"].shape
    np.testing.assert_array_equal(got["x"].values, bare["x"].values)
    np.testing.assert_array_equal(got["y"].values, bare["y"].values)
    assert not np.isnan(got["B02"].values).any(), "FFTConvolve gives no nodata"
    np.testing.assert_allclose(got["B02"].values, want, rtol=0, atol=1e-8)
    if case == "swath-edge":
        assert 0.3 < np.isnan(bare["B02"].values).mean() < 0.8


def _downsample(connection: Any, extent: Any, dates: list[str], method: str) -> Any:
    return connection.load_collection(
        collection_id='SENTINEL2_L2A',
        temporal_extent=dates,
        spatial_extent=extent,
        bands=['B02', 'B03', 'B04']
    ).resample_spatial(
        resolution=60,
        method=method)  # fmt: skip


def test_downsample_spatial_mean_is_refused_as_on_copernicus(
    connection: Any, tmp_path: Path
) -> None:
    """test_downsample_spatial, as published: ``method='mean'``, which is not an openEO
    method. Copernicus refuses it since openeo-python-driver b5f0388f (2025-01):
    ``args.get_enum("method", options=RESAMPLE_SPATIAL_METHODS)``
    (process_implementations/cubes.py L396, constants.py L34-51) raises
    ProcessParameterInvalid; before, ``_get_resample_method`` fell back to near with a
    warning (geopysparkdatacube.py L1694-1710), which is what the ground truth recorded."""
    from openeo.rest import JobFailedException, OpenEoApiError

    cube = _downsample(connection, EXTENT, DATES, "mean")
    with pytest.raises(JobFailedException) as failed:
        _batch(cube, tmp_path / "output.nc", "downsample_spatial")
    errors = failed.value.job.logs(level="error")
    assert [e["code"] for e in errors] == ["ProcessParameterInvalid"]
    assert "'mean'" in errors[0]["message"]
    with pytest.raises(OpenEoApiError) as refused:
        cube.download(tmp_path / "sync.nc")
    assert (refused.value.http_status_code, refused.value.code) == (400, "ProcessParameterInvalid")


def _block_of(raw: xr.Dataset, band: str, x: float, y: float) -> np.ndarray:
    """The 6 x 6 10 m pixels of the 60 m pixel centred on (x, y), per date."""
    offsets = np.arange(-25.0, 26.0, 10.0)
    out: np.ndarray = raw[band].sel(x=x + offsets, y=y - offsets).values.astype(np.float64)
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_downsample_spatial_average_and_near(connection: Any, tmp_path: Path, case: str) -> None:
    """The same scenario with the spec's name for a mean, ``average``, and with ``near``
    (what 'mean' was on Copernicus before 2025). Directly after the load, the resample is
    done in the load (dry_run.py L155-171): the grid is the UTM envelope of the lon/lat
    box's corners snapped outward to 60 m multiples (DatacubeSupport.scala ``getLayout``
    L58-62; load_params.py L98-109 leaves a > 20 m extent alone), the files read by GDAL's
    warper (datacube_parameters.py L74): ``average`` the mean of the 6 x 6 valid pixels
    (nodata skipped, none valid: nodata) rounded as GDAL stores it, ``near`` the pixel
    below right of the 60 m centre (GDAL's tie). int16, as loaded."""
    import pyproj

    extent, dates = CASES[case]
    got = _batch(_downsample(connection, extent, dates, 'average'), tmp_path / "avg.nc",
                 "downsample_spatial")  # fmt: skip
    _downsample(connection, extent, dates, "near").download(tmp_path / "near.nc")
    near = _nc(tmp_path / "near.nc")
    raw = raw_bands(connection, ["B02", "B03", "B04"], tmp_path / "raw.nc",
                    bbox=_wider(extent), dates=dates)  # fmt: skip

    to_utm = pyproj.Transformer.from_crs(4326, 32632, always_xy=True).transform
    xs, ys = to_utm(
        [extent["west"], extent["east"]] * 2, [extent["south"]] * 2 + [extent["north"]] * 2
    )
    edges = np.floor(min(xs) / 60) * 60, np.ceil(max(xs) / 60) * 60
    np.testing.assert_array_equal(got["x"].values, np.arange(edges[0] + 30, edges[1], 60))
    edges = np.ceil(max(ys) / 60) * 60, np.floor(min(ys) / 60) * 60
    np.testing.assert_array_equal(got["y"].values, np.arange(edges[0] - 30, edges[1], -60))
    np.testing.assert_array_equal(near["x"].values, got["x"].values)
    for band in ("B02", "B03", "B04"):
        assert got[band].encoding["dtype"] == np.int16
        blocks = np.stack(
            [
                np.stack([_block_of(raw, band, x, y) for x in got["x"].values], -1)
                for y in got["y"].values
            ],
            -2,
        )  # fmt: skip  (t, 6, 6, y, x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.floor(np.nanmean(blocks, axis=(1, 2)) + 0.5)
        assert _same(got[band].values, mean), band
        below_right = raw[band].sel(x=got["x"] + 5, y=got["y"] - 5).values
        assert _same(near[band].values, below_right), band
    if case == "swath-edge":
        assert 0 < np.isnan(got["B02"].values).mean() < np.isnan(near["B02"].values).mean()


@pytest.mark.parametrize("case", ["seed", "swath-edge"])
def test_reduce_time(connection: Any, tmp_path: Path, case: str) -> None:
    """test_reduce_time: ``reduce_dimension(t, mean)``; Copernicus's ``mean`` converts the
    tiles to float32 and skips nodata (OpenEOProcessScriptBuilder.scala L1162, L689-712),
    geotrellis Mean adds in doubles; float32 out, NaN where no date has a value."""
    extent, dates = CASES[case]
    dates = dates if case == "seed" else ["2023-08-10", "2023-08-20"]
    cube = connection.load_collection(
        collection_id='SENTINEL2_L2A',
        temporal_extent=dates,
        spatial_extent=extent,
        bands=['B02', 'B03']
    ).reduce_dimension(
        dimension='t',
        reducer='mean')  # fmt: skip
    got = _batch(cube, tmp_path / "output.nc", "reduce_time")
    raw = raw_bands(connection, ["B02", "B03"], tmp_path / "raw.nc", bbox=extent, dates=dates)
    assert "t" not in got.dims and len(raw["t"]) >= 3
    for band in ("B02", "B03"):
        values = raw[band].values.astype(np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.nanmean(values, axis=0).astype(np.float32)
        assert got[band].dtype == np.float32
        np.testing.assert_array_equal(got[band].values, want)
    if case == "swath-edge":
        assert np.isnan(raw["B02"].values).any(axis=0).mean() > 0.2


def test_mask_scl(connection: Any, tmp_path: Path) -> None:
    """test_mask_scl: as published ``cube.mask(cloud_mask)`` is not assigned, so the job
    saves the bare load (B05, B06 warped to 10 m by near, SCL). Also the mask assigned:
    comparisons and ``or`` give bits without nodata (OpenEOProcessScriptBuilder.scala
    L1127-1128, L1222), a one-band mask masks every band, true pixels become nodata
    (OpenEOProcesses.scala rasterMask, DatacubeSupport.rasterMaskGeneric)."""
    cube = connection.load_collection(
        collection_id="SENTINEL2_L2A",
        temporal_extent=DATES,
        spatial_extent=EXTENT,
        bands=["B05", "B06", "SCL"],
    )

    scl_band = cube.band("SCL")
    cloud_mask = (scl_band == 3) | (scl_band == 8) | (scl_band == 9)

    cube.mask(cloud_mask)

    got = _batch(cube, tmp_path / "output.nc", "mask_scl")
    cube.mask(cloud_mask).download(tmp_path / "masked.nc")
    masked = _nc(tmp_path / "masked.nc")
    raw = raw_bands(connection, ["B05", "B06", "SCL"], tmp_path / "raw.nc")
    cloudy = np.isin(raw["SCL"].values, [3, 8, 9])
    assert 0.1 < cloudy.mean() < 0.9
    for band in ("B05", "B06", "SCL"):
        assert _same(got[band].values, raw[band].values), band
        assert _same(masked[band].values, np.where(cloudy, np.nan, raw[band].values)), band


#: the benchmark's BAP area replaced: a pentagon of our own inside the sample, written to a
#: file and read back with geopandas as the benchmark reads its download
AREA = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [[
            [6.6605, 45.2365], [6.6675, 45.2368], [6.6672, 45.2435], [6.6640, 45.2438],
            [6.6608, 45.2420], [6.6605, 45.2365]]]}}]}  # fmt: skip


@pytest.mark.slow
def test_bap_best_available_pixel(connection: Any, tmp_path: Path) -> None:
    """test_BAP with utils_BAP.py (in tests.workflows.benchmark_bap): all seven bands and
    SCL at 20 m (near, in the load: the 10 m bands take the pixel below right of the
    20 m centre, the 20 m ones are read as they are), ``filter_spatial`` (centres inside,
    cropped to the polygon's UTM bounds, geopysparkdatacube.py L261-289), the composite
    of the month's best score, ``aggregate_temporal_period("month", "first")``."""
    import geopandas as gpd

    from tests.workflows.benchmark_bap import bap_composite

    filepath = tmp_path / "BAP.geojson"
    filepath.write_text(json.dumps(AREA))
    spatial_geometries = gpd.read_file(filepath)
    spatial_geometries = spatial_geometries.to_crs(epsg=4326)
    area = eval(spatial_geometries.to_json())
    dates = ["2023-06-20", "2023-07-20"]
    cubes = bap_composite(connection, area, dates)
    got = _batch(cubes["composite"], tmp_path / "output.nc", "BAP")
    cubes["score"].download(tmp_path / "score.nc")
    cubes["rank_mask"].download(tmp_path / "rank.nc")

    bands = ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "SCL"]
    raw20 = connection.load_collection("SENTINEL2_L2A", temporal_extent=dates, bands=bands,
                                       max_cloud_cover=80).resample_spatial(20)  # fmt: skip
    raw20.filter_spatial(area).download(tmp_path / "raw20.nc")
    raw20 = _nc(tmp_path / "raw20.nc")
    raw = raw_bands(connection, bands, tmp_path / "raw.nc", bbox=BBOX, dates=dates,
                    max_cloud_cover=80)  # fmt: skip
    x, y = raw20["x"], raw20["y"]
    inside = pixels_inside(raw20, AREA["features"][0]["geometry"])
    assert float(x[1] - x[0]) == 20.0 and float(x[0]) % 20 == 10 and 0.6 < inside.mean() < 1
    for band in bands:
        take = (5, -5) if band in ("B02", "B03", "B04", "B08") else (-5, 5)
        source = raw[band].sel(x=x + take[0], y=y + take[1]).values
        assert _same(raw20[band].values, np.where(inside, source, np.nan)), band

    from tests.workflows.benchmark_bap import bap_in_numpy

    want = bap_in_numpy(raw20, inside)
    got_score = _nc(tmp_path / "score.nc")["score"].values
    np.testing.assert_allclose(got_score, want["score"], rtol=0, atol=2e-6, equal_nan=True)
    rank = _nc(tmp_path / "rank.nc", mask_and_scale=False)
    np.testing.assert_array_equal(rank["var"].values, want["rank"])
    assert [str(t)[:10] for t in got["t"].values] == want["months"]
    for band in bands[:-1]:
        assert got[band].encoding["dtype"] == np.int16
        first = want["first"](raw20[band].values.astype(np.float64))
        np.testing.assert_array_equal(got[band].values, first)
    assert 0.5 < np.isfinite(got["B02"].values).mean() < 1
