"""openeo-geopyspark-driver's ``tests/test_apply_dimension.py`` and
``tests/test_reduce_dimension.py`` (9baf2e10) replayed on ``hybrid serve`` with the real
openeo client: the driver calls its datacube API on the Spark fixture
``imagecollection_with_two_bands_and_three_dates`` (tests/datacube_fixtures.py
L147-208); here that layer is a static STAC collection of COGs
(:mod:`tests.workflows.driver_layers`) read with ``load_stac``, and the driver's
expected cells are asserted as written.

Differences kept, and why:

- a load drops a date without any value (:mod:`hybrid.backends.local.empty_dates`, as
  Copernicus drops all-nodata tiles while loading), so the fixture's all-nodata
  2017-09-30 is no date of the loaded cube: test_reduce_bands checks the two others, and
  test_apply_dimension_array_interpolate_linear loads a copy whose empty date holds one
  value (its last pixel, not compared);
- a run_udf "reducer" that returns its input (``udf_noop``) is refused here (400, the
  dimension must go); the driver runs it without a check (geopysparkdatacube.py
  L808-811, L830-838) and leaves several tiles per key (``to_spatial_layer`` L824-827),
  which its tests read back in test_reduce_bands_reduce_time and test_reduce_bands_udf;
- the ``udf_noop_jep`` variants (runtime ``Python-Jep``) are not replayed: that runtime
  runs in Copernicus's JVM and is refused here (InvalidRuntime,
  :mod:`hybrid.backends.local.udf.runtimes`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.workflows.driver_layers import layers, north_up
from tests.workflows.test_geopyspark_driver_results_more import connection

__all__ = ["connection", "layers"]

#: tests/data/udf_noop.py
UDF_NOOP = """
from openeo.udf import XarrayDataCube


def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
    return cube
"""
#: the driver's identity_udf_rename_bands fixture (tests/conftest.py L835-853)
UDF_RENAME_BANDS = """
from openeo.metadata import CollectionMetadata
from xarray import DataArray

def apply_metadata(metadata: CollectionMetadata, context: dict) -> CollectionMetadata:
     return metadata.rename_labels(
         dimension="bands",
         target=["computed_band_1", "computed_band_2"]
     )

def apply_datacube(cube: DataArray, context: dict) -> DataArray:
    return cube
"""


def callback(process_id: str, **arguments: Any) -> dict[str, Any]:
    node = {"process_id": process_id, "arguments": {"data": {"from_parameter": "data"}}}
    node["arguments"].update(arguments)
    return {"process_graph": {"one": {**node, "result": True}}}


def run(connection: Any, url: str, process_id: str, **arguments: Any) -> dict[str, Any]:
    """``process_id`` on the load of ``url``, as JSON."""
    graph = {
        "lc": {"process_id": "load_stac", "arguments": {"url": url}},
        "p": {"process_id": process_id, "arguments": {"data": {"from_node": "lc"}, **arguments}},
        "save": {
            "process_id": "save_result",
            "arguments": {"data": {"from_node": "p"}, "format": "json"},
            "result": True,
        },
    }
    result: dict[str, Any] = connection.execute(graph)
    return result


def test_apply_dimension_array_interpolate_linear(connection: Any, layers: dict[str, str]) -> None:
    """test_apply_dimension_array_interpolate_linear (test_apply_dimension.py L12-30):
    array_interpolate_linear over t (``target_dimension`` some_other_dim is not the band
    dimension: ignored, geopysparkdatacube.py L367-380) fills the empty date between (1, 2)
    and (2, 1) with 1.5, stored in the int32 cells as 1 in both bands. The fixture's
    layer is int32ud-1 (``convert_data_type('int32', no_data_value=-1)``,
    datacube_fixtures.py L171): so is the cube here, by the process of that name."""
    graph = {
        "lc": {"process_id": "load_stac", "arguments": {"url": layers["kept"]}},
        "int32": {"process_id": "convert_data_type",
                  "arguments": {"data": {"from_node": "lc"}, "data_type": "int32ud-1"}},
        "p": {"process_id": "apply_dimension", "arguments": {
            "data": {"from_node": "int32"}, "process": callback("array_interpolate_linear"),
            "dimension": "t", "target_dimension": "some_other_dim",
        }},
        "save": {"process_id": "save_result",
                 "arguments": {"data": {"from_node": "p"}, "format": "json"}, "result": True},
    }  # fmt: skip
    result = connection.execute(graph)
    assert result["coords"]["t"]["data"][1] == "2017-09-30 00:00:00"
    filled = north_up(result)[1]
    assert np.isclose(filled.reshape(2, -1)[:, :-1], 1).all()


@pytest.mark.parametrize(("dimension", "target"), [("t", "some_other_dim"), ("bands", None)])
def test_apply_dimension_udf(
    connection: Any, layers: dict[str, str], dimension: str, target: str | None
) -> None:
    """test_apply_dimension_temporal_udf / test_apply_dimension_bands_udf (udf_noop,
    L33-68): a UDF returning its input, over t or bands, gives the first date's (1, 2)
    back."""
    arguments = {"dimension": dimension, "target_dimension": target}
    udf = callback("run_udf", udf=UDF_NOOP, runtime="Python")
    result = run(connection, layers["two"], "apply_dimension", process=udf, **arguments)
    first = north_up(result)[0]
    np.testing.assert_array_almost_equal(first, [np.ones((32, 32)), np.full((32, 32), 2)])


def test_apply_metadata(connection: Any, layers: dict[str, str]) -> None:
    """test_apply_metadata (L71-79): a UDF's ``apply_metadata`` renames the bands
    computed_band_1 and computed_band_2."""
    udf = callback("run_udf", udf=UDF_RENAME_BANDS, runtime="Python")
    result = run(connection, layers["two"], "apply_dimension", process=udf, dimension="bands")
    assert result["coords"]["bands"]["data"] == ["computed_band_1", "computed_band_2"]


def test_apply_dimension_invalid_dimension(connection: Any, layers: dict[str, str]) -> None:
    """test_apply_dimension_invalid_dimension (L82-87): a dimension the cube lacks
    (``bla``) is refused with a 400 naming it (the driver's FeatureUnsupported)."""
    from openeo.rest import OpenEoApiError

    udf = callback("run_udf", udf=UDF_NOOP, runtime="Python")
    with pytest.raises(OpenEoApiError) as error:
        run(connection, layers["two"], "apply_dimension", process=udf, dimension="bla")
    assert error.value.http_status_code == 400
    assert "'bla'" in error.value.message


def test_add_dimension_spatial(connection: Any, layers: dict[str, str]) -> None:
    """test_add_dimension_spatial (L90-105): a cube without t (the one-date layer reduced
    over t) gets a temporal dimension ``t`` of the one label 2011-12-03T10:00:00Z."""
    graph = {
        "lc": {"process_id": "load_stac", "arguments": {"url": layers["one"]}},
        "spatial": {"process_id": "reduce_dimension", "arguments": {
            "data": {"from_node": "lc"}, "dimension": "t", "reducer": callback("first"),
        }},
        "add": {"process_id": "add_dimension", "arguments": {
            "data": {"from_node": "spatial"}, "name": "t", "label": "2011-12-03T10:00:00Z",
            "type": "temporal",
        }},
        "save": {"process_id": "save_result",
                 "arguments": {"data": {"from_node": "add"}, "format": "json"}, "result": True},
    }  # fmt: skip
    result = connection.execute(graph)
    assert result["dims"] == ["t", "bands", "x", "y"]
    assert result["coords"]["t"]["data"] == ["2011-12-03 10:00:00"]
    assert north_up(result).shape == (1, 2, 32, 32)


def test_reduce_bands(connection: Any, layers: dict[str, str]) -> None:
    """test_reduce_bands (test_reduce_dimension.py L40-53): the sum over bands is 3 on
    the first and last dates (the all-nodata date is not loaded, see above)."""
    result = run(
        connection, layers["two"], "reduce_dimension", reducer=callback("sum"), dimension="bands"
    )
    assert result["coords"]["t"]["data"] == ["2017-09-25 00:00:00", "2017-10-25 00:00:00"]
    np.testing.assert_array_almost_equal(north_up(result), np.full((2, 32, 32), 3.0))


@pytest.mark.parametrize("dimension", ["t", "bands"])
def test_reduce_udf_noop_refused(connection: Any, layers: dict[str, str], dimension: str) -> None:
    """test_reduce_bands_reduce_time / test_reduce_bands_udf (udf_noop, L56-94): a
    run_udf reducer that returns its input does not reduce: a 400 saying the dimension
    must go, where the driver keeps the tiles as they come (see above)."""
    from openeo.rest import OpenEoApiError

    udf = callback("run_udf", udf=UDF_NOOP, runtime="Python")
    with pytest.raises(OpenEoApiError) as error:
        run(connection, layers["two"], "reduce_dimension", reducer=udf, dimension=dimension)
    assert error.value.http_status_code == 400
    assert "must remove the dimension" in error.value.message
