"""RemoteBackend's batch jobs against a scripted openEO server on 127.0.0.1 and the
unchanged openeo client: polling through faults, failed jobs, credentials, resuming, assets
(the server: tests/cli/scripted_backend.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.base import Backend
from hybrid.backends.names import COPERNICUS_URL
from hybrid.backends.remote import RemoteBackend, RemoteSettings, resolve_url
from hybrid.comparison import compare
from hybrid.errors import AuthenticationError, RemoteBackendError, UsageError
from hybrid.io.gtiff import write_gtiff
from hybrid.io.netcdf import write_netcdf
from hybrid.io.reader import open_result
from hybrid.testing import synthetic_result
from hybrid.workflow_graph import graph_hash
from tests.cli.scripted_backend import (
    GRAPH,
    fast,
    isolated_openeo_config,  # noqa: F401 (autouse)
)


def test_execute_runs_one_job_and_keeps_the_result_with_provenance(server, alice, tmp_path):
    url, script = server
    backend = fast(url)
    assert isinstance(backend, Backend)
    result = backend.execute(GRAPH, out_dir=tmp_path / "out")
    assert result.files == (tmp_path / "out" / "openEO.nc",)
    assert script.created == 1 and script.started == 1
    assert script.jobs["j-1"]["process"]["process_graph"] == GRAPH
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["openEO.nc"]
    assert compare(result.files[0], synthetic_result()).equivalent
    prov = result.provenance
    assert prov["job_id"] == "j-1" and prov["backend_url"] == url
    assert prov["graph_sha256"] == graph_hash(GRAPH)
    assert set(prov["timings"]) >= {"queued_s", "running_s", "download_s", "total_s"}
    assert prov["versions"]["openeo"].startswith("0.")
    with xr.open_dataset(result.files[0], engine="h5netcdf") as ds:
        assert ds.attrs["hybrid_job_id"] == "j-1"
        assert ds.attrs["hybrid_graph_sha256"] == graph_hash(GRAPH)
        assert json.loads(ds.attrs["hybrid_timings"])["total_s"] >= 0
        assert ds["var"].attrs["grid_mapping"] == "crs"


def test_dropped_connections_and_503_while_polling_never_create_a_second_job(
    server, alice, tmp_path, capsys
):
    url, script = server
    script.statuses = ["queued", "queued", "running", "running", "finished"]
    script.drop_polls = {1, 3, 4}
    script.unavailable_polls = {2, 6}
    result = fast(url, progress=True).execute(GRAPH, out_dir=tmp_path / "out")
    assert result.files[0].exists()
    assert script.created == 1 and script.started == 1
    assert script.requests.count("POST /jobs") == 1
    assert script.polls >= 10
    err = capsys.readouterr().err
    assert "retrying" in err and "job j-1 created" in err


def test_too_many_transient_errors_give_up_with_the_job_id(server, alice, tmp_path):
    url, script = server
    script.drop_polls = set(range(1, 100))
    with pytest.raises(RemoteBackendError, match="poll job j-1") as info:
        fast(url, max_transient_errors=3).execute(GRAPH, out_dir=tmp_path / "out")
    assert "ConnectionError" in str(info.value)
    assert script.created == 1


def test_failed_job_shows_its_logs(server, alice, tmp_path, capsys):
    url, script = server
    script.statuses = ["queued", "error"]
    script.logs = [
        {"id": "1", "level": "info", "message": "loading"},
        {"id": "2", "level": "error", "message": "NoDataAvailable: no scene in the extent"},
    ]
    with pytest.raises(RemoteBackendError, match="no scene in the extent") as info:
        fast(url).execute(GRAPH, out_dir=tmp_path / "out")
    assert info.value.exit_code != 0
    assert "[error] NoDataAvailable: no scene in the extent" in capsys.readouterr().err
    assert not (tmp_path / "out" / "openEO.nc").exists()


def test_wrong_credentials(server, monkeypatch, tmp_path):
    url, script = server
    monkeypatch.setenv("OPENEO_AUTH_USERNAME", "alice")
    monkeypatch.setenv("OPENEO_AUTH_PASSWORD", "wrong")
    with pytest.raises(AuthenticationError, match="rejected the basic credentials") as info:
        fast(url).execute(GRAPH, out_dir=tmp_path / "out")
    assert "CredentialsInvalid" in str(info.value)
    assert script.created == 0


def test_no_credentials_says_how_to_provide_them(server, tmp_path):
    url, script = server
    backend = fast(url)
    with pytest.raises(AuthenticationError, match="OPENEO_AUTH_CLIENT_ID") as info:
        backend.execute(GRAPH, out_dir=tmp_path / "out")
    assert info.value.exit_code == 2 and "\n" not in str(info.value)
    assert backend.availability() is not None and "no credentials" in backend.availability()
    assert script.created == 0


def test_resume_fetches_a_job_that_already_ran(server, alice, tmp_path):
    url, script = server
    script.jobs["j-old"] = {"status": "finished", "process": {"process_graph": GRAPH}}
    result = fast(url).resume("j-old", out_dir=tmp_path / "out")
    assert script.created == 0 and script.started == 0
    assert result.provenance["job_id"] == "j-old"
    assert result.provenance["graph_sha256"] == graph_hash(GRAPH)
    assert open_result(result.files[0]).sizes["t"] == 3


def test_timeout_leaves_the_job_running_and_says_how_to_resume(server, alice, tmp_path):
    url, script = server
    script.statuses = ["running"]
    with pytest.raises(RemoteBackendError, match="adding --resume j-1 to the same command"):
        fast(url, timeout=0.2).execute(GRAPH, out_dir=tmp_path / "out")


def test_gtiff_assets_are_kept_with_provenance(server, alice, tmp_path):
    url, script = server
    files = write_gtiff(synthetic_result(), tmp_path / "tifs")
    script.assets = {f.name: f.read_bytes() for f in files}
    result = fast(url).execute(GRAPH, out_dir=tmp_path / "out")
    assert [f.name for f in result.files] == [f.name for f in files]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f.name for f in files]
    assert open_result(tmp_path / "out").attrs["hybrid_job_id"] == "j-1"
    assert compare(tmp_path / "out", synthetic_result()).equivalent


def test_availability(server, alice):
    url, _script = server
    assert fast(url).availability() is None
    assert "cannot reach" in (fast("http://127.0.0.1:9").availability() or "")


def test_names_and_hash():
    assert resolve_url("copernicus") == COPERNICUS_URL == "https://openeo.dataspace.copernicus.eu"
    assert RemoteBackend("copernicus").name == "copernicus"
    assert RemoteBackend("http://127.0.0.1:1/").url == "http://127.0.0.1:1"
    with pytest.raises(UsageError):
        resolve_url("nowhere")
    with pytest.raises(UsageError):
        RemoteBackend("copernicus", RemoteSettings(auth="password"))
    reordered = {k: GRAPH[k] for k in reversed(GRAPH)}
    assert graph_hash(reordered) == graph_hash(GRAPH)
    assert len(graph_hash(GRAPH)) == 64
    from hybrid.workflow_graph import graph_hash as lead_hash

    assert graph_hash(GRAPH) == lead_hash(GRAPH)


def test_nan_values_survive_the_round_trip(server, alice, tmp_path):
    url, script = server
    cube = synthetic_result()
    cube[1, 2:4, 2:4] = np.nan
    script.assets["openEO.nc"] = write_netcdf(cube, tmp_path / "masked.nc").read_bytes()
    result = fast(url).execute(GRAPH, out_dir=tmp_path / "out")
    assert compare(result.files[0], cube).equivalent
    assert not compare(result.files[0], synthetic_result()).equivalent
    assert isinstance(Path(result.files[0]), Path)
