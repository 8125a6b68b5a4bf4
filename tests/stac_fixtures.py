"""Test fixtures for the STAC tests that need no database.

- :func:`serving_directory`: a threaded HTTP file server that honours ``Range``
  requests (what GDAL's /vsicurl/ needs to read COGs), unlike ``http.server``;
- :func:`serving_status`: a server answering every request with one HTTP status;
- :func:`write_tiny_catalog`: tiny real COG scenes in Earth Search (Collection-1 or v1)
  or Planetary Computer layout; :func:`rewritten_catalog`: a catalog's items rewritten
  into another layout; :func:`run_ndvi`: the workflow's NDVI from the local backend.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class RangeHandler(SimpleHTTPRequestHandler):
    """Static files with single-range ``Range: bytes=a-b`` support (206 answers)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_head(self) -> Any:
        header = self.headers.get("Range")
        if not header or not header.startswith("bytes="):
            return super().send_head()
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404, "not found")
            return None
        size = path.stat().st_size
        first, _, last = header[6:].split(",")[0].strip().partition("-")
        if first:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        else:
            start, end = max(size - int(last), 0), size - 1
        if start >= size or start > end:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.end_headers()
            return None
        handle = open(path, "rb")  # noqa: SIM115 - closed by copyfile's caller
        handle.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        self._remaining: int | None = end - start + 1
        return handle

    def copyfile(self, source: Any, outputfile: Any) -> None:
        remaining = getattr(self, "_remaining", None)
        if remaining is None:
            super().copyfile(source, outputfile)
            return
        while remaining > 0:
            chunk = source.read(min(65536, remaining))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)
        self._remaining = None


@contextlib.contextmanager
def serving_directory(root: Path, seen: list[str] | None = None) -> Iterator[str]:
    """Serve ``root`` over HTTP with Range support; yields the base URL (no slash). Each
    request's method and path is appended to ``seen`` if given."""

    class Handler(RangeHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            if seen is not None:
                seen.append(f"{self.command} {self.path}")

    with serving(Handler) as url:
        yield url


@contextlib.contextmanager
def serving_status(status: int) -> Iterator[str]:
    """A server answering every GET/POST with ``status``; yields its URL."""

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            body = b'{"code": "ServerError", "description": "broken on purpose"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

    with serving(Handler) as url:
        yield url


def copy_with_hrefs(
    source: Path, target: Path, items: str, href: Callable[[Path, str], str]
) -> None:
    """A copy of the folder ``source`` at ``target`` whose item documents (the glob
    ``items``) have each asset's href replaced by ``href(item path, old href)``."""
    import shutil

    shutil.copytree(source, target)
    for item in target.glob(items):
        document = json.loads(item.read_text())
        for asset in document["assets"].values():
            asset["href"] = href(item, asset["href"])
        item.write_text(json.dumps(document))


@contextlib.contextmanager
def serving(handler: Any) -> Iterator[str]:
    """``handler`` served by a threaded HTTP server on a free 127.0.0.1 port; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def static_site(folder: Path) -> contextlib.AbstractContextManager[str]:
    """``folder``'s files served over HTTP on 127.0.0.1 (another server's); its URL."""
    import functools

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    return serving(functools.partial(Quiet, directory=str(folder)))


def rewritten_catalog(sample: Path, root: Path, convert: Callable[[dict], dict]) -> Path:
    """The catalog ``sample`` (a collection linking its items) with each item rewritten by
    ``convert`` (another layout), its assets' hrefs made absolute first."""
    collection = json.loads(sample.read_text())
    root.mkdir(parents=True)
    links = [link for link in collection["links"] if link["rel"] not in ("item", "self", "root")]
    for link in collection["links"]:
        if link["rel"] != "item":
            continue
        source = (sample.parent / link["href"]).resolve()
        item = json.loads(source.read_text())
        for asset in item["assets"].values():
            asset["href"] = str((source.parent / asset["href"]).resolve())
        item["links"] = []
        target = root / f"{item['id']}.json"
        target.write_text(json.dumps(convert(item)))
        links.append({"rel": "item", "href": f"./{target.name}", "type": "application/json"})
    collection["links"] = links
    out = root / "collection.json"
    out.write_text(json.dumps(collection))
    return out


#: the window of the season the NDVI comparisons run on (short: the tests stay fast)
NDVI_START, NDVI_END = "2023-05-01", "2023-06-01"
_NDVI_MEMO: dict[tuple[str, str, str], Any] = {}


def run_ndvi(stac: str, out_dir: Path, aoi: dict[str, Any], *, memo: bool = False) -> Any:
    """The workflow's NDVI (numpy array) from the local backend reading ``stac``.

    With ``memo`` the result is kept for the session (the static-catalog baseline that
    several test modules compare against is computed once).
    """
    import numpy as np
    import xarray as xr

    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.params import Workflow
    from hybrid.workflow_graph import build_graph

    key = (stac, NDVI_START, NDVI_END)
    if memo and key in _NDVI_MEMO:
        return _NDVI_MEMO[key]
    workflow = Workflow(aoi=aoi, start=NDVI_START, end=NDVI_END)
    result = LocalBackend(LocalSettings(stac=stac)).execute(build_graph(workflow), out_dir=out_dir)
    (nc,) = result.files
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        values = np.asarray(ds["var"].values)
        assert ds["t"].size >= 1
    assert np.isfinite(values).any(), "no valid NDVI at all: the comparison would be empty"
    if memo:
        _NDVI_MEMO[key] = values
    return values


#: origin (EPSG:32632) and size of the tiny fixture COGs: inside the seed AOI
TINY_X0, TINY_Y0, TINY_SIZE = 316000.0, 5013000.0, 40


@dataclass(frozen=True)
class TinyScene:
    """One synthetic Sentinel-2 item of a tiny fixture catalog (uniform bands)."""

    id: str
    datetime: str
    cloud: float
    #: stored DN of B04 and B08, and the SCL class
    red: int = 1500
    nir: int = 4000
    scl: int = 4
    #: "earth-search" (Collection-1 ``sentinel-2-c1-l2a``: raw DN, raster:bands offset
    #: -0.1 from baseline 04.00, no boa flag), "earth-search-v1" (``sentinel-2-l2a``:
    #: from 04.00 ``earthsearch:boa_offset_applied: true`` beside raster:bands -0.1, as on
    #: the real items) or "planetary-computer"
    layout: str = "earth-search"
    baseline: str = "05.09"
    tile: str = "32TLR"


def tiny_bbox() -> tuple[float, float, float, float]:
    """lon/lat bbox of the tiny scenes' footprint."""
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    side = TINY_SIZE * 10.0
    xs, ys = tr.transform(
        [TINY_X0, TINY_X0 + side, TINY_X0 + side, TINY_X0],
        [TINY_Y0, TINY_Y0, TINY_Y0 - side, TINY_Y0 - side],
    )
    return min(xs), min(ys), max(xs), max(ys)


def write_tiny_band(path: Path, array: Any, res: int) -> None:
    """One band of a tiny scene as a COG on the tiny grid (EPSG:32632, its north-west
    corner at ``TINY_X0, TINY_Y0``) at ``res`` metres, nodata 0."""
    from affine import Affine

    from hybrid.sample.cog import write_cog

    write_cog(
        path,
        array,
        transform=Affine(res, 0, TINY_X0, 0, -res, TINY_Y0),
        crs="EPSG:32632",
        nodata=0,
        blocksize=256,
        resampling="nearest",
    )


def write_tiny_catalog(root: Path, scenes: Iterable[TinyScene]) -> Path:
    """A static collection of tiny COG scenes in the layouts of :class:`TinyScene`."""
    import numpy as np

    root.mkdir(parents=True, exist_ok=True)
    west, south, east, north = tiny_bbox()
    links = [{"rel": "root", "href": "./collection.json", "type": "application/json"}]
    collection_ids: list[str] = []
    for scene in scenes:
        folder = root / scene.id
        folder.mkdir(exist_ok=True)
        es = scene.layout.startswith("earth-search")
        new_baseline = float(scene.baseline) >= 4
        keys = ("red", "nir", "scl") if es else ("B04", "B08", "SCL")
        assets: dict[str, Any] = {}
        values = (scene.red, scene.nir, scene.scl)
        for key, value, res in zip(keys, values, (10, 10, 20), strict=True):
            n = TINY_SIZE * 10 // res
            dtype = np.uint8 if res == 20 else np.uint16
            write_tiny_band(folder / f"{key}.tif", np.full((n, n), value, dtype=dtype), res)
            asset: dict[str, Any] = {
                "href": f"./{key}.tif",
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": ["data"],
                "proj:shape": [n, n],
                "proj:transform": [res, 0, TINY_X0, 0, -res, TINY_Y0],
            }
            if es:
                band: dict[str, Any] = {"nodata": 0, "data_type": str(np.dtype(dtype))}
                if res == 10:
                    band.update(scale=0.0001, offset=-0.1 if new_baseline else 0.0)
                asset["raster:bands"] = [band]
            assets[key] = asset
        props: dict[str, Any] = {
            "datetime": scene.datetime,
            "eo:cloud_cover": scene.cloud,
            "proj:epsg": 32632,
            "grid:code": f"MGRS-{scene.tile}",
            "s2:processing_baseline": scene.baseline,
        }
        if scene.layout == "earth-search-v1":
            props["earthsearch:boa_offset_applied"] = new_baseline
        elif not es:
            props["s2:mgrs_tile"] = scene.tile
        collection_id = "sentinel-2-c1-l2a" if scene.layout == "earth-search" else "sentinel-2-l2a"
        collection_ids.append(collection_id)
        item = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": scene.id,
            "collection": collection_id,
            "bbox": [west, south, east, north],
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[west, south], [east, south], [east, north], [west, north], [west, south]]
                ],
            },
            "properties": props,
            "assets": assets,
            "links": [
                {"rel": "root", "href": "../collection.json"},
                {"rel": "parent", "href": "../collection.json"},
                {"rel": "collection", "href": "../collection.json"},
            ],
        }
        (folder / f"{scene.id}.json").write_text(json.dumps(item))
        links.append({"rel": "item", "href": f"./{scene.id}/{scene.id}.json"})
    collection = {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": collection_ids[0] if collection_ids else "sentinel-2-c1-l2a",
        "description": "tiny test scenes",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[west, south, east, north]]},
            "temporal": {"interval": [[None, None]]},
        },
        "links": links,
    }
    path = root / "collection.json"
    path.write_text(json.dumps(collection))
    return path


def partial_swath_catalog(root: Path) -> Path:
    """A static collection of one tiny scene whose footprint is the south-east half of its
    bbox (a diagonal swath edge, as partial Sentinel-2 products have): its ``bbox``
    covers the whole square, its ``geometry`` the triangle below the south-west ->
    north-east diagonal."""
    path = write_tiny_catalog(
        root, [TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 5.0)]
    )
    west, south, east, north = tiny_bbox()
    item_path = root / "S2A_32TLR_20230502_0_L2A" / "S2A_32TLR_20230502_0_L2A.json"
    item = json.loads(item_path.read_text())
    ring = [[west, south], [east, south], [east, north], [west, south]]
    item["geometry"] = {"type": "Polygon", "coordinates": [ring]}
    item_path.write_text(json.dumps(item))
    return path


def corner_box(corner: str) -> Any:
    """A box of a tenth of the tiny scenes' bbox in its ``"north-west"`` or
    ``"south-east"`` corner."""
    from hybrid.grid import BBox

    west, south, east, north = tiny_bbox()
    dx, dy = (east - west) / 10, (north - south) / 10
    if corner == "north-west":
        return BBox(west + dx / 2, north - dy, west + dx, north - dy / 2)
    return BBox(east - dx, south + dy / 2, east - dx / 2, south + dy)
