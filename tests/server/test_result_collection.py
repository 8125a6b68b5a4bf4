"""The results Collection of a job over Copernicus's own result file: the asset fields read
from the file's header are the ones Copernicus put on that file's asset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hybrid.io.vector_assets import vector_asset_fields
from hybrid.server.jobs import Job
from hybrid.server.result_collection import result_collection
from hybrid.server.results import ResultLinks
from tests.engine.vector_grid import two_band_series, write_vector_cube
from tests.server_helpers import SHARED

REAL_JOB = SHARED / "cdse" / "real-job"


@pytest.fixture
def real_job() -> tuple[dict, Path]:
    if not (REAL_JOB / "job-results.json").is_file() or not (REAL_JOB / "openEO.nc").is_file():
        pytest.skip("../shared/cdse/real-job is absent")
    return json.loads((REAL_JOB / "job-results.json").read_text(encoding="utf-8")), REAL_JOB


def _job(
    graph: dict, files: tuple[str, ...], status: str = "finished", assets: dict | None = None
) -> Job:
    return Job(
        id="j-0123456789abcdef0123456789abcdef",
        user_id="alice",
        title=None,
        description=None,
        process={"process_graph": graph},
        status=status,
        progress=None,
        created="2025-11-03T08:58:27Z",
        updated="2025-11-03T09:01:46Z",
        plan=None,
        budget=None,
        log_level="info",
        attempts=1,
        error_code=None,
        error_message=None,
        error_node=None,
        files=files,
        provenance={},
        assets=assets or {},
    )


def test_asset_fields_are_those_copernicus_gave_its_file(
    real_job: tuple[dict, Path], tmp_path: Path
) -> None:
    real, folder = real_job
    shutil.copy(folder / "openEO.nc", tmp_path / "openEO.nc")
    graph = real["providers"][0]["processing:expression"]["expression"]
    job = _job(graph, ("openEO.nc",))
    links = ResultLinks(secret=b"0" * 32, ttl=60)
    ours = result_collection(job, base_url="http://127.0.0.1:1", links=links, result_dir=tmp_path)

    (asset,), (real_asset,) = ours["assets"].values(), real["assets"].values()
    keys = ("bands", "eo:bands", "proj:bbox", "proj:epsg", "proj:shape", "raster:bands")
    for key in (*keys, "type", "roles"):
        assert asset[key] == real_asset[key], key
    assert asset["file:size"] == (folder / "openEO.nc").stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == ["openEO.nc"]  # no .aux.xml left beside it
    # its loads have spatial_extent null (filter_spatial instead): the bbox is the file's
    (bbox,), (real_bbox,) = ours["extent"]["spatial"]["bbox"], real["extent"]["spatial"]["bbox"]
    assert bbox == pytest.approx(real_bbox, abs=2e-3)
    assert ours["extent"]["temporal"] == real["extent"]["temporal"]
    assert (
        ours["providers"][0]["processing:expression"]
        == real["providers"][0]["processing:expression"]
    )
    assert "title" not in ours  # a finished job without title: none, as Copernicus


def test_unfinished_job_is_a_collection_with_its_status_and_no_assets(tmp_path: Path) -> None:
    job = _job({}, (), status="queued")
    links = ResultLinks(secret=b"0" * 32, ttl=60)
    ours = result_collection(job, base_url="http://127.0.0.1:1", links=links, result_dir=tmp_path)
    assert ours["openeo:status"] == "running" and ours["assets"] == {}
    assert ours["extent"]["spatial"]["bbox"] == [[-180.0, -90.0, 180.0, 90.0]]
    assert ours["title"] == f"Unfinished batch job {job.id}"


def test_a_time_series_asset_has_what_the_run_recorded_and_gdal_statistics_for_netcdf(
    tmp_path: Path,
) -> None:
    series = two_band_series()
    recorded = {}
    for layout in ("JSON", "netCDF"):
        file = write_vector_cube(series, layout, tmp_path / layout)
        recorded[shutil.move(file, tmp_path / file.name).name] = vector_asset_fields(series, layout)
    job = _job({}, tuple(recorded), assets=recorded)
    links = ResultLinks(secret=b"0" * 32, ttl=60)
    ours = result_collection(job, base_url="http://127.0.0.1:1", links=links, result_dir=tmp_path)
    json_asset, netcdf_asset = (ours["assets"][name] for name in recorded)
    assert json_asset["eo:bands"] == recorded["timeseries.json"]["eo:bands"]
    assert json_asset["raster:bands"] == recorded["timeseries.json"]["raster:bands"]
    # netCDF: GDAL's statistics of the file replace the run's, as on Copernicus
    assert [band["name"] for band in netcdf_asset["raster:bands"]] == ["B04", "B08"]
    assert netcdf_asset["eo:bands"] == json_asset["eo:bands"]
