"""openeo-geopyspark-driver's own result tests with UDFs and UDPs (``tests/test_api_result.py``
at 9baf2e10, L339-1291 and L1774-1878), replayed against ``hybrid serve`` with the openeo
client on :mod:`tests.workflows.lonlat_collection` (``load_collection`` of the
synthetic ``TestCollection-LonLat4x4`` as ``load_stac``): a UDF's ``context`` given in
``run_udf``, by the parent process and through a stored UDP's parameters, in ``apply``,
``apply_dimension``, ``apply_neighborhood`` and ``reduce_dimension``.

Only the ``openeo.udf`` variants are replayed: the driver's ``openeo_udf.api.datacube``
ones import a package its test environment installs (setup.py ``tests_require`` L31), not
its runtime; ``chunk_polygon`` parents run there only with ``jep`` installed
(L745-748) and are refused here (400 ProcessUnsupported).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_equal

from tests.workflows.lonlat_graphs import (
    call_udp,
    load,
    number_parameter,
    run_udf,
    saved,
    store_udp,
)

#: the 4 x 4 Longitude tile of the unit extent, x first (L717)
LONGITUDE4X4 = np.array([[0, 0.25, 0.5, 0.75]] * 4).T
#: the driver's UDF multiplying by ``context["factor"]`` (L698-706)
UDF_APPLY_MULTIPLY_FACTOR = textwrap.dedent(
    """
    from openeo.udf import XarrayDataCube
    def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
        factor = context["factor"]
        array = cube.get_array()
        return XarrayDataCube(factor * array)
    """
)
#: the driver's UDF summing over the first axis times ``context["factor"]`` (L708-715)
UDF_REDUCE_SUM_AXIS0 = textwrap.dedent(
    """
    from openeo.udf import XarrayDataCube
    def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
        factor = context["factor"]
        array = cube.get_array().sum(axis=0)
        return XarrayDataCube(factor * array)
    """
)
#: the driver's UDF taking the maximum over ``t`` (L1778-1785)
UDF_MAX_T = """
from openeo.udf import XarrayDataCube
def {name}(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
    return XarrayDataCube(cube.get_array().max("t"))
"""
DATA = {
    "name": "data",
    "description": "cube",
    "schema": {"type": "object", "subtype": "raster-cube"},
}
#: the size and overlap of the driver's apply_neighborhood (L757-767)
NEIGHBORHOOD = {
    "size": [{"dimension": d, "unit": "px", "value": 32} for d in ("x", "y")],
    "overlap": [{"dimension": d, "unit": "px", "value": 8} for d in ("x", "y")],
}
#: the parents of TestApplyRunUDFWithContext (L750-775; chunk_polygon left out, see above)
PARENTS = [
    ("apply", {}),
    ("apply_dimension", {"dimension": "t"}),
    ("apply_dimension", {"dimension": "bands"}),
    ("apply_neighborhood", NEIGHBORHOOD),
]
PARENT_IDS = ["apply", "apply_dimension-t", "apply_dimension-bands", "apply_neighborhood"]


def _lon_day(url: str, north: float = 1.0) -> dict[str, Any]:
    extent = {"west": 0.0, "south": 0.0, "east": 1.0, "north": north}
    return load(url, ["2021-01-01", "2021-02-01"], ["Longitude", "Day"], extent)


def _longitude(url: str) -> dict[str, Any]:
    return load(url, ["2021-01-01", "2021-02-01"], ["Longitude"])


def _reduce(dimension: str, reducer: dict[str, Any], context: Any = None) -> dict[str, Any]:
    arguments = {"data": {"from_parameter": "data"}, "dimension": dimension, "reducer": reducer}
    if context is not None:
        arguments["context"] = context
    return {"process_id": "reduce_dimension", "arguments": arguments}


def test_udp_udf_reduce_temporal(connection: Any, lonlat: Mapping[int, str]) -> None:
    """test_udp_udf_reduce_temporal (L339-414): a UDP reducing ``t`` with a UDF's
    ``max("t")`` over 1 x 2 degrees: dims ``bands, x, y``, 4 x 8 pixels."""
    store_udp(
        connection,
        "driver_udf_max_t",
        _reduce("t", run_udf(UDF_MAX_T.format(name="apply_datacube"))),
        [DATA],
    )
    nodes = {"lc": _lon_day(lonlat[1], north=2.0), "udp": call_udp("driver_udf_max_t", {})}
    result = connection.execute(saved(nodes, "udp"))
    assert result["dims"] == ["bands", "x", "y"]
    assert_equal(result["data"], [np.array([[0, 0.25, 0.5, 0.75]] * 8).T, np.full((4, 8), 25)])


@pytest.mark.parametrize("set_offset", [False, True])
def test_udp_udf_reduce_temporal_with_parameter(
    connection: Any, lonlat: Mapping[int, str], set_offset: bool
) -> None:
    """test_udp_udf_reduce_temporal_with_parameter (L417-502): the UDP's ``offset``
    (default 12) reaches the UDF's context: max over ``t`` plus 12, or plus 56 given."""
    udf = textwrap.dedent(
        """
        from openeo.udf import XarrayDataCube
        def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
            offset = context.get("offset", 34)
            return XarrayDataCube(cube.get_array().max("t") + offset)
        """
    )
    reducer = run_udf(udf, {"offset": {"from_parameter": "offset"}})
    store_udp(
        connection,
        "driver_udf_offset",
        _reduce("t", reducer),
        [DATA, number_parameter("offset", 12)],
    )
    nodes = {
        "lc": _lon_day(lonlat[1]),
        "udp": call_udp("driver_udf_offset", {"offset": 56} if set_offset else {}),
    }
    result = connection.execute(saved(nodes, "udp"))
    assert result["dims"] == ["bands", "x", "y"]
    offset = 56 if set_offset else 12
    assert_equal(result["data"], offset + np.array([LONGITUDE4X4, np.full((4, 4), 25)]))


@pytest.mark.parametrize("set_parameters", [False, True])
def test_udp_udf_reduce_bands_with_parameter(
    connection: Any, lonlat: Mapping[int, str], set_parameters: bool
) -> None:
    """test_udp_udf_reduce_bands_with_parameter (L505-583): a UDP reducing ``bands`` with
    ``l_scale * Longitude + d_scale * Day``, both from the UDP's parameters (1000 and 2 by
    default; 100000 and 3 given)."""
    udf = textwrap.dedent(
        """
        from openeo.udf import XarrayDataCube
        def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
            l_scale = context.get("l_scale", 100)
            d_scale = context.get("d_scale", 1)
            array = cube.get_array()
            res = l_scale * array.sel(bands="Longitude") + d_scale * array.sel(bands="Day")
            return XarrayDataCube(res)
        """
    )
    context = {"l_scale": {"from_parameter": "l_scale"}, "d_scale": {"from_parameter": "d_scale"}}
    parameters = [DATA, number_parameter("l_scale", 1000), number_parameter("d_scale", 2)]
    store_udp(connection, "driver_udf_scales", _reduce("bands", run_udf(udf, context)), parameters)
    arguments = {"l_scale": 100000, "d_scale": 3} if set_parameters else {}
    nodes = {"lc": _lon_day(lonlat[1]), "udp": call_udp("driver_udf_scales", arguments)}
    result = connection.execute(saved(nodes, "udp"))
    assert result["dims"] == ["t", "x", "y"]
    l_scale, d_scale = (100000, 3) if set_parameters else (1000, 2)
    expected = [l_scale * LONGITUDE4X4 + d_scale * day for day in (5, 15, 25)]
    assert_equal(result["data"], expected)


def test_apply_udf_square_pixels(connection: Any, lonlat: Mapping[int, str]) -> None:
    """test_apply_udf_square_pixels (L643-689): ``apply`` of a UDF squaring the array."""
    udf = textwrap.dedent(
        """
        from openeo.udf import XarrayDataCube
        def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
            array = cube.get_array()
            return XarrayDataCube(array * array)
        """
    )
    apply = {
        "process_id": "apply",
        "arguments": {"data": {"from_node": "lc"}, "process": run_udf(udf)},
    }
    result = connection.execute(saved({"lc": _lon_day(lonlat[1]), "apply": apply}, "apply"))
    assert result["dims"] == ["t", "bands", "x", "y"]
    expected = [[LONGITUDE4X4**2, np.full((4, 4), day**2)] for day in (5, 15, 25)]
    assert_equal(result["data"], expected)


def _parent(
    process_id: str, extra: Mapping[str, Any], process: dict[str, Any], context: Any, data: Any
) -> dict[str, Any]:
    arguments = {"data": data, "process": process, **extra}
    if context is not None:
        arguments["context"] = context
    return {"process_id": process_id, "arguments": arguments}


@pytest.mark.parametrize("where", ["run_udf", "parent"])
@pytest.mark.parametrize(("parent", "extra"), PARENTS, ids=PARENT_IDS)
def test_apply_run_udf_with_context(
    connection: Any, lonlat: Mapping[int, str], parent: str, extra: dict[str, Any], where: str
) -> None:
    """TestApplyRunUDFWithContext.test_apply_run_udf_with_direct_context (L777-816) and
    test_apply_run_udf_with_apply_context (L842-879): ``{"factor": 123}`` given in
    ``run_udf`` or by the parent (``run_udf``'s context ``from_parameter: context``): 123
    times Longitude on each of the three dates."""
    direct = where == "run_udf"
    process = run_udf(
        UDF_APPLY_MULTIPLY_FACTOR, {"factor": 123} if direct else {"from_parameter": "context"}
    )
    node = _parent(parent, extra, process, None if direct else {"factor": 123}, {"from_node": "lc"})
    result = connection.execute(
        saved({"lc": _longitude(lonlat[1]), "apply_something": node}, "apply_something")
    )
    assert result["dims"] == ["t", "bands", "x", "y"]
    assert_equal(result["data"], 123 * np.array([[LONGITUDE4X4]] * 3))


@pytest.mark.parametrize("dimension", ["t", "bands"])
def test_reduce_dimension_run_udf_with_direct_context(
    connection: Any, lonlat: Mapping[int, str], dimension: str
) -> None:
    """TestApplyRunUDFWithContext.test_reduce_dimension_run_udf_with_direct_context
    (L882-922): the sum over the reduced dimension times 123."""
    node = _reduce(dimension, run_udf(UDF_REDUCE_SUM_AXIS0, {"factor": 123}))
    node["arguments"]["data"] = {"from_node": "lc"}
    result = connection.execute(saved({"lc": _longitude(lonlat[1]), "reduce": node}, "reduce"))
    if dimension == "t":
        assert result["dims"] == ["bands", "x", "y"]
        assert_equal(result["data"], 3 * 123 * np.array([LONGITUDE4X4]))
    else:
        assert result["dims"] == ["t", "x", "y"]
        assert_equal(result["data"], 123 * np.array([LONGITUDE4X4] * 3))


def _call_with_default(
    connection: Any, url: str, udp_id: str, node: dict[str, Any], name: str, arguments: Any
) -> Any:
    """Store ``node`` as UDP ``udp_id`` with a number parameter ``name`` (default 1000)
    and run it with ``arguments`` on the Longitude of ``url``'s unit extent."""
    store_udp(connection, udp_id, node, [DATA, number_parameter(name, 1000)])
    nodes = {"lc": _longitude(url), "apply_something": call_udp(udp_id, arguments)}
    return connection.execute(saved(nodes, "apply_something"))


#: (UDP parameter, parent context, run_udf context, UDP arguments, factor) (L951-1000)
UDP_CONTEXTS = [
    (
        "factor",
        {"factor": {"from_parameter": "factor"}},
        {"from_parameter": "context"},
        {"factor": 123},
        123,
    ),
    ("factor", {"factor": {"from_parameter": "factor"}}, {"from_parameter": "context"}, {}, 1000),
    (
        "multiplier",
        {"factor": {"from_parameter": "multiplier"}},
        {"from_parameter": "context"},
        {"multiplier": 123},
        123,
    ),
    ("factor", None, {"factor": {"from_parameter": "factor"}}, {"factor": 123}, 123),
    ("multiplier", None, {"factor": {"from_parameter": "multiplier"}}, {"multiplier": 123}, 123),
    ("multiplier", None, {"factor": {"from_parameter": "multiplier"}}, {}, 1000),
]
#: pytest's own ids of those cases when they were five parameters
UDP_CONTEXT_IDS = [
    "-".join([name, "None" if parent is None else f"parent_context{i}", f"udf_context{i}"])
    + f"-arguments{i}-{factor}"
    for i, (name, parent, _, _, factor) in enumerate(UDP_CONTEXTS)
]


@pytest.mark.parametrize("case", UDP_CONTEXTS, ids=UDP_CONTEXT_IDS)
@pytest.mark.parametrize(("parent", "extra"), PARENTS, ids=PARENT_IDS)
def test_udp_parameter_to_apply_run_udf_context(
    connection: Any,
    lonlat: Mapping[int, str],
    parent: str,
    extra: dict[str, Any],
    case: tuple[str, Any, Any, dict[str, Any], int],
) -> None:
    """TestApplyRunUDFWithContext.test_udp_parameter_to_apply_run_udf_context
    (L1010-1118): a UDP parameter (default 1000) reaching the UDF's ``factor`` through the
    parent's context or ``run_udf``'s: the factor given, else the default."""
    name, parent_context, udf_context, arguments, factor = case
    process = run_udf(UDF_APPLY_MULTIPLY_FACTOR, udf_context)
    node = _parent(parent, extra, process, parent_context, {"from_parameter": "data"})
    udp_id = f"driver_ctx_{parent}_{name}"
    result = _call_with_default(connection, lonlat[1], udp_id, node, name, arguments)
    assert result["dims"] == ["t", "bands", "x", "y"]
    assert_equal(result["data"], factor * np.array([[LONGITUDE4X4]] * 3))


@pytest.mark.parametrize("case", UDP_CONTEXTS, ids=UDP_CONTEXT_IDS)
@pytest.mark.parametrize("dimension", ["t", "bands"])
def test_udp_parameter_to_reduce_dimension_run_udf_context(
    connection: Any,
    lonlat: Mapping[int, str],
    dimension: str,
    case: tuple[str, Any, Any, dict[str, Any], int],
) -> None:
    """TestApplyRunUDFWithContext.test_udp_parameter_to_reduce_dimension_run_udf_context
    (L1122-1182): the same through ``reduce_dimension``'s context."""
    name, parent_context, udf_context, arguments, factor = case
    node = _reduce(dimension, run_udf(UDF_REDUCE_SUM_AXIS0, udf_context), parent_context)
    udp_id = f"driver_ctx_reduce_{dimension}_{name}"
    result = _call_with_default(connection, lonlat[1], udp_id, node, name, arguments)
    if dimension == "t":
        assert result["dims"] == ["bands", "x", "y"]
        assert_equal(result["data"], 3 * factor * np.array([LONGITUDE4X4]))
    else:
        assert result["dims"] == ["t", "x", "y"]
        assert_equal(result["data"], factor * np.array([LONGITUDE4X4] * 3))


@pytest.mark.parametrize(
    ("expression", "context"),
    [
        ("context['length']", {"length": {"from_parameter": "context"}}),
        ("context", {"from_parameter": "context"}),
    ],
    ids=["usecase_279_1", "usecase_279_2"],
)
def test_usecase_279(
    connection: Any, lonlat: Mapping[int, str], expression: str, context: Any
) -> None:
    """TestApplyRunUDFWithContext.test_usecase_279_1 (L1185-1224) and _2 (L1227-1283):
    ``apply``'s context ``-123`` reaching the UDF as a number or wrapped in a dict; the
    UDF scales the array's values in place and returns the cube it got."""
    udf = textwrap.dedent(
        f"""
        from openeo.udf import XarrayDataCube
        def apply_datacube(cube: XarrayDataCube, context) -> XarrayDataCube:
            array = cube.get_array()
            array.values = {expression} * array.values
            return cube
        """
    )
    node = _parent("apply", {}, run_udf(udf, context), -123, {"from_node": "lc"})
    result = connection.execute(
        saved({"lc": _longitude(lonlat[1]), "apply_something": node}, "apply_something")
    )
    assert result["dims"] == ["t", "bands", "x", "y"]
    assert_equal(result["data"], -123 * np.array([[LONGITUDE4X4]] * 3))


@pytest.mark.parametrize("set_parameters", [False, True])
def test_udp_udf_apply_neighborhood_with_parameter(
    connection: Any, lonlat: Mapping[int, str], set_parameters: bool
) -> None:
    """test_udp_udf_apply_neighborhood_with_parameter (L1288-1357): a UDP's ``offset``
    (default 10; 20 given) added by a UDF in ``apply_neighborhood``."""
    udf = textwrap.dedent(
        """
        from openeo.udf import XarrayDataCube
        def apply_datacube(cube: XarrayDataCube, context: dict) -> XarrayDataCube:
            offset = context.get("offset", 100)
            return XarrayDataCube(cube.get_array() + offset)
        """
    )
    process = run_udf(udf, {"offset": {"from_parameter": "offset"}})
    node = _parent("apply_neighborhood", NEIGHBORHOOD, process, None, {"from_parameter": "data"})
    store_udp(connection, "driver_udf_neighborhood", node, [DATA, number_parameter("offset", 10)])
    nodes = {
        "lc": _lon_day(lonlat[1]),
        "udp": call_udp("driver_udf_neighborhood", {"offset": 20} if set_parameters else {}),
    }
    result = connection.execute(saved(nodes, "udp"))
    assert result["dims"] == ["t", "bands", "x", "y"]
    expected = np.array([[LONGITUDE4X4, np.full((4, 4), day)] for day in (5, 15, 25)])
    assert_equal(result["data"], expected + (20 if set_parameters else 10))


@pytest.mark.parametrize("name", ["apply_datacube", "apply_hypercube"])
def test_udf_basic_reduce_temporal(connection: Any, lonlat: Mapping[int, str], name: str) -> None:
    """test_udf_basic_reduce_temporal (L1774-1837): ``reduce_dimension(t)`` with a UDF
    named ``apply_datacube`` or the older ``apply_hypercube``: the maximum over ``t``."""
    reduce = _reduce("t", run_udf(UDF_MAX_T.format(name=name)))
    reduce["arguments"]["data"] = {"from_node": "lc"}
    result = connection.execute(
        saved({"lc": _lon_day(lonlat[1], north=2.0), "reduce": reduce}, "reduce")
    )
    assert result["dims"] == ["bands", "x", "y"]
    assert_equal(result["data"], [np.array([[0, 0.25, 0.5, 0.75]] * 8).T, np.full((4, 8), 25)])
