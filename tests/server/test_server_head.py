"""``HEAD`` wherever ``GET`` is answered, as Copernicus's Flask routes answer it (werkzeug
``Rule`` adds ``HEAD`` to every ``GET`` rule; ``Response.get_app_iter`` sends no body)."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.server_helpers import local_server


def test_head_is_get_without_its_body(tmp_path: Path) -> None:
    """The GET's status, media type and length, no body (FastAPI answered 405); a path
    without GET keeps its 405, an unknown one its 404, and no credentials their 401."""
    with local_server(tmp_path) as running:
        token = requests.get(
            f"{running.url}/credentials/basic", auth=("hybrid", "hybrid"), timeout=60
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer basic//{token}"}
        for path in ("/", "/collections", "/processes", "/jobs", "/me", "/jobs/j-nope"):
            got = requests.get(running.url + path, headers=auth, timeout=60)
            head = requests.head(running.url + path, headers=auth, timeout=60)
            assert (head.status_code, head.content) == (got.status_code, b""), path
            assert head.headers["Content-Type"] == got.headers["Content-Type"], path
            assert head.headers["Content-Length"] == str(len(got.content)), path
        for path, status in (("/result", 405), ("/nope", 404), ("/jobs", 401)):
            head = requests.head(running.url + path, timeout=60)
            assert head.status_code == status, (path, head.status_code)
