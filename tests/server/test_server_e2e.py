"""``hybrid serve`` end to end: the real server process, the unchanged openeo client.

The server runs as ``python -m hybrid serve --port 0`` (its URL read from the line it
prints) over the real local engine; the user's script is the one a Copernicus user
writes. Its NetCDF must equal ``LocalBackend.execute`` run in this process on the same
graph.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
import xarray as xr

from tests.server_helpers import ServeProcess, flat_graph, ndvi_cube, openeo_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[ServeProcess]:
    data_dir = tmp_path_factory.mktemp("serve") / "data"
    with ServeProcess(data_dir=data_dir, stac=sample_catalog, workers=2) as server:
        yield server


@pytest.fixture
def client_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the openeo client's config and refresh tokens in a fresh folder."""
    for key, value in openeo_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    for key in (
        "OPENEO_AUTH_METHOD",
        "OPENEO_AUTH_CLIENT_ID",
        "OPENEO_AUTH_CLIENT_SECRET",
        "OPENEO_AUTH_PROVIDER_ID",
    ):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


@pytest.fixture(scope="module")
def reference(
    tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path, serve: ServeProcess
) -> xr.Dataset:
    """The same graph through ``LocalBackend.execute`` in this process."""
    import openeo

    from hybrid.backends.local import LocalBackend, LocalSettings

    graph = flat_graph(ndvi_cube(openeo.connect(serve.url)))
    out_dir = tmp_path_factory.mktemp("reference")
    result = LocalBackend(LocalSettings(stac=str(sample_catalog))).execute(graph, out_dir=out_dir)
    (path,) = result.files
    with xr.open_dataset(path, engine="h5netcdf") as dataset:
        return dataset.load()


def assert_same_result(path: Path, reference: xr.Dataset) -> None:
    with xr.open_dataset(path, engine="h5netcdf") as got:
        got = got.load()
    assert sorted(got.data_vars) == sorted(reference.data_vars)
    for name in reference.data_vars:
        assert got[name].dims == reference[name].dims
        np.testing.assert_array_equal(got[name].values, reference[name].values)
    for coord in ("t", "x", "y"):
        np.testing.assert_array_equal(got[coord].values, reference[coord].values)
    assert np.isfinite(got["var"].values).any()


def test_user_script_with_oidc_device_flow_and_batch_job(
    serve: ServeProcess,
    client_env: Path,
    reference: xr.Dataset,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import openeo

    connection = openeo.connect(serve.url)
    connection.authenticate_oidc()
    assert "Authenticated using device code flow." in capsys.readouterr().out
    metadata = connection.describe_collection("SENTINEL2_L2A")
    assert "SCL" in [b["name"] for b in metadata["summaries"]["eo:bands"]]
    cube = ndvi_cube(connection)
    job = cube.execute_batch(tmp_path / "batch.nc", out_format="netCDF")
    assert job.status() == "finished"
    assert_same_result(tmp_path / "batch.nc", reference)
    assert job.job_id in [j["id"] for j in connection.list_jobs()]
    assert connection.describe_account()["user_id"] == "hybrid"

    # the refresh token the client stored logs in again without the device flow
    again = openeo.connect(serve.url).authenticate_oidc()
    assert "Authenticated using refresh token." in capsys.readouterr().out
    assert again.describe_account()["user_id"] == "hybrid"


def test_user_script_synchronous_download_with_basic_auth(
    serve: ServeProcess, client_env: Path, reference: xr.Dataset, tmp_path: Path
) -> None:
    import openeo

    connection = openeo.connect(serve.url).authenticate_basic("hybrid", "hybrid")
    ndvi_cube(connection).download(tmp_path / "sync.nc", format="netCDF")
    assert_same_result(tmp_path / "sync.nc", reference)


def test_client_credentials_from_the_environment(
    serve: ServeProcess, client_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openeo

    monkeypatch.setenv("OPENEO_AUTH_METHOD", "client_credentials")
    monkeypatch.setenv("OPENEO_AUTH_CLIENT_ID", "hybrid-ci")
    monkeypatch.setenv("OPENEO_AUTH_CLIENT_SECRET", "hybrid-ci-secret")
    monkeypatch.setenv("OPENEO_AUTH_PROVIDER_ID", "local")
    connection = openeo.connect(serve.url).authenticate_oidc()
    assert connection.describe_account()["user_id"] == "hybrid"

    monkeypatch.setenv("OPENEO_AUTH_CLIENT_SECRET", "wrong")
    with pytest.raises(Exception, match="invalid_client"):
        openeo.connect(serve.url).authenticate_oidc()


def test_restart_while_jobs_are_running_and_queued(
    tmp_path: Path, sample_catalog: Path, client_env: Path
) -> None:
    import openeo

    data_dir = tmp_path / "data"
    first = ServeProcess(data_dir=data_dir, stac=sample_catalog, workers=1).start()
    try:
        connection = openeo.connect(first.url).authenticate_basic("hybrid", "hybrid")
        jobs = [ndvi_cube(connection).create_job(out_format="netCDF") for _ in range(2)]
        for job in jobs:
            job.start()
        deadline = time.monotonic() + 30
        while jobs[0].status() == "queued" and time.monotonic() < deadline:
            time.sleep(0.05)
        statuses = {job.job_id: job.status() for job in jobs}
    finally:
        started = time.monotonic()
        code = first.stop(sig=signal.SIGTERM)
    assert code == 0 and time.monotonic() - started < 15, first.stderr()
    assert "hybrid serve: stopped" in first.stderr()
    interrupted = [job_id for job_id, status in statuses.items() if status != "finished"]
    assert interrupted and statuses[jobs[-1].job_id] == "queued", statuses  # one worker

    with ServeProcess(data_dir=data_dir, stac=sample_catalog, workers=1) as second:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {connection.auth.bearer}"  # still valid
        final = {}
        deadline = time.monotonic() + 60
        for job_id in statuses:
            while time.monotonic() < deadline:
                status = session.get(f"{second.url}/jobs/{job_id}").json()["status"]
                if status not in ("queued", "running"):
                    break
                time.sleep(0.2)
            final[job_id] = status
        assert set(final.values()) == {"finished"}, final
        for job_id in interrupted:
            logs = session.get(f"{second.url}/jobs/{job_id}/logs").json()["logs"]
            assert any("restart" in e["message"] for e in logs), logs
