"""Scene selection as the Copernicus driver does it: the local backend against the
independent reference on generated catalogs (newest processing among duplicates, even
when cloudier; per-key tile overlap without gap filling; property conditions)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local import LocalBackend, LocalSettings
from hybrid.params import Workflow
from hybrid.workflow_graph import build_graph
from tests.fidelity.tiny_catalog import AOI, Catalog, a_bands
from tests.reference import reference_ndvi

START, END = "2023-05-01", "2023-06-01"


def _duplicate_newer_cloudier(cat: Catalog) -> None:
    red2 = np.full((40, 40), 2000, np.uint16)
    nir2 = np.full((40, 40), 4000, np.uint16)
    cat.add_a("a-old", "2023-05-02T10:00:00Z", 5, updated="2023-05-02T15:00:00Z")
    cat.add_a(
        "b-new", "2023-05-02T10:00:05Z", 15, red=red2, nir=nir2, updated="2024-07-01T00:00:00Z"
    )
    cat.add_a("c-tie", "2023-05-03T10:00:00Z", 7)
    cat.add_a("d-tie", "2023-05-03T10:00:00Z", 3, red=red2, nir=nir2)


def _gaps_inside_an_overlap_key(cat: Catalog) -> None:
    red, nir = a_bands()["B04"][0].copy(), a_bands()["B08"][0].copy()
    red[:, 18:] = 0
    nir[:, 18:] = 0
    nir[5:9, 10:13] = 0
    cat.add_a("a", "2023-05-02T10:00:00Z", 15, red=red, nir=nir, footprint_deg=0.2)
    cat.add_b("b", "2023-05-02T11:00:00Z", 1, layout="es", footprint_deg=0.2)


def _key_contained_by_one(cat: Catalog) -> None:
    cat.add_a("a", "2023-05-02T10:00:00Z", 15)
    cat.add_b("b", "2023-05-02T11:00:00Z", 1, layout="es")


def _products_without_scl(cat: Catalog) -> None:
    """A product without an SCL asset is read with SCL as no data (Copernicus inserts a
    NODATA band, FileLayerProvider.scala L1494-1511): alone its date stays unmasked; merged
    first with a product that has SCL, the date's SCL comes from that one."""
    no_scl = {band: raster for band, raster in a_bands().items() if band != "SCL"}
    cat.add("a-no-scl", "2023-05-02T10:00:00Z", 5, epsg=32632, tile="32TLR", bands=no_scl)
    cat.add("c-no-scl", "2023-05-04T10:00:00Z", 5, epsg=32632, tile="32TLR", bands=no_scl)
    scl = np.full((20, 20), 4, np.uint8)
    scl[8:10, 8:10] = 9
    cat.add_a("d", "2023-05-04T10:05:00Z", 5, scl=scl, red=np.full((40, 40), 1900, np.uint16))


def _set_properties(cat: Catalog, item_id: str, **properties: object) -> None:
    """Set properties (None: null) of an item the catalog has written."""
    path = cat.root / item_id / "item.json"
    item = json.loads(path.read_text())
    item["properties"].update(properties)
    path.write_text(json.dumps(item))


def _times_with_offsets_or_ranges(cat: Catalog) -> None:
    """A datetime written with an offset is the UTC date of its instant (10 May 23:30 at
    -02:00 is 11 May: CDSE's own items, which Copernicus reads for SENTINEL2_L2A, write
    that instant in UTC); an item with only ``start_datetime``/``end_datetime`` (``datetime``
    null, as STAC allows) is dated by its start (load_stac.py L321)."""
    cat.add_a("a-offset", "2023-05-10T23:30:00-02:00", 5)
    cat.add_a("b-range", "2023-05-20T10:00:00Z", 5, red=np.full((40, 40), 1900, np.uint16))
    _set_properties(
        cat, "b-range", datetime=None,
        start_datetime="2023-05-20T10:00:00Z", end_datetime="2023-05-20T10:00:20Z",
    )  # fmt: skip


CASES = {
    "duplicate-newer-cloudier": _duplicate_newer_cloudier,
    "gaps-inside-overlap-key": _gaps_inside_an_overlap_key,
    "key-contained-by-one": _key_contained_by_one,
    "products-without-scl": _products_without_scl,
    "times-with-offsets-or-ranges": _times_with_offsets_or_ranges,
}


def _full_collection(catalog: Path) -> Path:
    """The reference tests' minimal collection made a valid STAC Collection for pystac,
    items without geometry given their bbox as one (the reference reads the same)."""
    doc = json.loads(catalog.read_text())
    doc |= {
        "description": "generated scenes",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[-180, -90, 180, 90]]},
            "temporal": {"interval": [[None, None]]},
        },
    }
    catalog.write_text(json.dumps(doc))
    for link in doc["links"]:
        path = catalog.parent / link["href"]
        item = json.loads(path.read_text())
        if item["geometry"] is None:  # odc-stac needs a footprint: the bbox's
            w, s, e, n = item["bbox"]
            ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
            item["geometry"] = {"type": "Polygon", "coordinates": [ring]}
            path.write_text(json.dumps(item))
    return catalog


def _local(catalog: Path, out: Path, **options) -> xr.DataArray:
    workflow = Workflow(
        aoi=AOI, start=START, end=END, period="day", bands=("B04", "B08", "SCL"), **options
    )
    result = LocalBackend(LocalSettings(stac=str(catalog))).execute(
        build_graph(workflow), out_dir=out
    )
    (nc,) = result.files
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        return ds["var"].load()


@pytest.mark.parametrize("case", list(CASES))
def test_local_selection_equals_the_reference(case, tmp_path):
    cat = Catalog(tmp_path / "cat")
    cat.root.mkdir()
    CASES[case](cat)
    local = _local(_full_collection(cat.path), tmp_path / "out")
    ref = reference_ndvi(cat.path, AOI, START, END, period="day")
    labels = [np.datetime_as_string(t, unit="s") + "Z" for t in local["t"].values]
    assert labels == ref.labels
    a, b = np.asarray(local.values, np.float64), np.asarray(ref.data, np.float64)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    both = ~np.isnan(a)
    assert both.any()
    assert np.max(np.abs(a[both] - b[both])) <= 1e-6


def test_scenes_name_replaced_processings_and_sources_without_reprocessings(tmp_path):
    from hybrid.params import Workflow
    from hybrid.scene_table import format_scene_table, scene_table
    from tests.stac_fixtures import TinyScene, tiny_bbox, write_tiny_catalog

    V1 = "earth-search-v1"
    scenes = [
        TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 3.0, layout=V1),
        TinyScene("S2A_32TLR_20230502_1_L2A", "2023-05-02T10:30:00Z", 9.0, layout=V1),
    ]
    # Earth Search v1 layout and collection id (sentinel-2-l2a): original processings only
    catalog = write_tiny_catalog(tmp_path / "v1", scenes)
    west, south, east, north = tiny_bbox()
    dx, dy = (east - west) / 4, (north - south) / 4
    ring = [
        [west + dx, south + dy], [east - dx, south + dy], [east - dx, north - dy],
        [west + dx, north - dy], [west + dx, south + dy],
    ]  # fmt: skip
    workflow = Workflow(
        aoi={"type": "Polygon", "coordinates": [ring]}, start="2023-05-01", end="2023-06-01"
    )
    (row,) = scene_table(workflow, stac=str(catalog))
    assert row.item_ids == ("S2A_32TLR_20230502_1_L2A",)
    assert row.replaced_ids == ("S2A_32TLR_20230502_0_L2A",)
    assert "earth-search-v1 holds original processings only" in row.note
    assert "sentinel-2-c1-l2a" in row.note
    text = format_scene_table([row])
    assert "2023-05-02: older processing(s) not used" in text
    assert "2023-05-02: earth-search-v1 holds original processings only" in text
    assert row.as_json()["replaced_item_ids"] == ["S2A_32TLR_20230502_0_L2A"]


def test_the_sample_is_collection_1_and_its_reprocessing_is_used(all_sample_rows):
    by_date = {r.date: r for r in all_sample_rows}
    assert by_date["2023-07-12"].item_ids == ("S2A_32TLR_20230712_1_L2A",)
    assert by_date["2023-07-12"].replaced_ids == ("S2A_32TLR_20230712_0_L2A",)
    assert not any(r.note for r in all_sample_rows)


@pytest.fixture(scope="module")
def all_sample_rows(sample_catalog, seed_aoi):
    from hybrid.sample import SEED_END, SEED_START
    from hybrid.scene_table import scene_table

    workflow = Workflow(aoi=seed_aoi, start=SEED_START, end=SEED_END)
    return scene_table(workflow, stac=str(sample_catalog))
