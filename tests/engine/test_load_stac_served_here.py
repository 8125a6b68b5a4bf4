"""load_stac and load_collection of COGs that a server in the same Python process serves
over HTTP, as a user's CI fixture does beside the in-process engine or
``hybrid.connect("local")``.

The engine opens the files in dask's threads, which do not inherit the caller's
``rasterio.Env``, and odc-stac's reader had no GDAL options for http(s) assets: GDAL
listed each file's folder and probed sidecar files (``.aux.xml``) over HTTP, the probe
inside a rasterio call that holds the GIL, so a server in the same process could never
answer it and the run hung (so hard that no timeout inside that process fires: each run
is a child process here). Now only the STAC documents and the COGs are asked for (a
HEAD and ranged GETs per file), and the run ends.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from tests.stac_fixtures import (
    TinyScene,
    copy_with_hrefs,
    serving_directory,
    tiny_bbox,
    write_tiny_catalog,
)

ROOT = Path(__file__).resolve().parents[2]
SCENES = [
    TinyScene("S2B_32TLR_20230605_0_L2A", "2023-06-05T10:27:00Z", 5.0),
    TinyScene("S2A_32TLR_20230610_0_L2A", "2023-06-10T10:27:00Z", 5.0, red=1800),
]


def _saved(load: dict[str, Any]) -> dict[str, Any]:
    return {
        "load": load,
        "save": {"process_id": "save_result",
                 "arguments": {"data": {"from_node": "load"}, "format": "netCDF"},
                 "result": True},
    }  # fmt: skip


def run_load_stac(url: str, out: Path) -> Path:
    """The netCDF the in-process engine writes for load_stac of ``url``."""
    from hybrid.backends.local import LocalBackend, LocalSettings

    load = {"process_id": "load_stac", "arguments": {"url": url, "bands": ["red", "nir"]}}
    (path,) = LocalBackend(LocalSettings()).execute(_saved(load), out_dir=out).files
    return Path(path)


def run_load_collection(catalog: str, out: Path) -> Path:
    """The netCDF the in-process engine writes for load_collection over ``catalog``."""
    from hybrid.backends.local import LocalBackend, LocalSettings

    west, south, east, north = tiny_bbox()
    arguments = {
        "id": "SENTINEL2_L2A",
        "spatial_extent": {"west": west, "south": south, "east": east, "north": north},
        "temporal_extent": ["2023-06-01", "2023-07-01"],
        "bands": ["B04", "B08"],
    }
    load = {"process_id": "load_collection", "arguments": arguments}
    (path,) = LocalBackend(LocalSettings(stac=catalog)).execute(_saved(load), out_dir=out).files
    return Path(path)


def _pointing_at(collection: Path, base: str, target: Path) -> Path:
    """A copy of the catalog on disk whose items' assets are the served files."""
    copy_with_hrefs(
        collection.parent,
        target,
        "S2*/*.json",
        lambda item, href: f"{base}/{item.parent.name}/{Path(href).name}",
    )
    return target / collection.name


def serve_and_run(kind: str, collection: str, out: str) -> None:
    """In one process: serve the collection's folder and run the engine over it (load_stac
    of its URL, or load_collection over a catalog whose assets are served); prints the
    requests the server saw (JSON)."""
    seen: list[str] = []
    source = Path(collection)
    with serving_directory(source.parent, seen) as base:
        if kind == "load_stac":
            run_load_stac(f"{base}/{source.name}", Path(out))
        else:
            catalog = _pointing_at(source, base, Path(out) / "catalog")
            run_load_collection(str(catalog), Path(out))
    print(json.dumps(seen))


def _open(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


@pytest.mark.parametrize(
    ("kind", "bands"), [("load_stac", ("red", "nir")), ("load_collection", ("B04", "B08"))]
)
def test_a_server_in_this_process_serves_the_files_of_a_load(
    kind: str, bands: tuple[str, str], tmp_path: Path
) -> None:
    collection = write_tiny_catalog(tmp_path / "stac", SCENES)
    child = (
        "import sys; from tests.engine.test_load_stac_served_here import serve_and_run; "
        "serve_and_run(*sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", child, kind, str(collection), str(tmp_path / "http")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    (served_file,) = (tmp_path / "http").glob("*.nc")
    run = run_load_stac if kind == "load_stac" else run_load_collection
    on_disk = _open(run(str(collection), tmp_path / "disk"))
    served = _open(served_file)
    for band in bands:
        assert np.isfinite(served[band].values).sum() >= 2 * 40 * 40  # the scenes, both dates
        np.testing.assert_array_equal(served[band].values, on_disk[band].values)
    assert served.sizes["t"] == 2
    asked = {request.split(" ")[1] for request in seen}
    assert all(path.endswith((".json", ".tif")) for path in asked), sorted(asked)
    assert {path for path in asked if path.endswith(".tif")}, "the COGs were read over HTTP"


@pytest.mark.parametrize(
    ("written", "label"),
    [
        ("2023-05-31T23:30:00-02:00", "2023-05-31"),  # 1 June 01:30 in UTC
        ("2023-06-01T00:30:00+02:00", "2023-06-01"),  # 31 May 22:30 in UTC
        ("2023-06-01T10:30:00Z", "2023-06-01"),
    ],
)
def test_load_stac_labels_a_product_with_the_date_its_datetime_is_written_in(written, label):
    """Copernicus's load_stac keeps the item's offset (ZonedDateTime.parse of its text,
    OpenSearchResponses.scala L117) and labels by ``nominalDate.toLocalDate``
    (FileLayerProvider.scala L1125): the local date as written, not the UTC one."""
    import pystac

    from hybrid.backends.local.stac_cube import lazy_cube
    from hybrid.backends.local.stac_items import StacScene, nominal_datetime
    from hybrid.grid import Grid

    item = pystac.Item.from_dict(
        {
            "type": "Feature", "stac_version": "1.0.0", "id": "x", "geometry": None,
            "properties": {"datetime": written}, "links": [], "assets": {},
        }
    )  # fmt: skip
    scene = StacScene("x", nominal_datetime(item), None, ())
    cube = lazy_cube([scene], ["b"], Grid(32632, 316000.0, 5013000.0, 316020.0, 5013020.0))
    assert [str(t)[:10] for t in cube["t"].values] == [label]
