"""load_collection ``properties`` like Copernicus's load_stac: every comparison on
eo:cloud_cover (and the other advertised properties) becomes a CQL2 condition, values
as written (20.5 stays 20.5), evaluated identically for static catalogs; anything else
is refused with one clear error before loading."""

from __future__ import annotations

import pytest

from hybrid.backends.local import LocalBackend
from hybrid.errors import ProcessParameterInvalid
from hybrid.grid import BBox
from hybrid.stac.query import Condition, SceneQuery, cql2_filter
from hybrid.stac.source import search
from tests.stac_fixtures import TinyScene, tiny_bbox, write_tiny_catalog

SCENES = [
    TinyScene("S2A_32TLR_20230502_0_L2A", "2023-05-02T10:30:00Z", 19.9),
    TinyScene("S2A_32TLR_20230512_0_L2A", "2023-05-12T10:30:00Z", 20.0),
    TinyScene("S2A_32TLR_20230522_0_L2A", "2023-05-22T10:30:00Z", 20.1),
    TinyScene("S2A_32TLR_20230527_0_L2A", "2023-05-27T10:30:00Z", 20.5),
]


def _graph(properties: dict) -> dict:
    return {
        "load": {
            "process_id": "load_collection",
            "arguments": {
                "id": "SENTINEL2_L2A",
                "spatial_extent": {"west": 6.65, "south": 45.22, "east": 6.67, "north": 45.26},
                "temporal_extent": ["2023-05-01", "2023-06-01"],
                "properties": properties,
            },
        },
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "load"}, "format": "netCDF"},
            "result": True,
        },
    }


def _cmp(op: str, **arguments) -> dict:
    return {"process_graph": {"c": {"process_id": op, "arguments": arguments, "result": True}}}


VALUE = {"from_parameter": "value"}
PARSED = {
    "lt": (_cmp("lt", x=VALUE, y=20.5), [Condition("eo:cloud_cover", "<", 20.5)]),
    "lte": (_cmp("lte", x=VALUE, y=20), [Condition("eo:cloud_cover", "<=", 20.0)]),
    "gt": (_cmp("gt", x=VALUE, y=20), [Condition("eo:cloud_cover", ">", 20.0)]),
    "gte": (_cmp("gte", x=VALUE, y=20), [Condition("eo:cloud_cover", ">=", 20.0)]),
    "eq": (_cmp("eq", x=VALUE, y=20), [Condition("eo:cloud_cover", "=", 20.0)]),
    "mirrored": (_cmp("lt", x=20, y=VALUE), [Condition("eo:cloud_cover", ">", 20.0)]),
    "between": (
        _cmp("between", x=VALUE, min=19.95, max=20.05),
        [Condition("eo:cloud_cover", ">=", 19.95), Condition("eo:cloud_cover", "<=", 20.05)],
    ),
    "between-exclude-max": (
        _cmp("between", x=VALUE, min=20, max=20.5, exclude_max=True),
        [Condition("eo:cloud_cover", ">=", 20.0), Condition("eo:cloud_cover", "<", 20.5)],
    ),
}


@pytest.mark.parametrize("case", list(PARSED))
def test_cloud_cover_comparisons_become_conditions_as_written(case):
    condition, expected = PARSED[case]
    facts = LocalBackend().validate(_graph({"eo:cloud_cover": condition}))
    assert list(facts.conditions) == expected


def test_platform_equality_is_a_text_condition():
    facts = LocalBackend().validate(_graph({"platform": _cmp("eq", x=VALUE, y="sentinel-2a")}))
    assert facts.conditions == (Condition("platform", "=", "sentinel-2a"),)
    assert facts.max_cloud_cover is None


@pytest.mark.parametrize(
    ("properties", "word"),
    [
        ({"eo:cloud_cover": _cmp("is_nan", x=VALUE)}, "is_nan"),
        ({"eo:cloud_cover": _cmp("lt", x=VALUE, y="20")}, "number"),
        ({"platform": _cmp("lt", x=VALUE, y="sentinel-2a")}, "lt"),
    ],
)
def test_unsupported_filters_are_refused_with_one_clear_error(properties, word):
    with pytest.raises(ProcessParameterInvalid, match=word) as info:
        LocalBackend().validate(_graph(properties))
    assert "\n" not in str(info.value)


def test_the_cql2_filter_is_the_conditions_as_written():
    conditions = PARSED["between"][1]
    assert cql2_filter(tuple(conditions)) == {
        "op": "and",
        "args": [
            {"op": ">=", "args": [{"property": "eo:cloud_cover"}, 19.95]},
            {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 20.05]},
        ],
    }


STATIC = {
    "lt-20.5": ([Condition("eo:cloud_cover", "<", 20.5)], [19.9, 20.0, 20.1]),
    "lte-20.5": ([Condition("eo:cloud_cover", "<=", 20.5)], [19.9, 20.0, 20.1, 20.5]),
    "gt-20": ([Condition("eo:cloud_cover", ">", 20.0)], [20.1, 20.5]),
    "eq-20": ([Condition("eo:cloud_cover", "=", 20.0)], [20.0]),
    "between": (PARSED["between"][1], [20.0]),
}


@pytest.mark.parametrize("case", list(STATIC))
def test_static_catalogs_evaluate_the_conditions(case, tmp_path):
    conditions, expected = STATIC[case]
    catalog = write_tiny_catalog(tmp_path / "cat", SCENES)
    west, south, east, north = tiny_bbox()
    query = SceneQuery(
        BBox(west, south, east, north), "2023-05-01", "2023-06-01", conditions=tuple(conditions)
    )
    assert [i.properties["eo:cloud_cover"] for i in search(str(catalog), query)] == expected


@pytest.mark.parametrize(
    ("condition", "dates"),
    [
        (_cmp("lt", x=VALUE, y=20.5), ["2023-05-02", "2023-05-12", "2023-05-22"]),
        (_cmp("between", x=VALUE, min=20, max=20.1), ["2023-05-12", "2023-05-22"]),
        (_cmp("gt", x=20.05, y=VALUE), ["2023-05-02", "2023-05-12"]),
    ],
)
def test_a_local_run_loads_only_the_matching_scenes(condition, dates, tmp_path):
    import xarray as xr

    from hybrid.backends.local import LocalSettings

    catalog = write_tiny_catalog(tmp_path / "cat", SCENES)
    west, south, east, north = tiny_bbox()
    dx, dy = (east - west) / 4, (north - south) / 4
    graph = _graph({"eo:cloud_cover": condition})
    graph["load"]["arguments"] |= {
        "spatial_extent": {"west": west + dx, "south": south + dy, "east": east - dx,
                           "north": north - dy},
        "bands": ["B04"],
    }  # fmt: skip
    result = LocalBackend(LocalSettings(stac=str(catalog))).execute(graph, out_dir=tmp_path / "o")
    (nc,) = result.files
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        found = [str(t)[:10] for t in ds["t"].values]
    assert found == dates
