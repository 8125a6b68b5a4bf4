"""Property filters beyond cloud cover, as Copernicus's SENTINEL2_L2A takes them: the
tile (``grid:code`` "MGRS-31UFS", legacy ``tileId`` "31UFS" adapted to it, wildcards),
the relative orbit and the orbit state, read alike from CDSE, Earth Search and Planetary
Computer items; other names compared with the items' own properties, an item without the
property dropped (load_stac.py L2633), so a load that keeps none is NoDataAvailable.

Copernicus sources: openeo-python-driver ``filter_properties.py`` L14-76 (eq, lte, gte,
array_contains), openeo-geopyspark-driver ``load_stac.py`` L2598-2631 (wildcards, the
post-query matcher), L2731-2806 + ``docs/layercatalog.md`` L195-210 (tileId ->
grid:code with the MGRS- prefix, productType dropped).
"""

from __future__ import annotations

from typing import Any

import pystac
import pytest

from hybrid.backends.local import LocalBackend
from hybrid.backends.local.loader import LoadRequest, load_s2
from hybrid.errors import NoDataAvailable, ProcessParameterInvalid
from hybrid.grid import BBox
from hybrid.stac.item_properties import FILTERABLE, property_value
from hybrid.stac.query import Condition, SceneQuery, cql2_filter
from hybrid.stac.source import search
from tests.stac.test_property_filters import VALUE, _cmp, _graph
from tests.stac_fixtures import TinyScene, tiny_bbox, write_tiny_catalog


def _item(item_id: str, **props: Any) -> Any:
    return pystac.Item.from_dict(
        {
            "type": "Feature",
            "stac_version": "1.1.0",
            "id": item_id,
            "bbox": [6.6, 45.2, 6.7, 45.3],
            "geometry": None,
            "properties": {"datetime": "2023-06-09T10:30:00Z", **props},
            "assets": {},
            "links": [],
        }
    )


#: the same product as each provider describes it
CDSE = _item(
    "S2A_MSIL2A_20230609T103031_N0509_R108_T31TGL_20230609T170208",
    **{"grid:code": "MGRS-31TGL", "sat:relative_orbit": 108, "sat:orbit_state": "descending"},
)
EARTH_SEARCH = _item(
    "S2A_31TGL_20230609_0_L2A",
    **{
        "grid:code": "MGRS-31TGL",
        "mgrs:utm_zone": 31,
        "s2:product_uri": "S2A_MSIL2A_20230609T103031_N0509_R108_T31TGL_20230609T170208.SAFE",
    },
)
PLANETARY = _item(
    "S2A_MSIL2A_20230609T103031_R108_T31TGL_20230609T170208",
    **{"s2:mgrs_tile": "31TGL", "sat:orbit_state": "descending", "sat:relative_orbit": 108},
)


@pytest.mark.parametrize("item", [CDSE, EARTH_SEARCH, PLANETARY], ids=lambda i: i.id[:10])
def test_tile_and_orbit_read_alike_from_every_provider(item):
    assert property_value(item, "grid:code") == "MGRS-31TGL"
    assert property_value(item, "sat:relative_orbit") == 108


def test_relative_orbit_from_the_product_name_when_not_a_property():
    bare = _item("S2B_MSIL2A_20230612T103629_R008_T32TLR_20230612T134310")
    assert property_value(bare, "sat:relative_orbit") == 8
    assert property_value(bare, "grid:code") == "MGRS-32TLR"
    assert property_value(EARTH_SEARCH, "sat:orbit_state") is None


PARSED = {
    "tileId-eq": (
        {"tileId": _cmp("eq", x=VALUE, y="31TGL")},
        (Condition("grid:code", "=", "MGRS-31TGL"),),
    ),
    "tileId-wildcard": (
        {"tileId": _cmp("eq", x=VALUE, y="31T*")},
        (Condition("grid:code", "like", "MGRS-31T*"),),
    ),
    "tileId-mirrored": (
        {"tileId": _cmp("eq", x="32TLR", y=VALUE)},
        (Condition("grid:code", "=", "MGRS-32TLR"),),
    ),
    "grid-code-in": (
        {"grid:code": _cmp("array_contains", data=["MGRS-31TGL", "MGRS-32TLR"], value=VALUE)},
        (Condition("grid:code", "in", ("MGRS-31TGL", "MGRS-32TLR")),),
    ),
    "orbit-and-state": (
        {
            "sat:relative_orbit": _cmp("eq", x=VALUE, y=108),
            "sat:orbit_state": _cmp("eq", x=VALUE, y="descending"),
        },
        (
            Condition("sat:relative_orbit", "=", 108.0),
            Condition("sat:orbit_state", "=", "descending"),
        ),
    ),
    "productType-dropped": ({"productType": _cmp("eq", x=VALUE, y="L2A")}, ()),
}


@pytest.mark.parametrize("case", list(PARSED))
def test_filters_become_conditions_on_copernicus_names(case):
    properties, expected = PARSED[case]
    assert LocalBackend().validate(_graph(properties)).conditions == expected


@pytest.mark.parametrize(
    ("properties", "words"),
    [
        ({"relativeOrbitNumber": _cmp("eq", x=VALUE, y=108)}, ["sat:relative_orbit", "108"]),
        ({"orbitDirection": _cmp("eq", x=VALUE, y="DESCENDING")}, ["sat:orbit_state"]),
        ({"tileId": _cmp("eq", x=VALUE, y=31)}, ["text"]),
        ({"sat:relative_orbit": _cmp("eq", x=VALUE, y="R108")}, ["number"]),
    ],
)
def test_other_names_and_values_get_one_clear_error(properties, words):
    with pytest.raises(ProcessParameterInvalid) as info:
        LocalBackend().validate(_graph(properties))
    assert info.value.status == 400 and "\n" not in str(info.value)
    assert all(word in str(info.value) for word in words)


def test_apis_are_sent_only_what_every_provider_names_alike():
    conditions = (
        Condition("eo:cloud_cover", "<=", 20.0),
        Condition("grid:code", "=", "MGRS-31TGL"),
        Condition("sat:relative_orbit", "=", 108.0),
        Condition("platform", "in", ("sentinel-2a",)),
    )
    assert cql2_filter(conditions) == {
        "op": "and",
        "args": [
            {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 20.0]},
            {"op": "in", "args": [{"property": "platform"}, ["sentinel-2a"]]},
        ],
    }
    assert not any(FILTERABLE[n].sent_to_api for n in ("grid:code", "sat:orbit_state"))


SCENES = [
    TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 10, tile="32TLR"),
    TinyScene("S2A_31TGL_20230502_0_L2A", "2023-05-02T10:30:00Z", 10, tile="31TGL"),
    TinyScene(
        "S2A_MSIL2A_20230512T103031_R108_T31TGL_20230512T170208",
        "2023-05-12T10:30:00Z",
        10,
        layout="planetary-computer",
        tile="31TGL",
    ),
]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (Condition("grid:code", "=", "MGRS-31TGL"), [1, 2]),
        (Condition("grid:code", "like", "MGRS-32T*"), [0]),
        (Condition("grid:code", "in", ("MGRS-32TLR", "MGRS-31TGL")), [0, 1, 2]),
    ],
)
def test_static_catalogs_evaluate_tile_filters(condition, expected, tmp_path):
    catalog = write_tiny_catalog(tmp_path / "cat", SCENES)
    query = SceneQuery(BBox(*tiny_bbox()), "2023-05-01", "2023-06-01", conditions=(condition,))
    assert sorted(i.id for i in search(str(catalog), query)) == sorted(
        SCENES[n].id for n in expected
    )


def test_a_property_the_source_does_not_record_is_one_clear_error(tmp_path):
    catalog = write_tiny_catalog(tmp_path / "cat", SCENES[:1])
    condition = Condition("sat:orbit_state", "=", "descending")
    query = SceneQuery(BBox(*tiny_bbox()), "2023-05-01", "2023-06-01", conditions=(condition,))
    with pytest.raises(ProcessParameterInvalid, match="does not record sat:orbit_state") as info:
        search(str(catalog), query)
    assert "grid:code" in str(info.value) and "sat:relative_orbit" in str(info.value)


def _unknown_name_query(properties: dict[str, Any]) -> SceneQuery:
    conditions = LocalBackend().validate(_graph(properties)).conditions
    return SceneQuery(BBox(*tiny_bbox()), "2023-05-01", "2023-06-01", conditions=conditions)


def test_a_name_copernicus_does_not_know_is_compared_with_the_items_own_property(tmp_path):
    """Copernicus's PropertyFilter refuses no name: ``s2:mgrs_tile`` is sent to the API
    as written and matched on each item's properties; an item without it never matches
    (load_stac.py L1536, L1628, L2633). Only the Planetary Computer item records it."""
    catalog = write_tiny_catalog(tmp_path / "cat", SCENES)
    query = _unknown_name_query({"s2:mgrs_tile": _cmp("eq", x=VALUE, y="31TGL")})
    assert query.conditions == (Condition("s2:mgrs_tile", "=", "31TGL"),)
    assert [i.id for i in search(str(catalog), query)] == [SCENES[2].id]
    assert cql2_filter(query.conditions) == {
        "op": "=",
        "args": [{"property": "s2:mgrs_tile"}, "31TGL"],
    }


def test_a_tile_filter_on_eo_mgrs_finds_no_data_as_on_copernicus(tmp_path):
    """openeo-usecases jrc_noudf.json filters ``eo:mgrs == "31UFT"``: no item records
    ``eo:mgrs`` (CDSE's name the tile ``grid:code``), so every item is dropped and the
    load is Copernicus's 400 NoDataAvailable (load_stac.py L120-123, L268-269)."""
    catalog = write_tiny_catalog(tmp_path / "cat", SCENES)
    query = _unknown_name_query({"eo:mgrs": _cmp("eq", x=VALUE, y="31UFT")})
    assert search(str(catalog), query) == []
    request = LoadRequest(
        query.bbox, query.start, query.end, ("B04",), None, conditions=query.conditions
    )
    with pytest.raises(NoDataAvailable, match="eo:mgrs = '31UFT'") as info:
        load_s2(str(catalog), request)
    assert info.value.status == 400 and "\n" not in str(info.value)
