"""The scripted openEO server on 127.0.0.1 (tests/cli/scripted_backend.py) and a user's
credentials, for the tests of RemoteBackend and ``hybrid record``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from hybrid.io.netcdf import write_netcdf
from hybrid.testing import synthetic_result
from tests.cli.scripted_backend import Script, _Handler


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
