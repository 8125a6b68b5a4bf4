"""A batch job's options, checked when it starts as Copernicus checks them, through the
real openeo client against the emulator over HTTP (``hybrid.server.job_options``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openeo.rest import OpenEoApiError

from hybrid.server.job_options import check_job_options
from hybrid.server.jobs import JobStore
from tests.server_helpers import local_connection, ndvi_graph

#: a small box of the embedded sample and one week: a cheap job
_BOX = {"west": 6.660, "south": 45.240, "east": 6.662, "north": 45.242}
_GRAPH = ndvi_graph(_BOX, ["2023-06-01", "2023-06-08"])


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[Any]:
    with local_connection(tmp_path_factory.mktemp("options"), sample_catalog) as connected:
        yield connected


@pytest.mark.parametrize(
    ("options", "code", "message"),
    [
        ({"executor-cores": 8}, "Internal", "Requested too many executor cores: 8 , the max"),
        ({"driver-cores": "5"}, "Internal", "Requested too many driver cores: 5 , the max"),
        ({"stac-version": "1.2"}, "InvalidStacVersion", "Invalid stac-version in batch job"),
        ({"soft-errors": "0.5"}, "Internal", "invalid value 0.5 for job_option soft-errors"),
        ({"soft-errors": 2}, "Internal", "invalid value 2 for job_option soft-errors"),
        ({"openeo-jar-path": "https://example.com/x.jar"}, "Internal", "Requested invalid"),
        ({"executor-cores": "many"}, "BadRequest", "Job option executor-cores must be a whole"),
    ],
)
def test_options_copernicus_refuses_fail_the_start_not_the_creation(
    connection: Any, options: dict[str, Any], code: str, message: str
) -> None:
    """Copernicus creates the job and answers its start with a 400 (geopyspark-driver
    9baf2e10 ``backend.py`` L1962-1967 ``K8SOptions.validate``, L2182 ``soft_errors_arg``);
    the job stays ``created``. Before, every option was accepted and the job ran."""
    job = connection.create_job(_GRAPH, job_options=options)
    with pytest.raises(OpenEoApiError) as raised:
        job.start()
    assert (raised.value.http_status_code, raised.value.code) == (400, code)
    assert raised.value.message.startswith(message)
    assert job.status() == "created"
    job.delete()


def test_top_level_properties_are_job_options(connection: Any) -> None:
    """Without ``job_options``, the body's other top-level properties are the options, as
    Copernicus reads them (python-driver 9e5b49b2 ``views.py`` L645-658, L920-921)."""
    body = {"process": {"process_graph": _GRAPH}, "title": "t", "executor-cores": 16}
    created = connection.post("/jobs", json=body, expected_status=201)
    job = connection.job(created.headers["OpenEO-Identifier"])
    with pytest.raises(OpenEoApiError, match="too many executor cores: 16"):
        job.start()
    job.delete()


def test_options_copernicus_accepts_start_the_job(connection: Any) -> None:
    options = {
        "executor-cores": 4,
        "driver-memory": "4g",
        "executor-memory": "3G",
        "stac-version": "1.1",
        "log_level": "Warning",
        "soft-errors": 0.1,
        "image-name": "python311",
        "some-option-of-another-backend": [1, 2],
    }
    job = connection.create_job(_GRAPH, job_options=options)
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    assert job.status() == "finished"


@pytest.mark.parametrize("options", [{"log_level": "verbose"}, {"logging-threshold": "trace"}])
def test_a_log_level_option_is_the_jobs_own_and_never_refused(
    connection: Any, options: dict[str, Any]
) -> None:
    """Copernicus replaces a ``log_level`` option with the job's own ``log_level`` (its
    default, info, here) when it creates the job (geopyspark-driver 9baf2e10
    ``backend.py`` L1577-1584; python-driver ``views.py`` L931), and ``from_dict`` then
    ignores ``logging-threshold`` (``job_options.py`` L257-258): ``validate`` never sees
    these values and the job starts."""
    job = connection.create_job(_GRAPH, job_options=options)
    job.start_and_wait(max_poll_interval=0.2, show_error_logs=False)
    assert job.status() == "finished"
    job.delete()


def test_a_data_folder_of_an_earlier_version_gets_the_options_column(tmp_path: Path) -> None:
    """A data folder of an earlier version (no ``job_options`` column) gets the column;
    its jobs have no options (which ``check_job_options`` accepts), new jobs keep theirs."""
    import sqlite3

    path = tmp_path / "jobs.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE jobs (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, title TEXT, "
        "description TEXT, process TEXT NOT NULL, status TEXT NOT NULL, progress REAL, "
        "created TEXT NOT NULL, updated TEXT NOT NULL, plan TEXT, budget REAL, log_level "
        "TEXT NOT NULL DEFAULT 'info', attempts INTEGER NOT NULL DEFAULT 0, error_code TEXT, "
        "error_message TEXT, error_node TEXT, files TEXT NOT NULL DEFAULT '[]', provenance "
        "TEXT NOT NULL DEFAULT '{}')"
    )
    db.execute(
        "INSERT INTO jobs (id, user_id, process, status, created, updated) VALUES "
        "('j-old', 'u', '{}', 'created', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
    )
    db.commit()
    db.close()
    store = JobStore(path)
    try:
        assert store.get("j-old").job_options is None
        check_job_options(store.get("j-old").job_options)  # starts: nothing to refuse
        created = store.create(user_id="u", process={}, job_options={"soft-errors": True})
        assert store.get(created.id).job_options == {"soft-errors": True}
    finally:
        store.close()


def test_options_that_are_not_an_object_are_a_bad_request(connection: Any) -> None:
    body = {"process": {"process_graph": _GRAPH}, "job_options": ["executor-cores", 8]}
    created = connection.post("/jobs", json=body, expected_status=201)
    job = connection.job(created.headers["OpenEO-Identifier"])
    with pytest.raises(OpenEoApiError) as raised:
        job.start()
    assert (raised.value.http_status_code, raised.value.code) == (400, "BadRequest")
    assert "job_options must be an object" in raised.value.message


@pytest.mark.parametrize(
    ("options", "flags", "empty"),
    [
        ({}, None, False),
        ({"allow_empty_cubes": True}, None, True),
        ({"allow_empty_cubes": False}, None, False),
        # the load's own featureflag wins over the job's option, either way
        ({"allow_empty_cubes": True}, {"allow_empty_cube": False}, False),
        ({"allow_empty_cubes": False}, {"allow_empty_cube": True}, True),
    ],
)
def test_the_allow_empty_cubes_option_lets_a_load_find_nothing(
    connection: Any, tmp_path: Path, options: dict[str, Any], flags: Any, empty: bool
) -> None:
    """A load_stac finding no item is NoDataAvailable unless the job's option
    ``allow_empty_cubes`` (or the load's own ``featureflags`` ``allow_empty_cube``,
    which wins) allows an empty cube: Copernicus's batch job hands that option to the
    evaluation (geopyspark-driver 9baf2e10 ``deploy/batch_job.py`` L348-356) and
    load_stac reads ``feature_flags.get("allow_empty_cube", env.get(ALLOW_EMPTY_CUBES,
    False))`` (``load_stac.py`` L212, L268-269; ``datacube_parameters.py`` L38-40).
    Before, the option was stored and never read."""

    import numpy as np

    from tests.user_stac import write_user_collection

    url = write_user_collection(tmp_path / "stac", np.ones((8, 8), np.uint16))
    elsewhere = {"west": 5.0, "south": 50.0, "east": 5.01, "north": 50.01}
    arguments: dict[str, Any] = {"url": str(url), "spatial_extent": elsewhere, "bands": ["v"]}
    if flags is not None:
        arguments["featureflags"] = flags
    graph = {
        "load": {"process_id": "load_stac", "arguments": arguments},
        "save": {"process_id": "save_result", "result": True,
                 "arguments": {"data": {"from_node": "load"}, "format": "netCDF"}},
    }  # fmt: skip
    _assert_empty_cube_or_no_data(connection, graph, options, ["v"], tmp_path, empty=empty)


@pytest.mark.parametrize("options", [{}, {"allow_empty_cubes": True}])
def test_the_allow_empty_cubes_option_applies_to_load_collection(
    connection: Any, tmp_path: Path, options: dict[str, Any]
) -> None:
    """SENTINEL2_L2A finding no scene: NoDataAvailable, or with the option a cube of the
    asked bands without dates (Copernicus loads the collection through load_stac,
    whose ``allow_empty_cubes`` reading is the one above: layercatalog.py L69 hands the
    option on, load_stac.py L212, L816-822). Before, load_collection ignored it."""

    graph = {
        "load": {"process_id": "load_collection", "arguments": {
            "id": "SENTINEL2_L2A", "spatial_extent": _BOX, "bands": ["B04", "B08"],
            "temporal_extent": ["2019-01-01", "2019-01-05"]}},
        "save": {"process_id": "save_result", "result": True,
                 "arguments": {"data": {"from_node": "load"}, "format": "netCDF"}},
    }  # fmt: skip
    bands = ["B04", "B08"]
    _assert_empty_cube_or_no_data(connection, graph, options, bands, tmp_path, empty=bool(options))


def _assert_empty_cube_or_no_data(
    connection: Any,
    graph: dict[str, Any],
    options: dict[str, Any],
    bands: list[str],
    tmp_path: Path,
    *,
    empty: bool,
) -> None:
    """Run ``graph`` as a batch job with ``options``: it fails with NoDataAvailable, or
    (``empty``) writes a netCDF of ``bands`` without dates."""
    import time

    import xarray as xr

    job = connection.create_job(graph, job_options=options)
    job.start()
    status = job.status()
    while status in ("created", "queued", "running"):
        time.sleep(0.1)
        status = job.status()
    if not empty:
        assert status == "error"
        assert "NoDataAvailable" in str([e.get("code") for e in job.logs(level="error")])
        return
    assert status == "finished", job.logs(level="error")
    files = job.get_results().download_files(tmp_path / "out")
    (path,) = [f for f in files if f.suffix == ".nc"]
    with xr.open_dataset(path) as ds:
        assert ds.sizes["t"] == 0 and set(bands) <= set(ds.data_vars)
