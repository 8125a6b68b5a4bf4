"""``ScriptedBackend``: a tiny openEO-speaking server (stdlib http.server) on 127.0.0.1
that plays a scripted batch-job life cycle: job states, dropped connections and 503s while
polling, failed jobs with logs, rejected credentials. It stands in for Copernicus, which
cannot be reached here.
"""

from __future__ import annotations

import base64
import io
import json
import sys
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from hybrid.backends.remote import RemoteBackend, RemoteSettings

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


def fast(url: str, **options: Any) -> RemoteBackend:
    defaults: dict[str, Any] = {"poll_interval": 0.01, "max_poll_interval": 0.05, "progress": False}
    return RemoteBackend(url, RemoteSettings(**(defaults | options)))
