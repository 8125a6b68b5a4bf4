"""The one rule for "is this URL this server's" (:mod:`hybrid.server.own_urls`), shared by
load_stac of job results and the URL namespaces of published processes."""

from __future__ import annotations

import pytest

from hybrid.server.own_urls import own_path

ROOT = "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("url", "root", "path"),
    [
        (f"{ROOT}/jobs/j-1/results", ROOT, "/jobs/j-1/results"),
        ("http://localhost:8000/processes/u:a/f", ROOT, "/processes/u:a/f"),
        ("http://LOCALHOST:8000/x", "http://[::1]:8000", "/x"),
        ("http://example.org/openeo/1.2/jobs", "http://example.org:80/openeo/1.2/", "/jobs"),
        ("https://example.org/x", "https://example.org:443", "/x"),
        ("http://example.org/x", None, "/x"),  # no root kept: any http(s) URL
    ],
)
def test_this_servers_urls(url: str, root: str | None, path: str) -> None:
    assert own_path(url, root) == path


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8001/jobs/j-1/results",  # another port
        "https://127.0.0.1:8000/jobs/j-1/results",  # another scheme
        "http://192.0.2.1:8000/jobs/j-1/results",  # another host
        "http://127.0.0.1:99999/x",  # no valid port
        "ftp://127.0.0.1:8000/x",
        "/jobs/j-1/results",
    ],
)
def test_other_servers_urls(url: str) -> None:
    assert own_path(url, ROOT) is None


def test_a_root_below_a_path_owns_only_its_own_paths() -> None:
    root = "http://example.org/openeo/1.2"
    assert own_path("http://example.org/openeo/1.2/processes/u:a/f", root) == "/processes/u:a/f"
    assert own_path("http://example.org/openeo/1.20/x", root) is None
    assert own_path("http://example.org/other/x", root) is None
