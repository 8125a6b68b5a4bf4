"""A fifth round of Open-EO/openeo-python-client ``examples/archive/`` scripts through the
openeo client against ``hybrid serve``: each script's calls as published, its collection
read as ``SENTINEL2_L2A`` (``TERRASCOPE_S2_NDVI_V2``'s ``NDVI_10M`` as ``B08``, GEE's
``B4``/``B8`` as ``B04``/``B08``, Sentinel-1's ``VV`` as ``B04``), AOI and dates moved
into the embedded sample, each result checked against numpy on the raw bands of the
same server. Calls the client of today no longer has are named where they are replaced."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import BBOX, DATES, nanmax_t, raw_bands, read_tiff

EXTENT = {k: BBOX[k] for k in ("west", "south", "east", "north")}


def _f32(raw: xr.Dataset, band: str) -> np.ndarray:
    out: np.ndarray = raw[band].values.astype(np.float32)
    return out


def _nan_reduce(function: Any, values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = function(values, axis=0)
    return out


def test_welcome_notebook_rescales_and_takes_the_maximum(connection: Any, tmp_path: Path) -> None:
    """notebooks/welcome.ipynb: ``apply(lambda x: 0.004 * x - 0.08)`` of the digital
    numbers, ``max_time()``, ``download("ndvi-max.tiff")`` read with rasterio."""
    import rasterio

    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=EXTENT, temporal_extent=DATES, bands=["B08"]
    )
    cube = cube.apply(lambda x: 0.004 * x - 0.08).max_time()
    cube.download(tmp_path / "ndvi-max.tiff")
    with rasterio.open(tmp_path / "ndvi-max.tiff") as ds:
        data = ds.read(1)
    raw = raw_bands(connection, ["B08"], tmp_path / "raw.nc")
    want = nanmax_t(np.float32(0.004) * _f32(raw, "B08") - np.float32(0.08))
    assert data.dtype == np.float32 and data.shape == want.shape
    np.testing.assert_allclose(data, want, rtol=1e-6)


def test_simple_compositor_band_of_a_bare_load_as_a_max_composite_job(
    connection: Any, tmp_path: Path
) -> None:
    """notebooks/SimpleCompositor.ipynb: ``load_collection(id).band('NDVI_10M')`` of a
    load without extent or bands, ``filter_temporal`` and ``filter_bbox(crs=
    "EPSG:4326")`` after it, ``max_time()``, ``save_result(format='gtiff').create_job()``,
    ``start_and_wait().get_results().download_file("./composite.tiff")``."""
    s2_datacube = connection.load_collection("SENTINEL2_L2A").band("B08")
    timeseries = s2_datacube.filter_temporal(*DATES).filter_bbox(crs="EPSG:4326", **EXTENT)
    composite = timeseries.max_time()
    composite_job = composite.save_result(format="gtiff").create_job()
    target = tmp_path / "composite.tiff"
    composite_job.start_and_wait().get_results().download_file(target)
    raw = raw_bands(connection, ["B08"], tmp_path / "raw.nc")
    got = read_tiff(target)
    assert got.shape == (1, *raw["B08"].shape[1:])
    np.testing.assert_array_equal(got[0], nanmax_t(raw["B08"].values.astype(np.float64)))


def test_gee_example_normalized_difference_min_stretched_to_png(
    connection: Any, tmp_path: Path
) -> None:
    """gee_example.py: a ``reduce_dimension`` over bands with a hand-built
    ``normalized_difference`` of two ``array_element`` PGNodes, ``min_time``,
    ``linear_scale_range(-1, 1)`` with only ``outputMax`` 255 (``outputMin`` defaults to
    the double 0.0, so no integer cell type: geotrellis-extensions
    OpenEOProcessScriptBuilder.scala L1274-1281), PNG by ``create_job`` +
    ``start_and_wait().download_results(dir)``: the low byte of each value's integer part.
    The script's ``min_time(dimension="t")`` is a TypeError of the client today (no
    backend involved): ``min_time()`` is its replacement."""
    from openeo.internal.graph_building import PGNode
    from PIL import Image

    datacube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=EXTENT,
        temporal_extent=[f"{DATES[0]}T00:00:00Z", f"{DATES[1]}T23:59:59Z"],
        bands=["B04", "B08"],
    )
    red = PGNode("array_element", arguments={"data": {"from_parameter": "data"}, "label": "B04"})
    nir = PGNode("array_element", arguments={"data": {"from_parameter": "data"}, "label": "B08"})
    ndvi = PGNode(
        "normalized_difference", arguments={"x": {"from_node": nir}, "y": {"from_node": red}}
    )
    datacube = datacube.reduce_dimension(dimension="bands", reducer=ndvi)
    with pytest.raises(TypeError, match="dimension"):
        datacube.min_time(dimension="t")
    datacube = datacube.min_time()
    lin_scale = PGNode(
        "linear_scale_range",
        arguments={"x": {"from_parameter": "x"}, "inputMin": -1, "inputMax": 1, "outputMax": 255},
    )
    datacube = datacube.apply(lin_scale)
    datacube = datacube.save_result(format="PNG")
    job = datacube.create_job()
    assert job.describe_job()["status"] == "created"
    res = job.start_and_wait().download_results(tmp_path)
    assert [p.name for p in res] == ["openEO.png"]
    png = np.asarray(Image.open(tmp_path / "openEO.png"))

    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", dates=DATES)
    b4, b8 = _f32(raw, "B04"), _f32(raw, "B08")
    low = _nan_reduce(np.nanmin, (b8 - b4) / (b8 + b4))
    stretched = np.clip((low.astype(np.float64) + 1) / 2 * 255, 0, 255)
    assert png.shape == low.shape and np.isfinite(low).all()
    assert (np.abs(png.astype(np.int64) - np.trunc(stretched)) <= 1).all()
    assert (png == np.trunc(stretched)).mean() > 0.99


def test_eodc_forum_ndvi_of_b8a_min_composite_job(connection: Any, tmp_path: Path) -> None:
    """notebooks/EODC_Forum_2019/VITO.ipynb and GEE.ipynb (``NDVI_RED = "B4"`` as
    ``B04``, ``NDVI_NIR = "B8A"``): ``connection.imagecollection(id)``, ``filter_bbox``
    with ``crs="EPSG:4326"``, ``ndvi(red=..., nir="B8A")`` (the 20 m band on the 10 m
    grid), ``min_time()``, ``create_job()``, ``start_job()``, ``describe_job()``,
    ``download_results(OUTPUT_FILE)`` (one asset: written to that file). The removed
    ``filter_daterange(extent=...)`` is ``filter_temporal(extent=...)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # imagecollection is deprecated
        datacube = connection.imagecollection("SENTINEL2_L2A")
    datacube = datacube.filter_bbox(crs="EPSG:4326", **EXTENT)
    datacube = datacube.filter_temporal(extent=[f"{DATES[0]}T00:00:00Z", f"{DATES[1]}T23:59:59Z"])
    datacube = datacube.ndvi(red="B04", nir="B8A")
    datacube = datacube.min_time()
    job = datacube.create_job()
    job.start_job()
    assert job.describe_job()["status"] in {"queued", "running", "finished"}
    job.start_and_wait()  # the notebook waits by hand; start again is a no-op when running
    output_file = tmp_path / "openeo_vito_output.tiff"
    job.download_results(output_file)
    got = read_tiff(output_file)
    raw = raw_bands(connection, ["B04", "B8A"], tmp_path / "raw.nc")
    red, nir = _f32(raw, "B04"), _f32(raw, "B8A")
    want = _nan_reduce(np.nanmin, (nir - red) / (nir + red))
    assert got.shape == (1, *want.shape)
    np.testing.assert_allclose(got[0], want, rtol=1e-6)


def test_eodc_example_utm_box_and_positional_ndvi_bands(connection: Any, tmp_path: Path) -> None:
    """eodc_example.py and PoC_EODC.ipynb: ``filter_bbox`` in UTM metres with
    ``crs=32632`` (an integer) on a bare load, ``filter_temporal(start, end)``,
    ``ndvi("B04", "B08")``: positional, so ``nir="B04"`` and ``red="B08"`` (the result is
    minus the usual NDVI), a job of the time series without ``save_result`` (GTiff, one
    file per date). ``session.image(...)`` and ``job.queue()`` are ``load_collection`` and
    ``start_and_wait()`` of today's client."""
    box = {"west": 316330.0, "east": 316980.0, "north": 5012700.0, "south": 5011830.0}
    s2a_prd_msil1c = connection.load_collection("SENTINEL2_L2A")
    timeseries = s2a_prd_msil1c.filter_bbox(crs=32632, **box)
    timeseries = timeseries.filter_temporal(*DATES)
    timeseries = timeseries.ndvi("B04", "B08")
    assert timeseries.flat_graph()["ndvi1"]["arguments"]["nir"] == "B04"
    job = timeseries.create_job()
    job.start_and_wait()
    paths = job.get_results().download_files(tmp_path / "out")
    tifs = sorted(p for p in paths if p.suffix == ".tif")

    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox={**box, "crs": 32632})
    assert raw.sizes["x"] == 65 and raw.sizes["y"] == 87  # the metres given, 10 m pixels
    b4, b8 = _f32(raw, "B04"), _f32(raw, "B08")
    dates = [str(t)[:10] for t in raw["t"].values]
    assert [p.name for p in tifs] == [f"openEO_{d}Z.tif" for d in dates] and len(dates) > 3
    for i, path in enumerate(tifs):
        want = (b4[i] - b8[i]) / (b4[i] + b8[i])
        np.testing.assert_allclose(read_tiff(path)[0], want, rtol=1e-6)


def test_gee_uc1_temp_three_monthly_means_merged_as_rgb(connection: Any, tmp_path: Path) -> None:
    """gee_uc1_temp.py (March-May 2017 of ``VV`` as May-July 2023 of ``B04``): three
    ``filter_temporal`` months of one load, ``mean_time()`` each, ``rename_labels(
    dimension="bands", target=[...])`` without ``source``, ``merge`` (merge_cubes)
    twice. Its ``GTIFF-THUMB`` is refused by the client itself (it is in neither
    backend's ``/file_formats``: geopyspark-driver backend.py ``file_formats`` L442-
    lists GTiff, PNG, CovJSON, netCDF, JSON, GeoJSON, CSV, Parquet); as ``GTiff``: one
    file of three bands named R, G, B."""
    months = ["2023-05-01", "2023-06-01", "2023-07-01", "2023-08-01"]
    datacube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=EXTENT,
        temporal_extent=[months[0], months[3]],
        bands=["B04"],
    )
    march = datacube.filter_temporal(months[0], months[1])
    april = datacube.filter_temporal(months[1], months[2])
    may = datacube.filter_temporal(months[2], months[3])
    R_band = march.mean_time().rename_labels(dimension="bands", target=["R"])
    G_band = april.mean_time().rename_labels(dimension="bands", target=["G"])
    B_band = may.mean_time().rename_labels(dimension="bands", target=["B"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # merge is deprecated
        RGB = R_band.merge(G_band).merge(B_band)
    with pytest.raises(ValueError, match="GTIFF-THUMB"):
        RGB.save_result(format="GTIFF-THUMB")
    job = RGB.save_result(format="GTiff").create_job()
    paths = job.start_and_wait().download_results(tmp_path / "out")
    import rasterio

    (path,) = paths
    with rasterio.open(path) as ds:
        assert ds.descriptions == ("R", "G", "B")
    got = read_tiff(path)
    raw = raw_bands(connection, ["B04"], tmp_path / "raw.nc", dates=[months[0], months[3]])
    for i in range(3):
        inside = (raw["t"] >= np.datetime64(months[i])) & (raw["t"] < np.datetime64(months[i + 1]))
        values = raw["B04"].values[inside.values].astype(np.float64)
        np.testing.assert_allclose(got[i], _nan_reduce(np.nanmean, values), rtol=1e-6)


#: examples/archive/udf/udf_profiling_ndvi.py, as published (legacy XarrayDataCube API)
PROFILING_NDVI_UDF = """
from openeo.udf import XarrayDataCube

def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
    inarr=cube.get_array()
    B4=inarr.loc[:,'B04']
    B8=inarr.loc[:,'B08']
    ndvi=(B8-B4)/(B8+B4)
    ndvi=ndvi.expand_dims(dim='bands', axis=-3).assign_coords(bands=['ndvi'])
    return XarrayDataCube(ndvi)
"""


def test_profiling_example_udf_ndvi_over_t_as_json(connection: Any, tmp_path: Path) -> None:
    """profiling_example.py with udf/udf_profiling_ndvi.py: a bare load,
    ``filter_temporal``, ``filter_bbox`` of the zipped bounds, ``filter_bands``, the UDF in
    ``apply_dimension(dimension='t')`` turning B04 and B08 into one band ``ndvi``,
    ``execute_batch(..., out_format='json', job_options={'profile': 'true'})``: the JSON
    of Copernicus's ``_collect_as_xarray`` layout (t, bands, x, y), read back with
    ``XarrayIO``. Without ``apply_metadata`` Copernicus keeps both band names for the one
    band (its JSON then says ``band_0``, its netCDF adds an empty ``B08``): not emulated,
    the job's log says so (README "How it matches Copernicus")."""
    import openeo
    from openeo.udf.xarraydatacube import XarrayIO

    (tmp_path / "udf").mkdir()
    (tmp_path / "udf" / "udf_profiling_ndvi.py").write_text(PROFILING_NDVI_UDF)
    bounds = [EXTENT["west"], EXTENT["south"], EXTENT["east"], EXTENT["north"]]
    data = (
        connection.load_collection("SENTINEL2_L2A")
        .filter_temporal(*DATES)
        .filter_bbox(**dict(zip(["west", "south", "east", "north"], bounds, strict=True)))
        .filter_bands(["B04", "B08"])
    )
    udf = openeo.UDF.from_file(tmp_path / "udf" / "udf_profiling_ndvi.py")
    data = data.apply_dimension(process=udf, dimension="t")
    target = tmp_path / "profiling_example_result.json"
    job = data.execute_batch(target, out_format="json", job_options={"profile": "true"})
    got = XarrayIO.from_json_file(target)

    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc")
    b4, b8 = _f32(raw, "B04"), _f32(raw, "B08")
    assert got.dims == ("t", "bands", "x", "y") and got.sizes["bands"] == 1
    assert [str(t)[:10] for t in got["t"].values] == [str(t)[:10] for t in raw["t"].values]
    want = ((b8 - b4) / (b8 + b4))[:, ::-1].transpose(0, 2, 1)  # y ascending there
    np.testing.assert_allclose(got.values[:, 0], want, rtol=1e-6)
    notes = [e["message"] for e in job.logs() if e.get("level") == "warning"]
    assert any("['B04', 'B08']" in n and "band_0" in n and "['B08']" in n for n in notes), notes
