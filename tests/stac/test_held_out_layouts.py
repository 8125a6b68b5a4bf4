"""Tiny real COG scenes in provider layouts as the real items carry them, beyond what
the other layout tests write: assets a load never reads (Earth Search v1's ``red-jp2``
copies on ``s3://``, Planetary Computer previews on its blob storage, CDSE's archive and
metadata assets). The loaded values must be the files' DN with the README's offset
(-1000 from baseline 04.00) and nodata 0 rules, read here straight with rasterio.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hybrid.backends.local.loader import LoadRequest, load_s2
from hybrid.grid import BBox
from tests.stac_fixtures import TinyScene, tiny_bbox, write_tiny_catalog

S3_VARIABLES = ("CDSE_S3_ACCESS_KEY", "CDSE_S3_SECRET_KEY", "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY")  # fmt: skip
BLOB = "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2/32/T/LR/2023/05/02"


@pytest.fixture
def no_s3_keys(monkeypatch):
    for name in S3_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _edit_items(catalog: Path, scenes: list[TinyScene], edit: Any) -> None:
    for scene in scenes:
        path = catalog.parent / scene.id / f"{scene.id}.json"
        item = json.loads(path.read_text())
        edit(item)
        path.write_text(json.dumps(item))


def _load(catalog: Path | str) -> Any:
    west, south, east, north = tiny_bbox()
    dx, dy = (east - west) / 4, (north - south) / 4
    box = BBox(west + dx, south + dy, east - dx, north - dy)
    request = LoadRequest(box, "2023-05-01", "2023-06-01", ("B04", "B08", "SCL"), None)
    return load_s2(str(catalog), request).cube.compute()


def _file_values(catalog: Path, scene: TinyScene, key: str) -> np.ndarray:
    import rasterio

    with rasterio.open(catalog.parent / scene.id / f"{key}.tif") as src:
        return np.unique(src.read(1))


def test_earth_search_v1_jp2_copies_on_s3_need_no_s3_keys(tmp_path, no_s3_keys):
    """Earth Search v1 items carry, beside their https COGs, the original JP2 files as
    ``red-jp2``... on ``s3://sentinel-s2-l2a`` (requester pays). Copernicus reads only the
    assets of the requested bands (load_stac.py L325-367); here the load asked for S3 keys
    because any asset of the item was on S3, and failed without them."""
    scenes = [TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 5.0,
                        layout="earth-search-v1")]  # fmt: skip
    catalog = write_tiny_catalog(tmp_path / "v1", scenes)

    def jp2_copies(item: dict[str, Any]) -> None:
        for key in ("red", "nir", "scl"):
            item["assets"][f"{key}-jp2"] = {
                "href": f"s3://sentinel-s2-l2a/tiles/32/T/LR/2023/5/2/0/{key}.jp2",
                "type": "image/jp2", "roles": ["data"],
            }  # fmt: skip
        item["assets"]["thumbnail"] = {"href": "https://example.org/preview.jpg",
                                       "type": "image/jpeg", "roles": ["thumbnail"]}  # fmt: skip

    _edit_items(catalog, scenes, jp2_copies)
    cube = _load(catalog)
    (red,) = _file_values(catalog, scenes[0], "red")
    (nir,) = _file_values(catalog, scenes[0], "nir")
    (scl,) = _file_values(catalog, scenes[0], "scl")
    # baseline 05.09, raster:bands offset -0.1 / scale 1e-4: -1000 DN on reflectance
    assert np.unique(cube.sel(bands="B04").values).tolist() == [red - 1000]
    assert np.unique(cube.sel(bands="B08").values).tolist() == [nir - 1000]
    assert np.unique(cube.sel(bands="SCL").values).tolist() == [scl]


def test_planetary_computer_local_cogs_with_previews_on_blob_storage(tmp_path):
    """A Planetary Computer catalog whose band COGs were copied locally but whose
    ``preview``/``visual`` assets still point at the blob storage is read offline:
    only the assets read are signed (signing needs the network; it failed here)."""
    scenes = [TinyScene("S2A_MSIL2A_20230502T103031_R108_T32TLR_20230502T180000",
                        "2023-05-02T10:30:00Z", 5.0, layout="planetary-computer")]  # fmt: skip
    catalog = write_tiny_catalog(tmp_path / "pc", scenes)

    def blob_previews(item: dict[str, Any]) -> None:
        cog = "image/tiff; application=geotiff; profile=cloud-optimized"
        item["assets"]["preview"] = {"href": f"{BLOB}/PVI.tif", "type": cog, "roles": ["data"]}
        item["assets"]["visual"] = {"href": f"{BLOB}/TCI.tif", "type": cog, "roles": ["visual"]}

    _edit_items(catalog, scenes, blob_previews)
    cube = _load(catalog)
    (red,) = _file_values(catalog, scenes[0], "B04")
    (scl,) = _file_values(catalog, scenes[0], "SCL")
    assert np.unique(cube.sel(bands="B04").values).tolist() == [red - 1000]  # by baseline
    assert np.unique(cube.sel(bands="SCL").values).tolist() == [scl]

    from hybrid.stac.access import sign_items
    from hybrid.stac.providers import read_hrefs
    from hybrid.stac.source import static_items

    (item,) = static_items(catalog)
    assert sign_items([item], read_hrefs) == [item]  # nothing to sign


@pytest.mark.parametrize("document", ["collection", "item", "item-collection"])
def test_a_static_collection_item_or_item_collection_served_over_http(tmp_path, document):
    """A static Collection (what ``hybrid cache`` writes), one Item, or an ItemCollection
    (a saved search) at an http(s) URL, relative asset hrefs: pystac-client cannot open
    them as an API root, and the run stopped with "expected type=Catalog, found
    type=Collection". Copernicus's load_stac reads an Item URL and walks a Collection
    without item search (load_stac.py L987-998, L1054-1070)."""
    from tests.stac_fixtures import serving_directory

    scene = TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 5.0)
    catalog = write_tiny_catalog(tmp_path / "site", [scene])
    item = json.loads((catalog.parent / scene.id / f"{scene.id}.json").read_text())
    for asset in item["assets"].values():
        asset["href"] = f"./{scene.id}/{asset['href'][2:]}"
    saved = {"type": "FeatureCollection", "features": [{**item, "links": []}]}
    (catalog.parent / "items.json").write_text(json.dumps(saved))
    path = {"collection": "collection.json", "item": f"{scene.id}/{scene.id}.json",
            "item-collection": "items.json"}[document]  # fmt: skip
    with serving_directory(catalog.parent) as url:
        cube = _load(f"{url}/{path}")
    (red,) = _file_values(catalog, scene, "red")
    assert np.unique(cube.sel(bands="B04").values).tolist() == [red - 1000]


def test_an_undocumented_baseline_is_judged_by_the_start_datetime_too(tmp_path):
    """An item without a processing baseline nor raster offsets is judged by its date
    (04.00 from 2022-01-25: -1000); one whose ``datetime`` is null, as STAC allows with
    ``start_datetime``/``end_datetime``, was taken as pre-04.00 and kept its DN."""
    scene = TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 5.0,
                      layout="planetary-computer")  # fmt: skip
    catalog = write_tiny_catalog(tmp_path / "interval", [scene])

    def interval(item: dict[str, Any]) -> None:
        props = item["properties"]
        del props["s2:processing_baseline"]
        props.update(datetime=None, start_datetime=scene.datetime, end_datetime=scene.datetime)

    _edit_items(catalog, [scene], interval)
    cube = _load(catalog)
    (red,) = _file_values(catalog, scene, "B04")
    assert np.unique(cube.sel(bands="B04").values).tolist() == [red - 1000]
