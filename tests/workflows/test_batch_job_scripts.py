"""Batch-job scripts as the openeo Python client's documentation writes them
(github.com/Open-EO/openeo-python-client: docs/batch_jobs.rst, docs/cookbook/job_manager.rst,
openeo/rest/job.py, openeo/extra/job_management/) against ``hybrid serve``, with the
save_result options Copernicus honours (openeo-geopyspark-driver backend.py
``file_formats``, geopysparkdatacube.py ``write_assets``).

Each test holds the documented client calls and checks what comes back (job metadata,
logs, result assets, files) against the raw bands downloaded from the same server or the
layout of a real Copernicus job (../shared/cdse/real-job/job-results.json).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from tests.workflows.raw import raw_bands, read_tiff

#: a few pixels of the seed field, two dates of the sample (06-12 and 06-17)
BBOX = {"west": 6.6640, "south": 45.2400, "east": 6.6650, "north": 45.2408}
DATES = ["2023-06-10", "2023-06-20"]


def _cube(connection: Any, bands: list[str]) -> Any:
    return connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=BBOX, temporal_extent=DATES, bands=bands
    )


def test_job_lifecycle_of_the_batch_jobs_guide(connection: Any, tmp_path: Path) -> None:
    """docs/batch_jobs.rst: ``create_job`` with a title, description and job options;
    ``connection.job(id)``, ``list_jobs``, ``estimate``, ``start_and_wait``, ``logs``,
    ``get_results`` (metadata, assets, ``download_file`` by key, ``download_files``),
    a second start of the finished job, ``delete``."""
    from openeo.rest import OpenEoApiError

    cube = _cube(connection, ["B04", "B08"]).save_result(format="GTiff")
    job = cube.create_job(
        title="NDVI timeseries 2022",
        description="two bands, two dates",
        job_options={"executor-memory": "2g", "driver-memory": "1g"},
    )
    again = connection.job(job.job_id)
    described = again.describe()
    assert described["status"] == "created" and described["progress"] == 0
    assert (described["title"], described["description"]) == (
        "NDVI timeseries 2022",
        "two bands, two dates",
    )
    assert job.job_id in [j["id"] for j in connection.list_jobs()]
    assert "costs" in job.estimate()

    job.start_and_wait(max_poll_interval=1)
    assert job.status() == "finished" and job.describe()["progress"] == 100
    levels = {entry["level"] for entry in job.logs()}
    assert "info" in levels
    assert job.logs(level="error") == []

    results = job.get_results()
    metadata = results.get_metadata()
    assert metadata["id"] == job.job_id and metadata["openeo:status"] == "finished"
    assert metadata["title"] == "NDVI timeseries 2022"
    keys = [asset.key for asset in results.get_assets()]
    assert keys == ["openEO_2023-06-12Z.tif", "openEO_2023-06-17Z.tif"]
    for asset in results.get_assets():
        # the fields a Copernicus asset carries (cdse/real-job/job-results.json)
        assert asset.media_type == "image/tiff; application=geotiff"
        assert [b["name"] for b in asset.metadata["eo:bands"]] == ["B04", "B08"]
        assert asset.metadata["proj:epsg"] == 32632
        assert [b["name"] for b in asset.metadata["raster:bands"]] == ["B04", "B08"]
    one = results.download_file(tmp_path / "one.tif", key="openEO_2023-06-17Z.tif")
    # what fsspec and GDAL ask first: HEAD on the signed link, no credentials
    head = requests.head(results.get_asset("openEO_2023-06-17Z.tif").href, timeout=30)
    assert head.status_code == 200 and int(head.headers["content-length"]) == one.stat().st_size
    all_files = results.download_files(tmp_path / "all")
    assert sorted(p.name for p in all_files) == sorted([*keys, "job-results.json"])

    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=BBOX, dates=DATES)
    want = np.stack([raw[b].sel(t="2023-06-17").values for b in ("B04", "B08")])
    np.testing.assert_array_equal(read_tiff(one), want)

    job.start_and_wait(max_poll_interval=1)  # a finished job runs again, same files
    assert [a.key for a in job.get_results().get_assets()] == keys
    job.delete()
    assert job.job_id not in [j["id"] for j in connection.list_jobs()]
    with pytest.raises(OpenEoApiError) as failed:
        job.status()
    assert failed.value.http_status_code == 404 and failed.value.code == "JobNotFound"


def test_a_failing_job_raises_with_its_error_log(connection: Any) -> None:
    """docs/batch_jobs.rst "Automatic batch job log printing": ``execute_batch`` of a job
    that fails raises ``JobFailedException``; its error log names the cause."""
    from openeo.rest import JobFailedException

    outside = {"west": 10.0, "south": 50.0, "east": 10.01, "north": 50.01}
    cube = connection.load_collection(
        "SENTINEL2_L2A", spatial_extent=outside, temporal_extent=DATES, bands=["B04"]
    )
    with pytest.raises(JobFailedException) as failed:
        cube.execute_batch(out_format="GTiff", max_poll_interval=1, show_error_logs=False)
    job = failed.value.job
    assert job.status() == "error"
    errors = job.logs(level="error")
    assert [e["code"] for e in errors] == ["NoDataAvailable"]
    assert "cloud cover <= None" not in errors[0]["message"]


def test_gtiff_options_filename_prefix_and_one_asset_per_band(
    connection: Any, tmp_path: Path
) -> None:
    """save_result GTiff options Copernicus honours: ``filename_prefix``,
    ``separate_asset_per_band`` (one single-band file per band and date, the band in its
    name and description: openeo-geotrellis-extensions geotiff/package.scala
    ``bandPiece``) and ``overviews="OFF"``."""
    import rasterio

    cube = _cube(connection, ["B04", "B08"]).save_result(
        format="GTiff",
        options={"filename_prefix": "field", "separate_asset_per_band": "true", "overviews": "OFF"},
    )
    job = cube.execute_batch(max_poll_interval=1)
    results = job.get_results()
    assert sorted(a.key for a in results.get_assets()) == [
        "field_2023-06-12Z_B04.tif",
        "field_2023-06-12Z_B08.tif",
        "field_2023-06-17Z_B04.tif",
        "field_2023-06-17Z_B08.tif",
    ]
    for asset in results.get_assets():
        band = asset.key[-7:-4]
        assert [b["name"] for b in asset.metadata["eo:bands"]] == [band]
        assert [b["name"] for b in asset.metadata["raster:bands"]] == [band]
    files = results.download_files(tmp_path)
    raw = raw_bands(connection, ["B04", "B08"], tmp_path / "raw.nc", bbox=BBOX, dates=DATES)
    for path in (p for p in files if p.suffix == ".tif"):
        date, band = path.stem.split("_")[1][:10], path.stem.split("_")[2]
        with rasterio.open(path) as ds:
            assert ds.count == 1 and ds.descriptions == (band,)
            assert ds.overviews(1) == []
        got = read_tiff(path)[0]
        np.testing.assert_array_equal(got, raw[band].sel(t=date).values)


def test_one_asset_per_band_is_refused_outside_gtiff(connection: Any) -> None:
    """Copernicus refuses ``separate_asset_per_band`` and ``attach_gdalinfo_assets`` with
    another format (geopysparkdatacube.py ``write_assets`` L2130-2135: "only supported
    with format GTIFF"); here a 400 when the job is created, not a job that fails later."""
    from openeo.rest import OpenEoApiError

    for option in ("separate_asset_per_band", "attach_gdalinfo_assets"):
        cube = _cube(connection, ["B04"]).save_result(format="netCDF", options={option: True})
        with pytest.raises(OpenEoApiError) as refused:
            cube.create_job(validate=False)
        assert refused.value.http_status_code == 400
        assert refused.value.code == "ProcessParameterInvalid"
        assert f"{option} is only supported with format GTiff" in refused.value.message
    for options in ("overviews=OFF", ["OFF"]):  # not an object: a 400, not a 500
        cube = _cube(connection, ["B04"]).save_result(format="GTiff", options=options)
        with pytest.raises(OpenEoApiError) as refused:
            cube.create_job(validate=False)
        assert refused.value.http_status_code == 400, options


def test_netcdf_filename_prefix_and_file_metadata(connection: Any, tmp_path: Path) -> None:
    """netCDF ``filename_prefix`` (``{prefix}.nc``, geopysparkdatacube.py) and
    ``file_metadata`` (global attributes), one asset with the bands as Copernicus's."""
    import xarray as xr

    cube = _cube(connection, ["B04", "B08"]).save_result(
        format="netCDF",
        options={"filename_prefix": "field", "file_metadata": {"title": "My field"}},
    )
    job = cube.execute_batch(max_poll_interval=1)
    (asset,) = job.get_results().get_assets()
    assert asset.key == "field.nc" and asset.media_type == "application/x-netcdf"
    assert [b["name"] for b in asset.metadata["bands"]] == ["B04", "B08"]
    path = asset.download(tmp_path / "field.nc")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds.attrs["title"] == "My field"
        assert list(ds.sizes) == ["t", "y", "x"] and ds.sizes["t"] == 2


def test_file_formats_list_the_options_honoured(connection: Any) -> None:
    """``connection.list_file_formats()``: the output formats and, as Copernicus does
    (openeo-geopyspark-driver backend.py ``file_formats``), the save_result options
    each honours; every one listed here is one the writers above act on."""
    formats = connection.list_file_formats()
    output = formats["output"]
    assert {"GTiff", "netCDF", "JSON", "CSV", "Parquet"} <= set(output)
    gtiff = output["GTiff"]["parameters"]
    assert {"filename_prefix", "separate_asset_per_band", "overviews", "file_metadata"} <= set(
        gtiff
    )
    assert gtiff["overviews"]["default"] == "AUTO"
    assert {"filename_prefix", "file_metadata"} <= set(output["netCDF"]["parameters"])


def test_multi_backend_job_manager_runs_a_dataframe_of_jobs(
    connection: Any, tmp_path: Path
) -> None:
    """docs/cookbook/job_manager.rst: ``MultiBackendJobManager`` with the local server
    as its one backend runs a job per dataframe row, tracks them in a CSV job database
    and downloads each job's results into ``root_dir/job_{id}``."""
    import pandas as pd
    from openeo.extra.job_management import CsvJobDatabase, MultiBackendJobManager

    def start_job(row: Any, connection: Any, **_: Any) -> Any:
        bbox = {"west": row.west, "south": row.south, "east": row.east, "north": row.north}
        cube = connection.load_collection(
            "SENTINEL2_L2A", spatial_extent=bbox, temporal_extent=DATES, bands=["B04"]
        )
        return cube.max_time().create_job(title=f"tile {row.name}", out_format="GTiff")

    west, south = BBOX["west"], BBOX["south"]
    df = pd.DataFrame(
        {
            "west": [west, west + 0.0005],
            "south": [south, south],
            "east": [west + 0.0005, west + 0.001],
            "north": [south + 0.0008, south + 0.0008],
        }
    )
    manager = MultiBackendJobManager(poll_sleep=1, root_dir=tmp_path / "jobs")
    manager.add_backend("local", connection=connection, parallel_jobs=2)
    database = CsvJobDatabase(tmp_path / "jobs.csv")
    manager.run_jobs(df=df, start_job=start_job, job_db=database)

    tracked = pd.read_csv(tmp_path / "jobs.csv")
    assert list(tracked["status"]) == ["finished", "finished"]
    raw = raw_bands(connection, ["B04"], tmp_path / "raw.nc", bbox=BBOX, dates=DATES)
    halves = []
    for job_id in tracked["id"]:
        folder = tmp_path / "jobs" / f"job_{job_id}"
        assert (folder / "openEO.tif").is_file() and (folder / "job-results.json").is_file()
        halves.append(read_tiff(folder / "openEO.tif")[0])
    assert sum(h.size for h in halves) >= raw["B04"].isel(t=0).size
    composite = np.nanmax(raw["B04"].values, axis=0)
    np.testing.assert_array_equal(halves[0], composite[:, : halves[0].shape[1]])


def test_results_collection_links_a_stac_item_per_file(connection: Any, tmp_path: Path) -> None:
    """``pystac.Collection.from_dict(results.get_metadata()).get_items()``: as on
    Copernicus (openeo-python-driver views.py ``_list_job_results``: a signed ``rel: item``
    link per data file; cdse/real-job/job-results.json), each file's Item opens without
    credentials, dated by its file, with the file as its one asset."""
    import pystac

    job = _cube(connection, ["B04"]).execute_batch(out_format="GTiff", max_poll_interval=1)
    collection = pystac.Collection.from_dict(job.get_results().get_metadata())
    items = sorted(collection.get_items(), key=lambda item: item.id)
    assert [item.id for item in items] == ["openEO_2023-06-12Z.tif", "openEO_2023-06-17Z.tif"]
    raw = raw_bands(connection, ["B04"], tmp_path / "raw.nc", bbox=BBOX, dates=DATES)
    for item in items:
        assert item.datetime is not None and item.collection_id == job.job_id
        assert item.datetime.date().isoformat() == item.id[7:17]
        west, south, east, north = item.bbox
        assert abs(west - BBOX["west"]) < 1e-3 and abs(east - BBOX["east"]) < 1e-3
        assert abs(south - BBOX["south"]) < 1e-3 and abs(north - BBOX["north"]) < 1e-3
        (asset,) = item.assets.values()
        path = tmp_path / item.id
        path.write_bytes(requests.get(asset.href, timeout=30).content)
        np.testing.assert_array_equal(read_tiff(path)[0], raw["B04"].sel(t=item.id[7:17]).values)
    forged = items[0].get_self_href().replace("/items/", "/items/x")  # type: ignore[union-attr]
    assert requests.get(forged, timeout=30).status_code == 404


def test_inspect_writes_its_message_and_the_cube_into_the_job_log(connection: Any) -> None:
    """openEO ``inspect`` (the client's ``cube.process("inspect", ...)``), as Copernicus
    logs it: the message, then the cube's metadata text (openeo-python-driver
    process_implementations/misc.py ``inspect``), at the level asked for."""
    cube = _cube(connection, ["B04", "B08"])
    seen = cube.process("inspect", data=cube, message="loaded", code="mine", level="warning")
    ndvi = seen.ndvi()
    job = ndvi.process("inspect", data=ndvi).create_job(out_format="netCDF", log_level="info")
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    logs = [(e["level"], e["message"], e.get("code")) for e in job.logs()]
    assert ("warning", "loaded", "mine") in logs
    assert ("warning", "CubeMetadata(['B04', 'B08'] - ['x', 'y', 't', 'bands'])", "mine") in logs
    # ndvi drops the band dimension; inspect's default code
    assert ("info", "CubeMetadata(no bands dimension - ['x', 'y', 't'])", "User") in logs
    assert [e for e in job.logs(level="warning") if e["message"] == "loaded"]
