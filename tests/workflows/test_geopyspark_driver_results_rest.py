"""The last two of openeo-geopyspark-driver's result tests (``tests/test_api_result.py``
at 9baf2e10) replayed on ``hybrid serve`` with the real openeo client over a static STAC
copy of TestCollection-LonLat4x4 (:mod:`tests.workflows.lonlat_collection`):
test_load_collection_open_temporal_extent (L1959-1987) and test_udf_invalid_signature
(L1821-1878).

The driver's collection yields a date on the 5th, 15th and 25th of each month from 2000
up to "now" (``time_machine`` at 2020-02-20); the copy holds the dates of the first two
months of 2000 and those from December 2018 to that "now": the years between change
neither end of either answer.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from tests.workflows.lonlat_collection import write_lonlat_collection
from tests.workflows.lonlat_graphs import UNIT, load, saved
from tests.workflows.test_geopyspark_driver_results_more import connection

__all__ = ["connection"]


@pytest.fixture(scope="module")
def since_2000(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One collection of the two spans' items (each written by the one writer)."""
    from tests.stac_fixtures import serving_directory

    root = tmp_path_factory.mktemp("lonlat-since-2000")
    links = []
    spans = {"early": ("2000-01-01", "2000-03-01"), "late": ("2018-12-01", "2020-02-20")}
    for name, span in spans.items():
        path = write_lonlat_collection(root / name, span, box=(0, 0, 1, 1), bands=["Day"])
        collection = json.loads(path.read_text())
        links += [
            {**link, "href": f"./{name}/{link['href'][2:]}"}
            for link in collection["links"]
            if link["rel"] == "item"
        ]
    collection["links"] = [collection["links"][0], *links]
    collection["extent"]["temporal"]["interval"] = [["2000-01-05T00:00:00Z", None]]
    (root / "collection.json").write_text(json.dumps(collection))
    with serving_directory(root) as base:
        yield f"{base}/collection.json"


@pytest.mark.parametrize(
    ("temporal_extent", "expected"),
    [
        (("2020-01-01", None), ("2020-01-05 00:00:00", "2020-02-15 00:00:00")),
        ((None, "2019-01-10"), ("2000-01-05 00:00:00", "2019-01-05 00:00:00")),
    ],
)
def test_load_collection_open_temporal_extent(
    connection: Any, since_2000: str, temporal_extent: tuple, expected: tuple
) -> None:
    """test_load_collection_open_temporal_extent (L1959-1987): an open end of the
    temporal extent takes the collection's dates up to its last, an open start from its
    first."""
    result = connection.execute(saved({"lc": load(since_2000, temporal_extent, ["Day"])}, "lc"))
    assert result["dims"] == ["t", "bands", "x", "y"]
    dates = result["coords"]["t"]["data"]
    assert (min(dates), max(dates)) == expected


@pytest.mark.parametrize(
    "udf_code",
    [
        """
        def hello(name: str):
            return f"hello {name}"
        """,
        """
        def apply_datacube(cube, context: dict):
            return DataCube(cube.get_array().max("t"))
        """,
        """
        def apply_hypercube(cube, context: dict):
            return DataCube(cube.get_array().max("t"))
        """,
        """
        from openeo.udf import XarrayDataCube
        def apply_datacube(cube: XarrayDataCube) -> XarrayDataCube:
            return XarrayDataCube(cube.get_array().max("t"))
        """,
    ],
    ids=["no_entry_point", "no_annotations", "apply_hypercube", "no_context"],
)
def test_udf_invalid_signature(connection: Any, since_2000: str, udf_code: str) -> None:
    """test_udf_invalid_signature (L1821-1878): a UDF without a function of a known
    signature is answered "No UDF found", as there (openeo.udf ``run_udf_code``), but with
    a 400 rather than the driver's 500 Internal (its own TODO, L1877-1878)."""
    from openeo.rest import OpenEoApiError

    udf = {"process_graph": {"udf": {
        "process_id": "run_udf",
        "arguments": {"data": {"from_parameter": "data"}, "udf": textwrap.dedent(udf_code),
                      "runtime": "Python"},
        "result": True,
    }}}  # fmt: skip
    nodes = {
        "lc": load(since_2000, ["2020-01-01", "2020-02-01"], ["Day"], UNIT),
        "reduce": {
            "process_id": "reduce_dimension",
            "arguments": {"data": {"from_node": "lc"}, "dimension": "t", "reducer": udf},
        },
    }
    with pytest.raises(OpenEoApiError) as error:
        connection.execute(saved(nodes, "reduce"))
    assert error.value.http_status_code == 400
    assert "No UDF found" in error.value.message
