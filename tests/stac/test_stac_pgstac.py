"""Against a real STAC API: stac-fastapi-pgstac on PostgreSQL + PostGIS, loaded with the sample."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hybrid.grid import BBox
from hybrid.stac.api import search_api
from hybrid.stac.query import Condition, SceneQuery, cloud_condition, cql2_filter
from hybrid.stac.source import search
from tests.pgstac import (
    PgstacServer,
    load_into_pgstac,
    missing_reason,
    running_pgstac,
    static_catalog_json,
)
from tests.stac_fixtures import (
    TinyScene,
    corner_box,
    partial_swath_catalog,
    run_ndvi,
    tiny_bbox,
    write_tiny_catalog,
)

pytestmark = pytest.mark.pgstac

BOUNDARY = [
    TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 19.9),
    TinyScene("S2A_32TLR_20230512_0_L2A", "2023-05-12T10:30:00Z", 20.0),
    TinyScene("S2A_32TLR_20230522_0_L2A", "2023-05-22T10:30:00Z", 20.1),
]


@pytest.fixture(scope="session")
def pgstac_api(tmp_path_factory, sample_catalog) -> Iterator[PgstacServer]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    boundary = write_tiny_catalog(tmp_path_factory.mktemp("boundary"), BOUNDARY)
    with running_pgstac() as server:
        collection, items = static_catalog_json(sample_catalog)
        load_into_pgstac(server, collection, items)
        collection, items = static_catalog_json(boundary)
        collection["id"] = "boundary"
        for item in items:
            item["collection"] = "boundary"
        load_into_pgstac(server, collection, items)
        yield server


def _sample_bbox(sample_catalog: Path) -> Any:
    return json.loads(sample_catalog.read_text())["extent"]["spatial"]["bbox"][0]


def test_paging_returns_every_item(pgstac_api, sample_catalog):
    from pystac_client import Client

    n_static = sum(
        1 for link in json.loads(sample_catalog.read_text())["links"] if link["rel"] == "item"
    )
    client = Client.open(pgstac_api.url)
    found = client.search(collections=["sentinel-2-c1-l2a"], limit=7)
    pages = list(found.pages())
    assert len(pages) == -(-n_static // 7)
    ids = [i.id for page in pages for i in page.items]
    assert len(ids) == len(set(ids)) == n_static


def test_cloud_filter_filter_and_query_agree_with_the_static_search(pgstac_api, sample_catalog):
    from pystac_client import Client

    client = Client.open(pgstac_api.url)
    assert client.conforms_to("FILTER") and client.conforms_to("QUERY")
    common: dict[str, Any] = {
        "collections": ["sentinel-2-c1-l2a"],
        "bbox": _sample_bbox(sample_catalog),
    }
    by_filter = {
        i.id
        for i in client.search(
            **common, filter=cql2_filter((cloud_condition(20),)), filter_lang="cql2-json"
        ).items()
    }
    by_query = {
        i.id for i in client.search(**common, query={"eo:cloud_cover": {"lte": 20}}).items()
    }
    static = {
        i.id
        for i in search(
            str(sample_catalog), SceneQuery(BBox(*_sample_bbox(sample_catalog)), "2000-01-01",
                                            "2100-01-01", 20.0)
        )
    }  # fmt: skip
    assert by_filter == by_query == static
    assert 0 < len(static) < 45


def test_cloud_filter_is_exact_at_the_boundary_through_the_api(pgstac_api, tmp_path):
    from pystac_client import Client

    west, south, east, north = tiny_bbox()
    query = SceneQuery(BBox(west, south, east, north), "2023-05-01", "2023-06-01", 20.0)
    found = search_api(pgstac_api.url, "boundary", query)
    assert sorted(i.properties["eo:cloud_cover"] for i in found) == [19.9, 20.0]
    # the query extension with a number, as used for APIs without FILTER
    client = Client.open(pgstac_api.url)
    by_query = client.search(collections=["boundary"], query={"eo:cloud_cover": {"lte": 20}})
    assert sorted(i.properties["eo:cloud_cover"] for i in by_query.items()) == [19.9, 20.0]
    static = write_tiny_catalog(tmp_path / "static", BOUNDARY)
    assert [i.id for i in search(str(static), query)] == sorted(i.id for i in found)


CONDITIONS = {
    "lt": (Condition("eo:cloud_cover", "<", 20.0),),
    "gt": (Condition("eo:cloud_cover", ">", 19.95),),
    "eq": (Condition("eo:cloud_cover", "=", 20.0),),
    "between": (Condition("eo:cloud_cover", ">=", 19.95), Condition("eo:cloud_cover", "<=", 20.1)),
    "lt-20.05-not-truncated": (Condition("eo:cloud_cover", "<", 20.05),),
}


@pytest.mark.parametrize("case", list(CONDITIONS))
def test_property_conditions_through_the_api_equal_the_static_search(pgstac_api, tmp_path, case):
    """The API's own answer to the CQL2 filter (no in-process re-check) is what the
    static-catalog evaluation gives."""
    from pystac_client import Client

    conditions = CONDITIONS[case]
    west, south, east, north = tiny_bbox()
    client = Client.open(pgstac_api.url)
    answer = client.search(
        collections=["boundary"], filter=cql2_filter(conditions), filter_lang="cql2-json"
    )
    by_api = sorted(i.id for i in answer.items())
    static = write_tiny_catalog(tmp_path / "static", BOUNDARY)
    query = SceneQuery(
        BBox(west, south, east, north), "2023-05-01", "2023-06-01", conditions=conditions
    )
    assert by_api == [i.id for i in search(str(static), query)]
    assert sorted(i.id for i in search_api(pgstac_api.url, "boundary", query)) == by_api


def test_api_and_static_search_find_the_same_scenes(pgstac_api, sample_catalog, seed_aoi):
    from hybrid.aoi import geometry_bbox

    query = SceneQuery(geometry_bbox(seed_aoi), "2023-05-01", "2023-09-30", 20.0)
    api = [(i.id, i.properties["eo:cloud_cover"]) for i in search(pgstac_api.url, query)]
    static = [(i.id, i.properties["eo:cloud_cover"]) for i in search(str(sample_catalog), query)]
    assert api == static and api


def test_tile_and_orbit_filters_through_the_api_equal_the_static_search(
    pgstac_api, sample_catalog, seed_aoi
):
    """grid:code and sat:relative_orbit are not sent to the API (the providers name them
    differently); the API's answer filtered in-process is the static search's."""
    from hybrid.aoi import geometry_bbox

    conditions = (
        Condition("grid:code", "like", "MGRS-31T*"),
        Condition("sat:relative_orbit", "=", 108.0),
        Condition("eo:cloud_cover", "<=", 50.0),
    )
    query = SceneQuery(geometry_bbox(seed_aoi), "2023-05-01", "2023-09-30", conditions=conditions)
    api = [i.id for i in search(pgstac_api.url, query)]
    static = [i.id for i in search(str(sample_catalog), query)]
    assert api == static and api
    assert all("_31TGL_" in i for i in api)


def test_sample_through_pgstac_gives_bit_identical_ndvi(
    pgstac_api, sample_catalog, seed_aoi, tmp_path
):
    static = run_ndvi(str(sample_catalog), tmp_path / "static", seed_aoi, memo=True)
    api = run_ndvi(pgstac_api.url, tmp_path / "api", seed_aoi)
    assert static.shape == api.shape
    np.testing.assert_array_equal(static, api)
    assert static.tobytes() == api.tobytes()


def test_load_stac_of_an_api_collection_searches_it(pgstac_api, sample_catalog, seed_aoi):
    """load_stac of a STAC API collection URL (its root conforms to item search) finds
    the items the API's search gives, as Copernicus's ``from_stac_api``: the same scenes
    and the same cube as load_stac of the static catalog holding the same items."""
    import xarray as xr

    from hybrid.aoi import geometry_bbox
    from hybrid.backends.local.stac_load import load_stac

    collection = json.loads(sample_catalog.read_text())["id"]
    args = {
        "bbox": geometry_bbox(seed_aoi),
        "interval": ("2023-06-10", "2023-07-05"),
        "bands": ["B04", "SCL"],
        "properties": None,
    }
    api = load_stac(f"{pgstac_api.url}/collections/{collection}", **args)
    static = load_stac(str(sample_catalog), **args)
    assert sorted(api.items) == sorted(static.items) and len(api.items) >= 2
    assert api.grid == static.grid
    xr.testing.assert_identical(api.cube.compute(), static.cube.compute())


def test_query_stac_of_an_api_collection_lists_what_load_stac_reads(
    pgstac_api, sample_catalog, seed_aoi
):
    """query_stac of the STAC API collection gives the Items load_stac reads there (its
    item search), with the properties the static catalog's documents hold."""
    from hybrid.aoi import geometry_bbox
    from hybrid.backends.local.processes.stac_query import query_stac
    from hybrid.backends.local.stac_load import load_stac

    collection = json.loads(sample_catalog.read_text())["id"]
    url = f"{pgstac_api.url}/collections/{collection}"
    bbox = geometry_bbox(seed_aoi)
    extent = {"west": bbox.west, "south": bbox.south, "east": bbox.east, "north": bbox.north}
    dates = ["2023-06-10", "2023-07-05"]
    found = query_stac(url, spatial_extent=extent, temporal_extent=dates)
    static = query_stac(str(sample_catalog), spatial_extent=extent, temporal_extent=dates)
    loaded = load_stac(url, bbox=bbox, interval=tuple(dates), bands=["B04"], properties=None)
    ids = sorted(f["id"] for f in found["features"])
    assert len(ids) >= 2 and ids == sorted(loaded.items)
    assert ids == sorted(f["id"] for f in static["features"])
    for open_dates in (["2023-06-10", None], [None, "2023-06-20"], None):
        api_open = query_stac(url, spatial_extent=extent, temporal_extent=open_dates)
        static_open = query_stac(
            str(sample_catalog), spatial_extent=extent, temporal_extent=open_dates
        )
        assert sorted(f["id"] for f in api_open["features"]) == sorted(
            f["id"] for f in static_open["features"]
        )
    assert len(query_stac(url)["features"]) > len(ids)  # no extent: every item of the API
    by_id = {f["id"]: f["properties"] for f in static["features"]}
    for feature in found["features"]:
        assert feature["properties"]["datetime"] == by_id[feature["id"]]["datetime"]
        assert feature["properties"]["eo:cloud_cover"] == by_id[feature["id"]]["eo:cloud_cover"]


def test_load_stac_properties_filter_an_api_collection(
    pgstac_api, sample_catalog, seed_aoi, tmp_path
):
    """A graph with load_stac's ``properties`` on a STAC API collection (Copernicus's
    PropertyFilter): the dates of the items whose ``eo:cloud_cover`` is at most 20, read
    independently from the static catalog's item files."""
    from hybrid.aoi import geometry_bbox
    from hybrid.backends.local import LocalBackend
    from hybrid.io.reader import open_result

    box = geometry_bbox(seed_aoi)
    collection = json.loads(sample_catalog.read_text())
    lte = {"process_id": "lte", "arguments": {"x": {"from_parameter": "value"}, "y": 20}}
    load = {
        "url": f"{pgstac_api.url}/collections/{collection['id']}",
        "spatial_extent": {"west": box.west, "south": box.south, "east": box.east,
                           "north": box.north},
        "temporal_extent": ["2023-05-01", "2023-10-01"],
        "bands": ["B04"],
        "properties": {"eo:cloud_cover": {"process_graph": {"c": {**lte, "result": True}}}},
    }  # fmt: skip
    graph = {
        "load": {"process_id": "load_stac", "arguments": load},
        "save": {"process_id": "save_result", "result": True,
                 "arguments": {"data": {"from_node": "load"}, "format": "netCDF"}},
    }  # fmt: skip
    (path,) = LocalBackend().execute(graph, out_dir=tmp_path).files
    got = sorted({str(t)[:10] for t in open_result(path)["t"].values})
    want, every = set(), set()
    for link in collection["links"]:
        if link["rel"] != "item":
            continue
        item = json.loads((sample_catalog.parent / link["href"]).read_text())
        west, south, east, north = item["bbox"]
        day = item["properties"]["datetime"][:10]
        inside = west <= box.east and box.west <= east and south <= box.north and box.south <= north
        if inside and "2023-05-01" <= day < "2023-10-01":
            every.add(day)
            if item["properties"]["eo:cloud_cover"] <= 20:
                want.add(day)
    assert got == sorted(want) and 0 < len(want) < len(every)

    # the conditions go with the search as CQL2 (the API answers only those items)
    import datetime as dt

    from hybrid.backends.local.property_filters import stac_property_conditions
    from hybrid.backends.local.stac_documents import read_stac, searched_items
    from hybrid.backends.local.stac_items import Extent

    conditions = stac_property_conditions("load", load["properties"])
    window = Extent(
        dt.datetime(2023, 5, 1, tzinfo=dt.UTC), dt.datetime(2023, 10, 1, tzinfo=dt.UTC), box
    )
    answered = searched_items(read_stac(load["url"]), window, conditions)
    assert answered and all(i.properties["eo:cloud_cover"] <= 20 for i in answered)


def test_a_partial_swath_product_is_found_by_footprint_through_the_api_as_static(
    pgstac_api, tmp_path
):
    """pgSTAC intersects the box with the items' geometry (not their bbox); the static
    search does the same (hybrid.stac.query)."""
    static = partial_swath_catalog(tmp_path / "swath")
    collection, items = static_catalog_json(static)
    collection["id"] = "swath"
    for item in items:
        item["collection"] = "swath"
    load_into_pgstac(pgstac_api, collection, items)
    from pystac_client import Client

    client = Client.open(pgstac_api.url)
    for corner, expected in (("north-west", []), ("south-east", ["S2A_32TLR_20230502_0_L2A"])):
        box = corner_box(corner)
        raw = client.search(collections=["swath"], bbox=[box.west, box.south, box.east, box.north])
        assert [i.id for i in raw.items()] == expected  # the API's own answer
        query = SceneQuery(box, "2023-05-01", "2023-06-01")
        from_api = [i.id for i in search_api(pgstac_api.url, "swath", query)]
        assert from_api == [i.id for i in search(str(static), query)] == expected


#: tiny scenes recording the orbit as CDSE items do (``sat:orbit_state`` "descending",
#: ``sat:relative_orbit`` 17 on the real item in openeo-geopyspark-driver 9baf2e10
#: tests/data/stac/issue1547-inconsistent-nodata-handling)
ORBITS = {
    "S2A_MSIL2A_20230502T103031_R108_T32TLR_20230502T170208": ("descending", 108),
    "S2B_MSIL2A_20230507T103629_R008_T32TLR_20230507T134516": ("ascending", 8),
    "S2A_MSIL2A_20230512T103031_R065_T32TLR_20230512T170208": ("descending", 65),
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (Condition("sat:orbit_state", "=", "descending"), [0, 2]),
        (Condition("sat:relative_orbit", "=", 108.0), [0]),
        (Condition("sat:relative_orbit", "in", (8.0, 65.0)), [1, 2]),
    ],
)
def test_orbit_filters_on_items_recording_the_orbit_through_the_api(
    pgstac_api, tmp_path, condition, expected
):
    """Copernicus's SENTINEL2_L2A sends ``properties`` to its STAC API under the names
    written and filters the answer once more (load_stac.py L1018-1050, L2618-2633): the
    orbit filters select by the items' ``sat:orbit_state``/``sat:relative_orbit``, here
    through a real API as in a static catalog."""
    scenes = [
        TinyScene(item_id, f"2023-05-{item_id[17:19]}T10:30:00Z", 5.0, layout="planetary-computer")
        for item_id in ORBITS
    ]
    static = write_tiny_catalog(tmp_path / "static", scenes)
    collection, items = static_catalog_json(static)
    collection["id"] = "orbits"
    for item in items:
        state, orbit = ORBITS[item["id"]]
        item["collection"] = "orbits"
        item["properties"] |= {"sat:orbit_state": state, "sat:relative_orbit": orbit}
        path = static.parent / item["id"] / f"{item['id']}.json"
        written = json.loads(path.read_text())
        written["properties"] |= {"sat:orbit_state": state, "sat:relative_orbit": orbit}
        path.write_text(json.dumps(written))
    load_into_pgstac(pgstac_api, collection, items)
    query = SceneQuery(BBox(*tiny_bbox()), "2023-05-01", "2023-06-01", conditions=(condition,))
    want = sorted(scenes[n].id for n in expected)
    assert sorted(i.id for i in search_api(pgstac_api.url, "orbits", query)) == want
    assert sorted(i.id for i in search(str(static), query)) == want
