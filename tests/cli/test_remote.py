"""RemoteBackend against real HTTP servers on 127.0.0.1 and the unchanged openeo client.

``ScriptedBackend`` is a tiny openEO-speaking server (stdlib http.server) that plays a
scripted batch-job life cycle: job states, dropped connections and 503s while polling,
failed jobs with logs, rejected credentials. It stands in for Copernicus, which cannot
be reached here.
"""

from __future__ import annotations

import base64
import io
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.base import Backend
from hybrid.backends.names import COPERNICUS_URL
from hybrid.backends.remote import RemoteBackend, RemoteSettings, resolve_url
from hybrid.cli import main
from hybrid.comparison import compare
from hybrid.errors import AuthenticationError, RemoteBackendError, UsageError
from hybrid.io.gtiff import write_gtiff
from hybrid.io.netcdf import write_netcdf
from hybrid.io.reader import open_result
from hybrid.testing import synthetic_result
from hybrid.workflow_graph import graph_hash

GRAPH = {
    "load1": {
        "process_id": "load_collection",
        "arguments": {"id": "SENTINEL2_L2A", "spatial_extent": None, "temporal_extent": None},
    },
    "save1": {
        "process_id": "save_result",
        "arguments": {"data": {"from_node": "load1"}, "format": "netCDF"},
        "result": True,
    },
}


@dataclass
class Script:
    """What the server answers; counters of what the client did."""

    statuses: list[str] = field(default_factory=lambda: ["queued", "running", "finished"])
    drop_polls: set[int] = field(default_factory=set)
    unavailable_polls: set[int] = field(default_factory=set)
    logs: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=lambda: {"alice": "s3cret"})
    assets: dict[str, bytes] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: int = 0
    started: int = 0
    polls: int = 0
    requests: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    script: Script
    base: str

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(status, {"code": code, "message": message})

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer basic//token-") and header[20:] in self.script.users:
            return True
        self._error(401, "AuthenticationRequired", "Unauthorized.")
        return False

    def do_HEAD(self) -> None:
        self._send(405)

    def do_GET(self) -> None:
        s = self.script
        path = self.path.split("?")[0].rstrip("/")
        s.requests.append(f"GET {path}")
        if path == "":
            endpoints = [
                {"path": "/credentials/basic", "methods": ["GET"]},
                {"path": "/jobs", "methods": ["GET", "POST"]},
                {"path": "/jobs/{job_id}", "methods": ["GET", "DELETE", "PATCH"]},
                {"path": "/jobs/{job_id}/results", "methods": ["GET", "POST"]},
                {"path": "/jobs/{job_id}/logs", "methods": ["GET"]},
            ]
            return self._send(
                200,
                {
                    "api_version": "1.2.0",
                    "backend_version": "scripted",
                    "stac_version": "1.0.0",
                    "id": "scripted",
                    "title": "scripted openEO",
                    "description": "test double",
                    "endpoints": endpoints,
                    "links": [],
                },
            )
        if path == "/credentials/basic":
            user, _, password = (
                base64.b64decode(self.headers.get("Authorization", "Basic ")[6:] or b"")
                .decode()
                .partition(":")
            )
            if s.users.get(user) != password or not user:
                return self._error(403, "CredentialsInvalid", "Credentials are not correct.")
            return self._send(200, {"access_token": f"token-{user}"})
        if path == "/credentials/oidc":
            return self._send(200, {"providers": []})
        if path.startswith("/download/"):
            name = path.rsplit("/", 1)[1]
            data = s.assets[name]
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return None
        if not self._authorised():
            return None
        parts = path.split("/")
        job = s.jobs.get(parts[2]) if len(parts) > 2 else None
        if job is None:
            return self._error(404, "JobNotFound", "The batch job does not exist.")
        if len(parts) == 3:
            s.polls += 1
            if s.polls in s.drop_polls:
                self.close_connection = True
                return None  # the connection closes without an answer
            if s.polls in s.unavailable_polls:
                return self._error(503, "ServiceUnavailable", "Try again later.")
            if job["status"] not in ("created", "finished", "error"):
                job["status"] = s.statuses.pop(0) if len(s.statuses) > 1 else s.statuses[0]
            return self._send(200, {k: v for k, v in job.items() if k != "id"} | {"id": parts[2]})
        if parts[3] == "logs":
            return self._send(200, {"logs": s.logs, "links": []})
        if parts[3] == "results":
            assets = {
                name: {"href": f"{self.base}/download/{name}", "roles": ["data"]}
                for name in s.assets
            }
            return self._send(
                200,
                {
                    "stac_version": "1.0.0",
                    "id": parts[2],
                    "type": "Feature",
                    "geometry": None,
                    "properties": {"datetime": None},
                    "assets": assets,
                    "links": [],
                },
            )
        return self._error(404, "NotFound", path)

    def do_POST(self) -> None:
        s = self.script
        path = self.path.rstrip("/")
        s.requests.append(f"POST {path}")
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)) or 0)
        if not self._authorised():
            return None
        if path == "/jobs":
            s.created += 1
            job_id = f"j-{s.created}"
            s.jobs[job_id] = {"status": "created", "process": json.loads(body)["process"]}
            return self._send(
                201, headers={"OpenEO-Identifier": job_id, "Location": f"{self.base}/jobs/{job_id}"}
            )
        parts = path.split("/")
        if len(parts) == 4 and parts[3] == "results" and parts[2] in s.jobs:
            s.started += 1
            s.jobs[parts[2]]["status"] = "queued"
            return self._send(202)
        return self._error(404, "NotFound", path)


@pytest.fixture(autouse=True)
def isolated_openeo_config(tmp_path, monkeypatch):
    """Keep the openeo client away from real user config, tokens and credentials."""
    for var in ("OPENEO_CONFIG_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        (tmp_path / var).mkdir()
        monkeypatch.setenv(var, str(tmp_path / var))
    for var in (
        "OPENEO_AUTH_METHOD",
        "OPENEO_AUTH_CLIENT_ID",
        "OPENEO_AUTH_CLIENT_SECRET",
        "OPENEO_AUTH_PROVIDER_ID",
        "OPENEO_AUTH_USERNAME",
        "OPENEO_AUTH_PASSWORD",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[str, Script]]:
    script = Script()
    nc = write_netcdf(synthetic_result(), tmp_path / "asset.nc")
    script.assets["openEO.nc"] = nc.read_bytes()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    handler = type("Handler", (_Handler,), {"script": script, "base": url})
    httpd.RequestHandlerClass = handler
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield url, script
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def alice(monkeypatch):
    monkeypatch.setenv("OPENEO_AUTH_USERNAME", "alice")
    monkeypatch.setenv("OPENEO_AUTH_PASSWORD", "s3cret")


def fast(url: str, **options: Any) -> RemoteBackend:
    defaults: dict[str, Any] = {"poll_interval": 0.01, "max_poll_interval": 0.05, "progress": False}
    return RemoteBackend(url, RemoteSettings(**(defaults | options)))


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


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--poll-interval", "nan"], "--poll-interval must be a positive number of seconds"),
        (["--max-poll-interval", "nan"], "--max-poll-interval must be at least --poll-interval"),
        (["--timeout", "nan"], "--timeout must be a positive number of seconds"),
        (["--poll-interval", "-1"], "--poll-interval must be a positive number of seconds"),
        (["--max-poll-interval", "-5"], "--max-poll-interval must be at least --poll-interval"),
        (["--poll-interval", "10", "--max-poll-interval", "5"], "at least --poll-interval (10 s)"),
        (["--max-poll-interval", "inf"], "--max-poll-interval must be at least"),
        (["--timeout", "0"], "--timeout must be a positive number of seconds"),
    ],
)
def test_record_refuses_bad_waits_by_their_names_before_connecting(
    options, expected, tmp_path, capsys
):
    """``--timeout nan`` waited for ever and a NaN poll interval slept NaN seconds (every
    comparison with NaN is false); ``--max-poll-interval -5`` was raised to the poll
    interval silently; the errors named the settings' Python fields, not the options."""
    argv = ["record", "--backend", "http://127.0.0.1:9", "--name", "x"]
    assert main([*argv, "--out-root", str(tmp_path / "rec"), *options]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "127.0.0.1:9" not in err, err
    assert not (tmp_path / "rec").exists()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--poll-interval", "nan"], "--poll-interval must be a positive number of seconds"),
        (["--poll-interval", "10", "--max-poll-interval", "5"], "at least --poll-interval (10 s)"),
    ],
)
def test_run_on_a_remote_backend_takes_the_poll_options_of_record(
    options, expected, tmp_path, capsys
):
    """``hybrid run --backend URL`` polls its job as ``hybrid record`` does, with the same
    options and the same one-line refusals before connecting."""
    argv = ["run", "--backend", "http://127.0.0.1:9", "--out", str(tmp_path / "r.nc")]
    assert main([*argv, *options]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "127.0.0.1:9" not in err, err
    assert not (tmp_path / "r.nc").exists()


def test_record_cli_stores_result_graph_and_provenance(server, alice, tmp_path, capsys):
    url, script = server
    code = main(
        [
            "record",
            "--backend",
            url,
            "--name",
            "seed",
            "--out-root",
            str(tmp_path / "recordings"),
            "--poll-interval",
            "0.01",
            "--start",
            "2023-05-01",
            "--end",
            "2023-06-01",
        ]
    )
    assert code == 0, capsys.readouterr().err
    folder = tmp_path / "recordings" / "seed"
    assert sorted(p.name for p in folder.iterdir()) == [
        "graph.json",
        "provenance.json",
        "result.nc",
    ]
    graph = json.loads((folder / "graph.json").read_text())
    assert script.jobs["j-1"]["process"]["process_graph"] == graph
    provenance = json.loads((folder / "provenance.json").read_text())
    assert provenance["graph_sha256"] == graph_hash(graph)
    assert provenance["workflow"]["start"] == "2023-05-01"
    assert compare(folder / "result.nc", synthetic_result()).equivalent
    # a second recording under the same name is refused (exit 2), --force replaces it
    args = [
        "record",
        "--backend",
        url,
        "--name",
        "seed",
        "--out-root",
        str(tmp_path / "recordings"),
    ]
    assert main([*args, "--poll-interval", "0.01"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_record_cli_failed_job_exits_non_zero(server, alice, tmp_path, capsys):
    url, script = server
    script.statuses = ["error"]
    script.logs = [{"id": "1", "level": "error", "message": "boom"}]
    args = ["record", "--backend", url, "--name", "x", "--out-root", str(tmp_path)]
    assert main([*args, "--poll-interval", "0.01"]) == 1
    err = capsys.readouterr().err
    assert "[error] boom" in err and err.strip().splitlines()[-1].startswith("hybrid: error:")
    assert not (tmp_path / "x" / "result.nc").exists()


@pytest.mark.parametrize("command", ["run", "record"])
def test_every_command_exits_1_on_a_failed_job_and_2_on_rejected_credentials(
    command, server, alice, tmp_path, capsys, monkeypatch
):
    """The README's exit-code table, for both commands that run remotely."""
    url, script = server
    script.statuses = ["error"]
    script.logs = [{"id": "1", "level": "error", "message": "boom"}]
    out = ["--out", str(tmp_path / "r.nc")] if command == "run" else ["--name", "x"]
    args = [command, "--backend", url, *out]
    if command == "record":
        args += ["--out-root", str(tmp_path / "rec"), "--poll-interval", "0.01"]
    assert main(args) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("hybrid: error:")
    monkeypatch.setenv("OPENEO_AUTH_PASSWORD", "wrong")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rejected the basic credentials" in err
    assert not (tmp_path / "r.nc").exists() and not (tmp_path / "rec" / "x").exists()


def test_nan_values_survive_the_round_trip(server, alice, tmp_path):
    url, script = server
    cube = synthetic_result()
    cube[1, 2:4, 2:4] = np.nan
    script.assets["openEO.nc"] = write_netcdf(cube, tmp_path / "masked.nc").read_bytes()
    result = fast(url).execute(GRAPH, out_dir=tmp_path / "out")
    assert compare(result.files[0], cube).equivalent
    assert not compare(result.files[0], synthetic_result()).equivalent
    assert isinstance(Path(result.files[0]), Path)


# --- against the emulator (`hybrid serve`), a real openEO API with a real OIDC provider ----


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> Iterator[str]:
    import os
    import subprocess

    pytest.importorskip("hybrid.server.app", reason="the emulator (hybrid serve) is not there")
    data = tmp_path_factory.mktemp("emulator")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hybrid", "serve", "--port", "0", "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=data,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on" not in line:
            proc.kill()
            pytest.fail(
                f"hybrid serve did not start: {line}{proc.stderr.read() if proc.stderr else ''}"
            )
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_emulator_client_credentials_and_failed_job_logs(emulator, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OPENEO_AUTH_METHOD", "client_credentials")
    monkeypatch.setenv("OPENEO_AUTH_CLIENT_ID", "hybrid-ci")
    monkeypatch.setenv("OPENEO_AUTH_CLIENT_SECRET", "hybrid-ci-secret")
    backend = fast(emulator, max_poll_interval=0.2)
    assert backend.availability() is None
    # valid when created (bounded), fails when it runs: the sample has no 1990 scenes
    bounded = {"west": 6.654, "south": 45.226, "east": 6.675, "north": 45.264}
    failing = json.loads(json.dumps(GRAPH))
    failing["load1"]["arguments"].update(
        spatial_extent=bounded, temporal_extent=["1990-01-01", "1990-02-01"]
    )
    with pytest.raises(RemoteBackendError, match="no data available") as info:
        backend.execute(failing, out_dir=tmp_path / "out")
    assert "ended with status 'error'" in str(info.value)
    assert "[error]" in capsys.readouterr().err


def test_emulator_rejects_wrong_credentials(emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENEO_AUTH_USERNAME", "hybrid")
    monkeypatch.setenv("OPENEO_AUTH_PASSWORD", "not-the-password")
    with pytest.raises(AuthenticationError, match="rejected the basic credentials"):
        fast(emulator).execute(GRAPH, out_dir=tmp_path / "out")
    monkeypatch.setenv("OPENEO_AUTH_METHOD", "client_credentials")
    monkeypatch.setenv("OPENEO_AUTH_CLIENT_ID", "hybrid-ci")
    monkeypatch.setenv("OPENEO_AUTH_CLIENT_SECRET", "wrong-secret")
    with pytest.raises(AuthenticationError, match="rejected the client_credentials"):
        fast(emulator, auth="client_credentials").execute(GRAPH, out_dir=tmp_path / "out")


@pytest.mark.slow
def test_emulator_seed_graph_equals_the_local_backend(emulator, emulator_user, tmp_path):
    sample = pytest.importorskip("hybrid.sample")
    if not hasattr(sample, "SEED_AOI"):
        pytest.skip("hybrid.sample has no seed workflow yet")
    from hybrid.backends.local import LocalBackend
    from hybrid.cli import build_parser
    from hybrid.cli.options import workflow_from_args
    from hybrid.workflow_graph import build_graph

    args = build_parser().parse_args(["record", "--backend", emulator, "--name", "seed"])
    graph = build_graph(workflow_from_args(args))
    remote = fast(emulator, max_poll_interval=1.0, timeout=600).execute(
        graph, out_dir=tmp_path / "remote"
    )
    local = LocalBackend().execute(graph, out_dir=tmp_path / "local")
    report = compare(remote.files[0], local.files[0])
    assert report.equivalent, report.summary()
    assert remote.provenance["graph_sha256"] == graph_hash(graph)


@pytest.fixture
def emulator_user(monkeypatch):
    """The emulator's default user (``hybrid serve`` without --users)."""
    monkeypatch.setenv("OPENEO_AUTH_USERNAME", "hybrid")
    monkeypatch.setenv("OPENEO_AUTH_PASSWORD", "hybrid")
