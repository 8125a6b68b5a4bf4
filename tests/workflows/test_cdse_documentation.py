"""Python code of CDSE's openEO documentation (github.com/eu-cdse/documentation,
``APIs/openEO/``) through the openeo client against ``hybrid serve``, changed only in
URL, AOI and dates, each result checked against numpy on the raw bands downloaded from
the same server.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.workflows.raw import BBOX, DATES, nanmax_t, raw_bands, read_tiff


def _nc(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _evi(raw: xr.Dataset) -> np.ndarray:
    blue, red, nir = (raw[b].values.astype(np.float64) * 0.0001 for b in ("B02", "B04", "B08"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = 2.5 * (nir - red) / (nir + 6.0 * red - 7.5 * blue + 1.0)
    return out


def test_python_client_getting_started_evi_composite(connection: Any, tmp_path: Path) -> None:
    """APIs/openEO/Python_Client/Python.qmd L82-85 (the collection listed and described),
    L175-182, L191-195, L288-325: the load with
    ``max_cloud_cover=85``, the same cube from filters applied step by step, EVI from
    ``band()`` scaled by 0.0001, ``SCL != 4`` resampled onto the EVI cube and used as a
    ``mask``, ``max_time`` to GeoTIFF. The page's ``sentinel2_cube`` is its ``datacube``
    and its undefined ``s2_scl`` the same load of ``SCL``; as published the composite is
    of the unmasked cube, the masked one (the page's picture) is downloaded too."""
    assert "SENTINEL2_L2A" in connection.list_collection_ids()
    assert connection.describe_collection("SENTINEL2_L2A")["id"] == "SENTINEL2_L2A"
    load = {"spatial_extent": dict(BBOX), "temporal_extent": DATES, "max_cloud_cover": 85}
    datacube = connection.load_collection("SENTINEL2_L2A", bands=["B02", "B04", "B08"], **load)
    stepwise = connection.load_collection("SENTINEL2_L2A", max_cloud_cover=85)
    stepwise = stepwise.filter_bbox(**BBOX)
    stepwise = stepwise.filter_temporal(start_date=DATES[0], end_date=DATES[1])
    stepwise = stepwise.filter_bands(["B02", "B04", "B08"])
    datacube.download(tmp_path / "direct.nc")
    stepwise.download(tmp_path / "stepwise.nc")
    xr.testing.assert_identical(_nc(tmp_path / "direct.nc"), _nc(tmp_path / "stepwise.nc"))

    sentinel2_cube = datacube
    s2_scl = connection.load_collection("SENTINEL2_L2A", bands=["SCL"], **load)
    blue = sentinel2_cube.band("B02") * 0.0001
    red = sentinel2_cube.band("B04") * 0.0001
    nir = sentinel2_cube.band("B08") * 0.0001
    evi_cube = 2.5 * (nir - red) / (nir + 6.0 * red - 7.5 * blue + 1.0)
    scl_band = s2_scl.band("SCL")
    mask = scl_band != 4
    mask_resampled = mask.resample_cube_spatial(evi_cube)
    evi_cube_masked = evi_cube.mask(mask_resampled)
    evi_composite = evi_cube.max_time()
    evi_composite.download(tmp_path / "evi-composite.tiff")
    evi_cube_masked.max_time().download(tmp_path / "evi-masked-composite.tiff")

    bands = ["B02", "B04", "B08", "SCL"]
    raw = raw_bands(connection, bands, tmp_path / "raw.nc", max_cloud_cover=85)
    evi = _evi(raw)
    got = read_tiff(tmp_path / "evi-composite.tiff")
    assert got.shape == (1, *evi.shape[1:])
    np.testing.assert_allclose(got[0], nanmax_t(evi), rtol=1e-5, equal_nan=True)
    vegetation = raw["SCL"].values == 4
    assert 0 < vegetation.sum() < vegetation.size, "the AOI must have some vegetation"
    want = nanmax_t(np.where(vegetation, evi, np.nan))
    masked = read_tiff(tmp_path / "evi-masked-composite.tiff")[0]
    np.testing.assert_allclose(masked, want, rtol=1e-5, equal_nan=True)
    assert np.isnan(masked).sum() > np.isnan(got[0]).sum()


#: APIs/openEO/job_config.qmd L13-25: every option at its documented default
JOB_OPTIONS = {
    "executor-memory": "2G",
    "executor-memoryOverhead": "1800m",
    "python-memory": None,
    "executor-cores": 1,
    "task-cpus": 1,
    "max-executors": 20,
    "driver-memory": "2G",
    "driver-memoryOverhead": "1G",
    "driver-cores": 1,
    "udf-dependency-archives": [],
    "logging-threshold": "info",
}


def test_job_config_and_fair_provenance_rerun(connection: Any, tmp_path: Path) -> None:
    """APIs/openEO/job_config.qmd L13-26: ``execute_batch(job_options=...)`` with the
    documented defaults; APIs/openEO/fair.qmd L325-347: the job's STAC metadata (the
    page's example: ``max_cloud_cover=85`` as an ``eo:cloud_cover`` ``lte`` property and
    ``save_result`` netCDF with ``options`` ``format``/``output_format``) rebuilt from
    ``providers[0]["processing:expression"]["expression"]`` with
    ``datacube_from_flat_graph`` and run again: the same data."""
    cube = connection.load_collection(
        "SENTINEL2_L2A",
        spatial_extent=dict(BBOX),
        temporal_extent=DATES,
        bands=["B02", "B03", "B04"],
        max_cloud_cover=85,
    )
    cube = cube.save_result(
        format="netcdf", options={"format": "netcdf", "output_format": "netcdf"}
    )
    job = cube.execute_batch(job_options=JOB_OPTIONS)
    assert job.status() == "finished"
    results = job.get_results()
    metadata = results.get_metadata()
    results.download_files(tmp_path / "job")
    (asset,) = sorted((tmp_path / "job").glob("*.nc"))

    graph = metadata["providers"][0]["processing:expression"]["expression"]
    assert graph["loadcollection1"]["arguments"]["properties"]["eo:cloud_cover"]
    rebuilt = connection.datacube_from_flat_graph(graph)
    rebuilt.download(tmp_path / "again.nc")
    first, again = _nc(asset), _nc(tmp_path / "again.nc")
    xr.testing.assert_equal(first[["B02", "B03", "B04"]], again[["B02", "B03", "B04"]])
    raw = raw_bands(connection, ["B02", "B03", "B04"], tmp_path / "raw.nc", max_cloud_cover=85)
    for band in ("B02", "B03", "B04"):
        np.testing.assert_array_equal(first[band].values, raw[band].values)
