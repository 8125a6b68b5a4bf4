"""Provider layouts, static-catalog search and Copernicus-like scene assembly, on tiny real COGs."""

from __future__ import annotations

import json

import numpy as np
import pystac
import pytest

from hybrid.backends.local.loader import LoadRequest, load_s2
from hybrid.errors import BandNotFound, DataSourceError, NoDataAvailable
from hybrid.grid import BBox, lonlat_envelope, output_grid
from hybrid.stac.access import is_planetary_computer_href, s3_credentials, sign_items
from hybrid.stac.providers import (
    CDSE,
    EARTH_SEARCH,
    PLANETARY_COMPUTER,
    detect_layout,
    read_hrefs,
)
from hybrid.stac.query import SceneQuery
from hybrid.stac.source import search
from tests.stac_fixtures import (
    TinyScene,
    corner_box,
    partial_swath_catalog,
    tiny_bbox,
    write_tiny_catalog,
)

BOUNDARY = [
    TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 19.9),
    TinyScene("S2A_32TLR_20230512_0_L2A", "2023-05-12T10:30:00Z", 20.0),
    TinyScene("S2A_32TLR_20230522_0_L2A", "2023-05-22T10:30:00Z", 20.1),
]


def _inner_bbox() -> BBox:
    west, south, east, north = tiny_bbox()
    dx, dy = (east - west) / 4, (north - south) / 4
    return BBox(west + dx, south + dy, east - dx, north - dy)


def _item(layout: str, props: dict, assets: dict) -> pystac.Item:
    return pystac.Item.from_dict(
        {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": f"{layout}-item",
            "geometry": None,
            "properties": {"datetime": "2023-05-02T10:30:00Z", **props},
            "assets": {k: {"href": f"https://example.org/{k}.tif", **v} for k, v in assets.items()},
            "links": [],
        }
    )


def test_cloud_filter_is_exact_at_the_boundary_in_static_catalogs(tmp_path):
    catalog = write_tiny_catalog(tmp_path / "cat", BOUNDARY)
    query = SceneQuery(_inner_bbox(), "2023-05-01", "2023-06-01", 20.0)
    found = [i.properties["eo:cloud_cover"] for i in search(str(catalog), query)]
    assert found == [19.9, 20.0]


def test_end_date_is_exclusive_and_start_inclusive(tmp_path):
    catalog = write_tiny_catalog(tmp_path / "cat", BOUNDARY)
    ids = [
        i.id for i in search(str(catalog), SceneQuery(_inner_bbox(), "2023-05-12", "2023-05-22"))
    ]
    assert ids == ["S2A_32TLR_20230512_0_L2A"]


def test_bbox_outside_finds_nothing(tmp_path):
    catalog = write_tiny_catalog(tmp_path / "cat", BOUNDARY)
    far = BBox(10.0, 50.0, 10.1, 50.1)
    assert search(str(catalog), SceneQuery(far, "2023-05-01", "2023-06-01")) == []


@pytest.mark.parametrize(("corner", "found"), [("north-west", 0), ("south-east", 1)])
def test_a_static_catalog_is_searched_by_footprint_not_bbox(tmp_path, corner, found):
    """A partial-swath product whose bbox reaches the box but whose footprint does not is
    not found, as a STAC API's bbox search (pgSTAC ``ST_Intersects`` of the geometry,
    the search Copernicus's load_stac sends) does not find it: the same items whether
    the source is static or an API (tests/stac/test_stac_pgstac.py). Before, the static
    search took the bbox, and such a date came out all nodata."""
    catalog = partial_swath_catalog(tmp_path / "cat")
    query = SceneQuery(corner_box(corner), "2023-05-01", "2023-06-01")
    assert len(search(str(catalog), query)) == found


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Polygon", "coordinates": [[[6.0, 45.0], [6.1, 45.1]]]},  # 2 positions
        {"type": "Polygon"},  # no coordinates
        {"type": "Ring", "coordinates": []},  # no such type
    ],
)
def test_an_item_whose_geometry_shapely_cannot_read_is_found_by_its_bbox(tmp_path, geometry):
    """A malformed footprint in a static catalog is no footprint: the item's bbox decides
    (as for an invalid one), not a ValueError out of the search."""
    catalog = write_tiny_catalog(tmp_path / "cat", BOUNDARY[:1])
    item_path = tmp_path / "cat" / BOUNDARY[0].id / f"{BOUNDARY[0].id}.json"
    item = json.loads(item_path.read_text())
    item["geometry"] = geometry
    item_path.write_text(json.dumps(item))
    query = SceneQuery(BBox(*tiny_bbox()), "2023-05-01", "2023-06-01")
    assert [i.id for i in search(str(catalog), query)] == [BOUNDARY[0].id]


def test_duplicates_resolve_to_the_newest_processing_not_the_lowest_cloud(tmp_path):
    """No ``updated`` property: the greatest id wins (Copernicus ItemDeduplicator)."""
    scenes = [
        TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 12.0, red=1111),
        TinyScene("S2A_32TLR_20230502_1_L2A", "2023-05-02T10:30:05Z", 3.0, red=2222),
        TinyScene("S2A_32TLR_20230502_2_L2A", "2023-05-02T10:30:09Z", 7.0, red=3333),
    ]
    catalog = write_tiny_catalog(tmp_path / "cat", scenes)
    request = LoadRequest(_inner_bbox(), "2023-05-01", "2023-06-01", ("B04", "SCL"), None)
    loaded = load_s2(str(catalog), request)
    assert [len(day.items) for day in loaded.scenes] == [1]
    assert loaded.scenes[0].items[0].id == "S2A_32TLR_20230502_2_L2A"
    assert [i.id for i in loaded.scenes[0].replaced] == [
        "S2A_32TLR_20230502_0_L2A",
        "S2A_32TLR_20230502_1_L2A",
    ]
    cube = loaded.cube.compute()
    assert cube.sizes["t"] == 1
    assert str(cube["t"].values[0]) == "2023-05-02T00:00:00.000000000"
    np.testing.assert_array_equal(np.unique(cube.sel(bands="B04").values), [3333 - 1000])


def test_mixed_processing_baselines_are_harmonised(tmp_path):
    # the same surface (DN 1500 / 4000 before 04.00) stored by four products
    scenes = [
        TinyScene("S2A_32TLR_20211202_0_L2A", "2021-12-02T10:30:00Z", 1.0,
                  red=1500, nir=4000, baseline="03.01", layout="planetary-computer"),
        TinyScene("S2A_32TLR_20220502_0_L2A", "2022-05-02T10:30:00Z", 1.0,
                  red=2500, nir=5000, baseline="05.09", layout="planetary-computer"),
        TinyScene("S2A_32TLR_20211212_0_L2A", "2021-12-12T10:30:00Z", 1.0,
                  red=1500, nir=4000, baseline="03.01", layout="earth-search"),
        TinyScene("S2A_32TLR_20220512_0_L2A", "2022-05-12T10:30:00Z", 1.0,
                  red=2500, nir=5000, baseline="05.09", layout="earth-search"),
        # Earth Search v1 from 04.00: flagged earthsearch:boa_offset_applied, raster:bands -0.1
        TinyScene("S2A_32TLR_20220522_0_L2A", "2022-05-22T10:30:00Z", 1.0,
                  red=2500, nir=5000, baseline="05.09", layout="earth-search-v1"),
        TinyScene("S2A_32TLR_20211222_0_L2A", "2021-12-22T10:30:00Z", 1.0,
                  red=1500, nir=4000, baseline="03.01", layout="earth-search-v1"),
    ]  # fmt: skip
    catalog = write_tiny_catalog(tmp_path / "cat", scenes)
    request = LoadRequest(_inner_bbox(), "2021-11-01", "2022-06-01", ("B04", "B08", "SCL"), None)
    cube = load_s2(str(catalog), request).cube.compute()
    assert cube.sizes["t"] == 6
    for t in range(6):
        assert np.unique(cube.isel(t=t).sel(bands="B04").values).tolist() == [1500.0]
        assert np.unique(cube.isel(t=t).sel(bands="B08").values).tolist() == [4000.0]
        assert np.unique(cube.isel(t=t).sel(bands="SCL").values).tolist() == [4.0]


def test_layouts_are_recognised_from_content():
    es = _item("es", {"earthsearch:boa_offset_applied": True}, {"red": {}, "nir": {}, "scl": {}})
    pc = _item("pc", {"s2:processing_baseline": "05.09"}, {"B04": {}, "B08": {}, "SCL": {}})
    cdse = _item(
        "cdse", {"processing:version": "05.10"},
        {"B04_10m": {}, "B04_20m": {}, "B08_10m": {}, "SCL_20m": {}, "SCL_60m": {}},
    )  # fmt: skip
    assert detect_layout(es) is EARTH_SEARCH
    assert detect_layout(pc) is PLANETARY_COMPUTER
    assert detect_layout(cdse) is CDSE
    assert CDSE.asset_key(cdse, "B04") == "B04_10m"
    assert CDSE.asset_key(cdse, "SCL") == "SCL_20m"
    assert PLANETARY_COMPUTER.dn_offset(pc, "B04") == -1000.0
    assert PLANETARY_COMPUTER.dn_offset(pc, "SCL") == 0.0
    assert PLANETARY_COMPUTER.dtype(pc, "SCL") == "uint8"
    assert PLANETARY_COMPUTER.nodata(pc, "B04") == 0.0
    assert CDSE.dn_offset(cdse, "B08") == -1000.0


def test_offset_comes_from_raster_bands_before_the_baseline():
    raster = {"raster:bands": [{"nodata": 0, "scale": 0.0001, "offset": -0.1}]}
    # raster:bands decides, whatever Earth Search v1's boa flag says
    item = _item("es", {"earthsearch:boa_offset_applied": False}, {"red": raster, "scl": {}})
    assert EARTH_SEARCH.dn_offset(item, "B04") == -1000.0
    item.properties["earthsearch:boa_offset_applied"] = True
    assert EARTH_SEARCH.dn_offset(item, "B04") == -1000.0
    raster_v2 = {"raster:scale": 0.0001, "raster:offset": 0.0}
    old = _item("cdse", {"processing:version": "05.10"}, {"B04_10m": raster_v2})
    assert CDSE.dn_offset(old, "B04") == 0.0
    old_pc = _item("pc", {"s2:processing_baseline": "03.01"}, {"B04": {}})
    assert PLANETARY_COMPUTER.dn_offset(old_pc, "B04") == 0.0


def test_missing_band_error_lists_what_the_provider_has():
    item = _item("pc", {"s2:processing_baseline": "05.09"}, {"B04": {}, "B08": {}, "SCL": {}})
    with pytest.raises(BandNotFound) as info:
        PLANETARY_COMPUTER.asset_key(item, "B8A")
    message = str(info.value)
    assert "B8A" in message and "B04, B08, SCL" in message and "pc-item" in message


def test_missing_band_through_the_loader(tmp_path):
    catalog = write_tiny_catalog(tmp_path / "cat", BOUNDARY[:1])
    request = LoadRequest(_inner_bbox(), "2023-05-01", "2023-06-01", ("B04", "B11"), None)
    with pytest.raises(BandNotFound, match=r"no asset for band B11; it has B04, B08, SCL"):
        load_s2(str(catalog), request)


def test_only_planetary_computer_blob_hrefs_are_signed():
    assert is_planetary_computer_href("https://sentinel2l2a01.blob.core.windows.net/x/B04.tif")
    assert not is_planetary_computer_href("https://sentinel-cogs.s3.amazonaws.com/x/B04.tif")
    item = _item("es", {}, {"red": {}})
    (same,) = sign_items([item], read_hrefs)
    assert same is item and same.assets["red"].href == "https://example.org/red.tif"


def test_s3_credentials_come_from_the_environment():
    with pytest.raises(DataSourceError, match="CDSE_S3_ACCESS_KEY"):
        s3_credentials({})
    creds = s3_credentials(
        {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "CDSE_S3_ACCESS_KEY": "c",
         "CDSE_S3_SECRET_KEY": "d", "AWS_S3_ENDPOINT": "https://s3.example.org/"}
    )  # fmt: skip
    assert (creds.access_key, creds.secret_key, creds.endpoint) == ("c", "d", "s3.example.org")
    assert s3_credentials({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}).endpoint == (
        "eodata.dataspace.copernicus.eu"
    )


def test_s3_items_without_credentials_fail_with_a_clear_error(tmp_path, monkeypatch):
    for name in ("CDSE_S3_ACCESS_KEY", "CDSE_S3_SECRET_KEY", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    catalog = write_tiny_catalog(tmp_path / "cat", BOUNDARY[:1])
    item_json = catalog.parent / BOUNDARY[0].id / f"{BOUNDARY[0].id}.json"
    item_json.write_text(
        item_json.read_text().replace('"./red.tif"', '"s3://eodata/Sentinel-2/red.jp2"')
    )
    query = SceneQuery(_inner_bbox(), "2023-05-01", "2023-06-01")
    with pytest.raises(DataSourceError, match="no S3 credentials"):
        search(str(catalog), query)


def test_products_are_searched_in_the_extent_not_in_the_grid_that_covers_it(tmp_path):
    """Copernicus sends the load's extent, in lon/lat, to its STAC API (load_stac.py
    L1543); the UTM grid that covers it reaches a few metres further (its rotation against
    lon/lat, the 10 m snapping). A product beyond the extent but within that grid's lon/lat
    envelope is not found there, and not here (it was, through the grid's envelope)."""
    catalog = write_tiny_catalog(tmp_path / "cat", BOUNDARY[:1])
    west, south, east, north = tiny_bbox()  # the product's footprint

    def east_of_it(gap: float) -> BBox:
        return BBox(east + gap, south + (north - south) / 4, east + gap + (east - west) / 2,
                    north - (north - south) / 4)  # fmt: skip

    growth = east - lonlat_envelope(output_grid(east_of_it(0.0))).west
    extent = east_of_it(growth / 2)
    assert lonlat_envelope(output_grid(extent)).west < east < extent.west  # the premise
    request = LoadRequest(extent, "2023-05-01", "2023-06-01", ("B04",), None)
    with pytest.raises(NoDataAvailable, match="no Sentinel-2 L2A scene"):
        load_s2(str(catalog), request)


def _text_cloud_catalog(root):
    """BOUNDARY's first two scenes, the second with its cloud cover written as text."""
    catalog = write_tiny_catalog(root, BOUNDARY[:2])
    path = root / BOUNDARY[1].id / f"{BOUNDARY[1].id}.json"
    item = json.loads(path.read_text())
    item["properties"]["eo:cloud_cover"] = "20.0"
    path.write_text(json.dumps(item))
    return catalog


def test_a_cloud_cover_written_as_text_is_one_clear_error_not_a_number(tmp_path):
    """Copernicus's post-query filter compares the value as written (load_stac.py
    L2604-2616: ``actual <= value``): "20.0" <= 20 is a TypeError there, so the job fails;
    it was read as the number 20 here and the scene kept."""
    from hybrid.errors import ProcessParameterInvalid
    from hybrid.stac.query import Condition

    catalog = _text_cloud_catalog(tmp_path / "cat")
    query = SceneQuery(_inner_bbox(), "2023-05-01", "2023-06-01", 20.0)
    with pytest.raises(ProcessParameterInvalid) as info:
        search(str(catalog), query)
    message = str(info.value)
    assert "\n" not in message and BOUNDARY[1].id in message
    assert "eo:cloud_cover '20.0'" in message and "not a number" in message
    # no limit: the item is found; text never equals a number (Python's "20.0" == 20.0)
    assert len(search(str(catalog), SceneQuery(_inner_bbox(), "2023-05-01", "2023-06-01"))) == 2
    assert not Condition("eo:cloud_cover", "=", 20.0).holds("20.0")
    assert not Condition("eo:cloud_cover", "in", (20.0, 30.0)).holds("20.0")
    assert Condition("eo:cloud_cover", "<>", 20.0).holds("20.0")
