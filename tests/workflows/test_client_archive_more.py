"""More of Open-EO/openeo-python-client ``examples/archive/`` through the openeo client
against ``hybrid serve``: each script's calls as published, the collection read as
``SENTINEL2_L2A`` (GEE's ``B4``/``B8`` as ``B04``/``B08``), AOI and dates moved into the
embedded sample, each result checked against numpy on the raw bands of the same server."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.workflows.raw import BBOX, pixels_inside, raw_bands, read_tiff

#: 22 June to 7 July: four dates, the first and last clear
DATES = ["2023-06-20", "2023-07-10"]
#: six dates, enough for the Savitzky-Golay window of 5
SIX_DATES = ["2023-06-20", "2023-07-20"]


def _f32(raw: xr.Dataset, band: str) -> np.ndarray:
    out: np.ndarray = raw[band].values.astype(np.float32)
    return out


def _gtiff_bytes(data: bytes) -> np.ndarray:
    from rasterio.io import MemoryFile

    with MemoryFile(data) as memfile, memfile.open() as dataset:
        out: np.ndarray = dataset.read()
        return out


def test_phenology_example_evi_savitzky_golay_polygonal_means(
    connection: Any, tmp_path: Path
) -> None:
    """examples/archive/phenology_example.py: a load without extent or bands,
    ``filter_temporal``, EVI from ``band()`` (with the script's ``B02 = band('B04')``),
    ``apply_dimension`` of ``udf/smooth_savitzky_golay.py`` without a dimension (the
    client falls back on ``t``) and ``polygonal_mean_timeseries(polygon).execute()`` of the
    raw and the smoothed EVI as ``pd.Series``."""
    import openeo
    import pandas as pd
    from scipy.signal import savgol_filter
    from shapely.geometry import Polygon

    from tests.server.test_udf_server_examples import SAVGOL_UDF  # the same code, formatted

    (tmp_path / "udf").mkdir()
    (tmp_path / "udf" / "smooth_savitzky_golay.py").write_text(SAVGOL_UDF)
    w, s = BBOX["west"], BBOX["south"]
    polygon = Polygon(
        shell=[
            [w + 0.002, s + 0.002],
            [w + 0.0015, s + 0.0005],
            [w + 0.0035, s + 0.0004],
            [w + 0.004, s + 0.0022],
            [w + 0.002, s + 0.002],
        ]
    )
    session = connection
    s2_radiometry = session.load_collection("SENTINEL2_L2A").filter_temporal(*SIX_DATES)
    B02 = s2_radiometry.band("B04")  # the script's names
    B04 = s2_radiometry.band("B04")
    B08 = s2_radiometry.band("B08")
    evi_cube = (2.5 * (B08 - B04)) / ((B08 + 6.0 * B04 - 7.5 * B02) + 1.0)
    smoothing_udf = openeo.UDF.from_file(tmp_path / "udf" / "smooth_savitzky_golay.py")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the client's UserDeprecationWarnings
        smoothed_evi = evi_cube.apply_dimension(process=smoothing_udf)
        timeseries_smooth = smoothed_evi.polygonal_mean_timeseries(polygon)
        timeseries_raw_dc = evi_cube.polygonal_mean_timeseries(polygon)
    timeseries_raw = pd.Series(timeseries_raw_dc.execute(), name="evi_raw")
    smooth = pd.Series(timeseries_smooth.execute(), name="evi_smooth")

    extent = dict(zip(["west", "south", "east", "north"], polygon.bounds, strict=True))
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=extent, dates=SIX_DATES)
    b04, b08 = _f32(raw, "B04"), _f32(raw, "B08")
    evi = (2.5 * (b08 - b04)) / ((b08 + 6.0 * b04 - 7.5 * b04) + 1.0)
    inside = pixels_inside(raw, polygon)
    assert inside.sum() > 20
    dates = [str(t)[:10] for t in raw["t"].values]
    assert [d[:10] for d in timeseries_raw.index] == dates == [d[:10] for d in smooth.index]
    got_raw = np.array([v[0][0] for v in timeseries_raw.values])
    np.testing.assert_allclose(got_raw, [e[inside].mean() for e in evi], rtol=1e-5)
    assert len(dates) == 6
    want = savgol_filter(evi[:, inside], 5, 2, axis=0).mean(axis=1)
    got_smooth = np.array([v[0][0] for v in smooth.values])
    np.testing.assert_allclose(got_smooth, want, rtol=1e-5)
    assert not np.allclose(got_smooth, got_raw)


def test_process_as_a_service_ndvi_udp_with_an_edited_date_parameter(
    connection: Any, tmp_path: Path
) -> None:
    """examples/archive/notebooks/ProcessAsAService.ipynb: NDVI of a ``filter_temporal``
    + ``filter_bbox`` cube downloaded as GTiff bytes (``download()`` without a path),
    saved ``public=True`` and run by ``datacube_from_process``; its flat graph edited to
    take ``{"from_parameter": "date"}`` as both ends of ``filter_temporal``, saved with a
    ``Parameter``, run for one date; then POSTed to ``/result`` by hand in namespace
    ``user`` (200) and in the notebook's raw.githubusercontent.com namespace (unreachable
    offline: one 400 ``ProcessNamespaceInvalid``)."""
    import pytest
    from openeo.api.process import Parameter
    from openeo.rest import OpenEoApiError

    bbox = {**BBOX, "crs": "EPSG:4326"}
    cube = (
        connection.load_collection("SENTINEL2_L2A", bands=["B04", "B08"])
        .filter_temporal(*DATES)
        .filter_bbox(**bbox)
    )
    red = cube.band("B04")
    nir = cube.band("B08")
    ndvi = (nir - red) / (red + nir)
    ndvi_bytes = ndvi.download(format="GTIFF")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "without parameters"
        ndvi.save_user_defined_process("the_best_ndvi_ever", public=True)
    from_udp = connection.datacube_from_process("the_best_ndvi_ever").download(format="GTIFF")
    temporal_extent = Parameter(
        name="date",
        description="A date for which to compute the Sentinel-2 NDVI.",
        schema={"type": "string", "subtype": "date-time"},
    )
    graph_with_parameters = ndvi.flat_graph()
    graph_with_parameters["filtertemporal1"]["arguments"]["extent"][0] = {"from_parameter": "date"}
    graph_with_parameters["filtertemporal1"]["arguments"]["extent"][1] = {"from_parameter": "date"}
    connection.save_user_defined_process(
        "the_best_ndvi_ever", graph_with_parameters, parameters=[temporal_extent]
    )
    ndvi_for_date = connection.datacube_from_process("the_best_ndvi_ever", date="2023-07-02")
    one_day = ndvi_for_date.download(format="GTIFF")
    url = "https://raw.githubusercontent.com/Open-EO/openeo-python-client/master/examples/notebooks/my_ndvi.json"
    node = {
        "process_id": "the_best_ndvi_ever",
        "namespace": url,
        "arguments": {"date": "2023-07-02"},
        "result": True,
    }
    request = {"process": {"process_graph": {"ndvi_node": node}}}
    with pytest.raises(OpenEoApiError) as refused:
        connection.post(path="/result", json=request, stream=True, timeout=1000)
    assert refused.value.http_status_code == 400
    assert refused.value.code == "ProcessNamespaceInvalid"
    node["namespace"] = "user"
    r = connection.post(path="/result", json=request, stream=True, timeout=1000)
    assert r.status_code == 200

    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", dates=DATES)
    r4, n8 = _f32(raw, "B04"), _f32(raw, "B08")
    with np.errstate(all="ignore"):
        want = (n8 - r4) / (r4 + n8)
    dates = [str(t)[:10] for t in raw["t"].values]
    assert dates[0] == "2023-06-22" and "2023-07-02" in dates
    # a synchronous GTiff of a cube with dates is its first date (sync_result.py)
    np.testing.assert_allclose(_gtiff_bytes(ndvi_bytes)[0], want[0], rtol=1e-6, equal_nan=True)
    assert from_udp == ndvi_bytes
    july = want[dates.index("2023-07-02")]
    np.testing.assert_allclose(_gtiff_bytes(one_day)[0], july, rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(_gtiff_bytes(r.content)[0], july, rtol=1e-6, equal_nan=True)


def test_eurac_notebook_utm_filter_bbox_max_ndvi_job(connection: Any, tmp_path: Path) -> None:
    """examples/archive/notebooks/openEO_Python_Sentinel2_EURAC.ipynb: ``filter_bbox`` in
    EPSG:32632 metres, ``filter_temporal(extent=[...Z])``, NDVI ``max_time`` saved as
    ``gtiff``; ``create_job``, ``start_job`` and at once ``download_results`` (400
    ``JobNotFinished`` while it runs, as on Copernicus), then ``download_results`` of the
    finished job into the notebook's file name. The grid: the UTM box snapped outward to
    the 10 m grid."""
    import time

    import pyproj
    import pytest
    import rasterio
    from openeo.rest import OpenEoApiError

    to_utm = pyproj.Transformer.from_crs(4326, 32632, always_xy=True)
    west, south = to_utm.transform(BBOX["west"], BBOX["south"])
    east, north = to_utm.transform(BBOX["east"], BBOX["north"])
    con = connection
    datacube = con.load_collection(
        collection_id="SENTINEL2_L2A", bands=["B02", "B03", "B04", "B08"]
    )
    datacube = datacube.filter_bbox(
        west=west, south=south, east=east, north=north, crs="EPSG:32632"
    )
    temp = datacube.filter_temporal(extent=["2023-06-20T00:00:00Z", "2023-07-10T00:00:00Z"])
    red = temp.band("B04")
    nir = temp.band("B08")
    datacube = (nir - red) / (nir + red)
    datacube = datacube.max_time()
    datacube = datacube.save_result(format="gtiff")
    job = datacube.create_job()
    assert job.job_id
    job.start_job()
    warnings.filterwarnings("ignore", message=".*deprecated")
    with pytest.raises(OpenEoApiError) as early:
        job.download_results(tmp_path / "Sentinel2STfile.tiff")
    assert early.value.code == "JobNotFinished"
    while job.status() in ("queued", "running"):
        time.sleep(0.5)
    assert job.status() == "finished"
    job.download_results(tmp_path / "Sentinel2STfile.tiff")

    with rasterio.open(tmp_path / "Sentinel2STfile.tiff") as ds:
        got, bounds, crs = ds.read(1), ds.bounds, ds.crs.to_epsg()
    assert crs == 32632
    assert tuple(bounds) == (
        np.floor(west / 10) * 10,
        np.floor(south / 10) * 10,
        np.ceil(east / 10) * 10,
        np.ceil(north / 10) * 10,
    )
    raw = raw_bands(con, ["B04", "B08"], tmp_path / "raw.nc", dates=DATES)
    r4, n8 = _f32(raw, "B04"), _f32(raw, "B08")
    ndvi = xr.DataArray((n8 - r4) / (n8 + r4), dims=("t", "y", "x"), coords=raw["B04"].coords)
    want = ndvi.max("t").sel(x=slice(bounds.left, bounds.right), y=slice(bounds.top, bounds.bottom))
    assert want.shape == got.shape
    np.testing.assert_allclose(got, want.values, rtol=1e-6)


@pytest.mark.slow
def test_gee_notebook_pgnode_ndvi_min_time_png(connection: Any, tmp_path: Path) -> None:
    """examples/archive/notebooks/Sentinel2_NDVI_GEE.ipynb: a bare load, ``filter_bbox``,
    ``filter_temporal``, ``filter_bands``, a ``reduce_dimension`` reducer of ``PGNode``s
    (``array_element`` by label, ``normalized_difference``), ``min_time``, ``apply`` of a
    ``linear_scale_range`` PGNode without ``outputMin`` (a float default on Copernicus,
    so no integer cast: OpenEOProcessScriptBuilder.scala L1271-1285), PNG by a batch job
    and ``download_results``: 8 bits, the integer part (Copernicus's UByte conversion)."""
    from openeo.internal.graph_building import PGNode

    datacube = connection.load_collection("SENTINEL2_L2A")
    datacube = datacube.filter_bbox(
        west=BBOX["west"],
        east=BBOX["east"],
        north=BBOX["north"],
        south=BBOX["south"],
        crs="EPSG:4326",
    )
    datacube = datacube.filter_temporal("2023-06-20T00:00:00Z", "2023-07-10T23:59:59Z")
    datacube = datacube.filter_bands(["B04", "B08"])
    red = PGNode("array_element", arguments={"data": {"from_parameter": "data"}, "label": "B04"})
    nir = PGNode("array_element", arguments={"data": {"from_parameter": "data"}, "label": "B08"})
    ndvi = PGNode(
        "normalized_difference", arguments={"x": {"from_node": nir}, "y": {"from_node": red}}
    )
    datacube = datacube.reduce_dimension(dimension="bands", reducer=ndvi)
    datacube = datacube.min_time()
    lin_scale = PGNode(
        "linear_scale_range",
        arguments={"x": {"from_parameter": "x"}, "inputMin": -1, "inputMax": 1, "outputMax": 255},
    )
    datacube = datacube.apply(lin_scale)
    datacube = datacube.save_result(format="PNG")
    assert '"outputMin"' not in json.dumps(datacube.flat_graph())
    job = datacube.create_job()
    warnings.filterwarnings("ignore", message=".*deprecated")
    job.start_and_wait().download_results(tmp_path / "openeo_gee_output.png")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a PNG has no georeference
        got = read_tiff(tmp_path / "openeo_gee_output.png")
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", dates=DATES)
    r4, n8 = _f32(raw, "B04"), _f32(raw, "B08")
    nd = np.min((n8 - r4) / (n8 + r4), axis=0)
    # geotrellis ``normalize`` in float64, stored in the float32 tile, then truncated
    scaled = ((nd.astype(np.float64) + 1) * 255 / 2).astype(np.float32)
    assert got.shape == (1, *nd.shape)
    np.testing.assert_array_equal(got[0], np.trunc(scaled))
    assert (scaled % 1 > 0.5).any(), "rounding would differ from the integer part"
