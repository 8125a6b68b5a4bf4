"""The openEO cookbook of openeo.org (Open-EO/openeo.org ``documentation/1.0/cookbook/
README.md``, its Python tabs) through the openeo client against ``hybrid serve``: the
calls as published, GEE's ``COPERNICUS/S2_SR`` and Sentinel Hub's
``SENTINEL2_L2A_SENTINELHUB`` read as ``SENTINEL2_L2A`` (GEE's ``B3``/``B4``/``B8`` as
``B03``/``B04``/``B08``), Urk's and Pellworm's boxes and dates moved into the embedded
sample, each result checked against numpy on the raw bands of the same server."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.workflows.raw import BBOX, DATES, pixels_inside, raw_bands, read_tiff

_W, _S, _E, _N = BBOX["west"], BBOX["south"], BBOX["east"], BBOX["north"]
#: the cookbook's two triangles, moved inside BBOX
POLYGONS = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
            [_W + 0.004, _S + 0.002], [_W + 0.001, _S + 0.0025],
            [_W + 0.0025, _S + 0.0005], [_W + 0.004, _S + 0.002]]]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
            [_E - 0.003, _N - 0.001], [_E - 0.004, _N - 0.003],
            [_E - 0.0005, _N - 0.0035], [_E - 0.003, _N - 0.001]]]}},
    ],
}  # fmt: skip
#: Pellworm's one day: 12 June, clear (SCL 4) and cloudy (3, 8, 9, 10) pixels
ONE_DAY = ["2023-06-12", "2023-06-12"]


def _mean_t(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = np.nanmean(values.astype(np.float64), axis=0)
    return out


def test_chapter_one_reduces_scales_aggregates_and_saves(connection: Any, tmp_path: Path) -> None:
    """Chapter 1: ``filter_bands(bands=["B8"])``, ``mean_time()`` and
    ``reduce_dimension(dimension="t", reducer="mean")`` saved as GTiff by ``create_job``;
    ``apply`` of ``linear_scale_range(0, 6000, 0, 255)`` saved as PNG with the options
    ``red``/``green``/``blue``, which Copernicus does not read (it passes only a
    colormap to its PNG writer, geopyspark-driver geopysparkdatacube.py L2548-2559), so
    the channels are the bands in cube order, B03 B04 B08, the integer part of the
    scaled means (uint8); ``aggregate_spatial`` of the two triangles with ``mean`` as
    JSON: ``{date: [[mean] per triangle]}``."""
    urk, t = dict(BBOX), DATES
    cube_s2_b348 = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=urk, temporal_extent=t, bands=["B03", "B04", "B08"]
    )
    cube_s2_b8 = cube_s2_b348.filter_bands(bands=["B08"])
    cube_s2_b8_red = cube_s2_b8.mean_time()
    cube_s2_b8_red = cube_s2_b8.reduce_dimension(dimension="t", reducer="mean")
    cube_s2_b348_red = cube_s2_b348.mean_time()

    def scale_function(x: Any) -> Any:
        return x.linear_scale_range(0, 6000, 0, 255)

    cube_s2_b348_red_lin = cube_s2_b348_red.apply(scale_function)
    cube_s2_b8_agg = cube_s2_b8.aggregate_spatial(geometries=POLYGONS, reducer="mean")

    res = cube_s2_b8_red.save_result(format="GTiff")
    job = res.create_job(title="temporal_mean_as_GTiff_py")
    tiffs = (
        job.start_and_wait(max_poll_interval=0.2).get_results().download_files(tmp_path / "gtiff")
    )
    res = cube_s2_b348_red_lin.save_result(
        format="PNG", options={"red": "B8", "green": "B4", "blue": "B3"}
    )
    res.download(tmp_path / "mean.png")
    res = cube_s2_b8_agg.save_result(format="JSON")
    res.download(tmp_path / "timeseries.json")

    raw = raw_bands(connection, ["B03", "B04", "B08"], tmp_path / "raw.nc")
    (tiff,) = [p for p in tiffs if p.suffix == ".tif"]
    np.testing.assert_allclose(read_tiff(tiff)[0], _mean_t(raw["B08"].values), rtol=1e-6)
    png = read_tiff(tmp_path / "mean.png")
    for channel, band in zip(png, ("B03", "B04", "B08"), strict=True):
        mean = _mean_t(raw[band].values).astype(np.float32)
        np.testing.assert_array_equal(channel, np.floor(np.clip(mean, 0, 6000) / 6000 * 255))
    series = json.loads((tmp_path / "timeseries.json").read_text())
    assert sorted(series) == [f"{str(d)[:10]}T00:00:00Z" for d in raw["t"].values]
    for i, feature in enumerate(POLYGONS["features"]):
        inside = pixels_inside(raw, feature["geometry"])
        assert inside.sum() > 20
        for date, values in zip(raw["t"].values, raw["B08"].values, strict=True):
            got = series[f"{str(date)[:10]}T00:00:00Z"][i][0]
            np.testing.assert_allclose(got, values[inside].astype(np.float64).mean(), rtol=1e-9)


def _nc(cube: Any, path: Path) -> xr.Dataset:
    cube.download(path, format="netCDF")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def test_chapter_two_band_maths_masks_and_kernels(connection: Any, tmp_path: Path) -> None:
    """Chapter 2 on one day: ``ndvi()``; ``reduce_dimension`` over bands of
    ``normalized_difference`` of ``array_element(data, index=1)`` (B04) and
    ``array_element(data, label="B08")``; the same NDVI and EVI from ``band()``; the
    cube masked by ``~((SCL == 4) | (SCL == 5))`` (one band masking all four); the NDVI
    masked where ``< 0.3``; ``apply("sqrt")``; the 5 x 5 highpass ``apply_kernel`` of
    B08 (the load read past the box for it, so every pixel has its neighbours)."""
    from openeo.processes import array_element, normalized_difference

    pellworm, t = dict(BBOX), ONE_DAY
    cube_s2 = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=pellworm, temporal_extent=t,
        bands=["B02", "B04", "B08", "SCL"],
    )  # fmt: skip
    cube_s2_ndvi = cube_s2.ndvi()

    def ndvi_function(data: Any) -> Any:
        B04 = array_element(data, index=1)
        B08 = array_element(data, label="B08")
        return normalized_difference(B08, B04)

    by_reducer = cube_s2.reduce_dimension(reducer=ndvi_function, dimension="bands")
    B02, B04, B08 = (cube_s2.band(b) for b in ("B02", "B04", "B08"))
    by_formula = (B08 - B04) / (B08 + B04)
    cube_s2_evi = (2.5 * (B08 - B04)) / ((B08 + 6.0 * B04 - 7.5 * B02) + 1.0)
    SCL = cube_s2.band("SCL")
    cube_s2_mask = ~((SCL == 4) | (SCL == 5))
    cube_s2_masked = cube_s2.mask(cube_s2_mask)
    ndvi_threshold = cube_s2_ndvi < 0.3
    cube_s2_ndvi_masked = cube_s2_ndvi.mask(ndvi_threshold)
    cube_s2_sqrt = cube_s2.apply("sqrt")
    highpass = [[-1] * 5, [-1] * 5, [-1, -1, 24, -1, -1], [-1] * 5, [-1] * 5]
    cube_s2_highpass = cube_s2.filter_bands(["B08"]).apply_kernel(highpass)

    wide = {"west": _W - 0.001, "south": _S - 0.001, "east": _E + 0.001, "north": _N + 0.001}
    raw = raw_bands(connection, ["B02", "B04", "B08", "SCL"], tmp_path / "raw.nc", dates=t)
    b02, b04, b08 = (raw[b].values[0].astype(np.float32) for b in ("B02", "B04", "B08"))
    with np.errstate(all="ignore"):
        ndvi = (b08 - b04) / (b08 + b04)
        evi = (2.5 * (b08 - b04)) / ((b08 + 6.0 * b04 - 7.5 * b02) + 1.0)
    for name, cube in (("ndvi", cube_s2_ndvi), ("reducer", by_reducer), ("formula", by_formula)):
        got = _nc(cube, tmp_path / f"{name}.nc")["var"].values[0]
        np.testing.assert_allclose(got, ndvi, rtol=1e-6, err_msg=name)
    evi_got = _nc(cube_s2_evi, tmp_path / "evi.nc")["var"].values[0]
    np.testing.assert_allclose(evi_got, evi, rtol=1e-5)
    masked = _nc(cube_s2_masked, tmp_path / "masked.nc")
    clear = np.isin(raw["SCL"].values[0], (4, 5))
    assert 0 < clear.sum() < clear.size
    for band in ("B02", "B04", "B08", "SCL"):
        want = np.where(clear, raw[band].values[0], np.nan)
        np.testing.assert_array_equal(masked[band].values[0], want, err_msg=band)
    got = _nc(cube_s2_ndvi_masked, tmp_path / "ndvi_masked.nc")["var"].values[0]
    assert 0 < (ndvi < 0.3).sum() < ndvi.size
    np.testing.assert_allclose(got, np.where(ndvi < 0.3, np.nan, ndvi), rtol=1e-6)
    sqrt = _nc(cube_s2_sqrt, tmp_path / "sqrt.nc")
    for band in ("B02", "SCL"):
        want = np.sqrt(raw[band].values[0].astype(np.float64))
        np.testing.assert_allclose(sqrt[band].values[0], want, rtol=1e-6, err_msg=band)
    _check_highpass(connection, _nc(cube_s2_highpass, tmp_path / "hp.nc"), wide, t, tmp_path)


def _check_highpass(
    connection: Any, got: xr.Dataset, wide: dict[str, float], t: list[str], tmp_path: Path
) -> None:
    """The highpass (symmetric, so convolution and correlation agree) on B08 read
    wider, cut to the result's pixels."""
    from scipy.ndimage import convolve

    b08 = raw_bands(connection, ["B08"], tmp_path / "wide.nc", bbox=wide, dates=t)["B08"][0]
    kernel = np.full((5, 5), -1.0)
    kernel[2, 2] = 24
    full = xr.DataArray(convolve(b08.values.astype(np.float64), kernel), coords=b08.coords)
    want = full.sel(x=got["x"], y=got["y"]).values
    np.testing.assert_allclose(got["B08"].values[0], want, rtol=1e-9)
