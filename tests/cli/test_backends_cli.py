"""``hybrid backends`` and ``hybrid describe``, offline: a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from hybrid.cli import main
from hybrid.cli.backends import remote_status
from hybrid.collection import sentinel2_l2a
from tests.stac_fixtures import serving

CAPABILITIES = {
    "api_version": "1.2.0",
    "backend_version": "0.0.1",
    "stac_version": "1.0.0",
    "id": "stub",
    "title": "stub openEO backend",
    "description": "a stub for the tests",
    "endpoints": [
        {"path": "/collections", "methods": ["GET"]},
        {"path": "/collections/{collection_id}", "methods": ["GET"]},
    ],
    "links": [],
}


class _Handler(BaseHTTPRequestHandler):
    def _answer(self, body: bytes | None) -> None:
        path = self.path.split("?")[0].rstrip("/") or "/"
        if path == "/":
            status, doc = 200, CAPABILITIES
        elif path == "/collections/SENTINEL2_L2A":
            status, doc = 200, {**sentinel2_l2a(), "title": "Sentinel-2 L2A (stub)"}
        else:
            status = 404
            doc = {"code": "NotFound", "message": f"{path} does not exist", "id": "x"}
        payload = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body is None:
            self.wfile.write(payload)

    def do_GET(self) -> None:
        self._answer(None)

    def do_HEAD(self) -> None:
        self._answer(b"")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with serving(_Handler) as url:
        yield url


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_backends_offline_lists_local_and_copernicus(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backends", "--offline"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[1].startswith("local") and " yes " in lines[1]
    assert lines[2].startswith("copernicus") and "not checked" in lines[2]
    assert "https://openeo.dataspace.copernicus.eu" in lines[2]


def test_backends_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backends", "--offline", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["local", "copernicus"]
    assert rows[0]["available"] is True and rows[1]["available"] is None


def test_remote_check_reaches_a_server_and_reports_a_closed_port(
    stub_url: str, closed_port_url: str
) -> None:
    up = remote_status("url", stub_url)
    assert up.available is True and "HTTP 200" in up.detail
    down = remote_status("url", closed_port_url, timeout=2.0)
    assert down.available is False and "unreachable" in down.detail


def test_backends_checks_given_urls(stub_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # offline: listed, not contacted (checking would also contact Copernicus)
    assert main(["backends", "--offline", stub_url + "/"]) == 0
    last = capsys.readouterr().out.splitlines()[3]
    assert last.startswith("url") and stub_url in last and "not checked" in last
    assert main(["backends", "--offline", "ftp://x"]) == 2
    assert "not an openEO URL" in capsys.readouterr().err


def test_describe_local_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("SENTINEL2_L2A on the local backend")
    assert "B04" in text and "red" in text and "10 m" in text and "SCL" in text
    assert "2015-07-04 .. open" in text
    assert main(["describe", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == sentinel2_l2a()


def test_describe_unknown_collection(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "--collection", "LANDSAT"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_describe_remote(stub_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "--backend", stub_url]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"SENTINEL2_L2A on {stub_url}")
    assert "Sentinel-2 L2A (stub)" in text and "B08" in text
    assert main(["describe", "--backend", stub_url, "--collection", "NOPE"]) == 2
    assert "has no collection 'NOPE'" in capsys.readouterr().err


def test_describe_unreachable_remote(closed_port_url: str, capsys: Any) -> None:
    assert main(["describe", "--backend", closed_port_url]) != 0
    assert "cannot reach" in capsys.readouterr().err
