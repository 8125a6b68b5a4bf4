"""A load_stac of a STAC API through ``hybrid serve``: one search per load, and the cube
typed by the first item passing the load's property conditions, as on Copernicus.

Copernicus's load_stac searches the API once with the load's ``properties``
(openeo-geopyspark-driver 9baf2e10 ``load_stac.py`` L218-222, L249-263) and hands the
items found to the JVM (L277, L549), whose cube has the cell type of the first of them
(openeo-geotrellis-extensions 2a25a26e ``FileLayerProvider.scala`` ``determineCelltype``
L997-1005). The API is a real stac-fastapi-pgstac behind a proxy that counts the
requests it forwards.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from tests.server_helpers import local_connection
from tests.stac_fixtures import serving
from tests.user_stac import write_user_collection

pytestmark = pytest.mark.pgstac

#: item date -> (file values' dtype, eo:cloud_cover): only the middle one is clear
ITEMS = {
    "2024-05-01T10:00:00Z": ("uint16", 80.0),
    "2024-05-11T10:00:00Z": ("int16", 5.0),
    "2024-05-21T10:00:00Z": ("uint16", 90.0),
}


def _values(dtype: str) -> np.ndarray:
    """16 x 16 values of ``dtype`` clear of its default nodata (0, -32768), negative
    ones in int16 (which uint16 cannot hold)."""
    ramp = np.arange(256).reshape(16, 16)
    return (ramp - 100 if dtype == "int16" else ramp + 40000).astype(dtype)


@pytest.fixture(scope="module")
def stac_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """The collection ``c`` of :data:`ITEMS` in pgstac, behind a counting proxy: its URL
    and the requests the proxy forwarded (method and path)."""
    from tests.pgstac import load_into_pgstac, missing_reason, running_pgstac, static_catalog_json

    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("api_items")
    collection, items = None, []
    for number, (date, (dtype, cloud)) in enumerate(ITEMS.items()):
        written = write_user_collection(root / f"i{number}", _values(dtype), dates=(date,))
        collection, (item,) = static_catalog_json(written)
        item.update(id=f"item{number}", collection="c")
        item["properties"]["eo:cloud_cover"] = cloud
        items.append(item)
    assert collection is not None
    collection.update(id="c")
    collection["extent"]["temporal"]["interval"] = [[min(ITEMS), max(ITEMS)]]
    with running_pgstac() as server:
        load_into_pgstac(server, collection, items)
        seen: list[str] = []
        with serving(_proxy_to(server.url, seen)) as url:
            yield f"{url}/collections/c", seen


def _proxy_to(upstream: str, seen: list[str]) -> Any:
    """A handler forwarding each request to ``upstream`` with the proxy's Host (the API
    links back to the proxy), noting it in ``seen``."""

    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            seen.append(f"{self.command} {self.path.split('?')[0]}")
            size = int(self.headers.get("Content-Length") or 0)
            headers = {k: v for k, v in self.headers.items() if k.lower() in _KEPT}
            request = urllib.request.Request(
                upstream + self.path,
                data=self.rfile.read(size) if size else None,
                headers={**headers, "Host": self.headers["Host"]},
                method=self.command,
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    status, body, kind = answer.status, answer.read(), answer.headers
            except urllib.error.HTTPError as exc:
                status, body, kind = exc.code, exc.read(), exc.headers
            self.send_response(status)
            self.send_header("Content-Type", kind.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _forward

    return Proxy


_KEPT = {"accept", "content-type"}


@pytest.fixture(scope="module")
def connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with local_connection(tmp_path_factory.mktemp("stac_api_searches") / "data") as connected:
        yield connected


def _download(
    connection: Any, url: str, path: Path, seen: list[str] | None = None, **arguments: Any
) -> tuple[str, Any]:
    """The GTiff of the load_stac of ``url``; ``seen`` cleared once the client has read
    the collection for its metadata (the requests left: the server's)."""
    cube = connection.load_stac(url, temporal_extent=["2024-01-01", "2025-01-01"], **arguments)
    if seen is not None:
        seen.clear()
    cube.download(path, format="GTiff")
    with rasterio.open(path) as src:
        return src.dtypes[0], src.read(1)


def test_one_load_stac_searches_the_api_once(
    connection: Any, stac_api: tuple[str, list[str]], tmp_path: Path
) -> None:
    """The cell type found before the run and the run's load take their items from one
    search (it was two: the document read and the API searched twice)."""
    url, seen = stac_api
    _download(connection, url, tmp_path / "all.tif", seen)
    searches = [r for r in seen if r.split()[1] == "/search"]
    assert len(searches) == 1, seen
    assert seen.count("GET /collections/c") == 1, seen


def test_the_cube_is_typed_by_the_first_item_passing_the_properties(
    connection: Any, stac_api: tuple[str, list[str]], tmp_path: Path
) -> None:
    """Only the int16 item is clear: the cube is int16, its negative values kept (typed
    by the first item of any cloud cover, a uint16 one, it was written as uint16)."""
    url, _seen = stac_api
    got_type, got = _download(
        connection, url, tmp_path / "clear.tif", properties={"eo:cloud_cover": lambda v: v <= 10}
    )
    assert got_type == "int16"
    np.testing.assert_array_equal(got, _values("int16"))
