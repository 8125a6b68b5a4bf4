"""User-defined process examples of the openeo Python client's documentation
(github.com/Open-EO/openeo-python-client docs/udp.rst, docs/datacube_construction.rst)
through the client against ``hybrid serve``, changed only in area and dates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.workflows.client_docs_evi import _covered, _evi, _nan_stat, _nc
from tests.workflows.raw import BBOX, DATES, FIELDS, raw_bands


def _evi_cube(connection: Any, temporal_extent: Any = DATES, **load: Any) -> Any:
    """docs/basics.rst: EVI by band math on the rescaled bands."""
    cube = connection.load_collection(
        "SENTINEL2_L2A", temporal_extent=temporal_extent, bands=["B02", "B04", "B08"], **load
    )
    blue = cube.band("B02") * 0.0001
    red = cube.band("B04") * 0.0001
    nir = cube.band("B08") * 0.0001
    return 2.5 * (nir - red) / (nir + 6.0 * red - 7.5 * blue + 1.0)


# -- docs/udp.rst, docs/datacube_construction.rst ------------------------------------------


def test_fahrenheit_to_celsius_stored_three_ways_and_evaluated(
    connection: Any, tmp_path: Path
) -> None:
    """docs/udp.rst "Through process functions", "Using a predefined dictionary", "Store to
    a file" (``build_process_dict``, stored here with a plain PUT) and "Evaluate
    user-defined processes": ``connection.execute(process("fahrenheit_to_celsius", f=70))``
    prints 21.11111111111111."""
    import openeo
    from openeo.api.process import Parameter
    from openeo.processes import divide, subtract
    from openeo.rest.udp import build_process_dict

    f = Parameter.number("f", description="Degrees Fahrenheit.")
    fahrenheit_to_celsius = divide(x=subtract(x=f, y=32), y=1.8)
    connection.save_user_defined_process(
        "fahrenheit_to_celsius", fahrenheit_to_celsius, parameters=[f]
    )
    pg = openeo.processes.process("fahrenheit_to_celsius", f=70)
    assert connection.execute(pg) == pytest.approx((70 - 32) / 1.8, rel=1e-12)

    as_dict = {
        "subtract1": {"process_id": "subtract",
                      "arguments": {"x": {"from_parameter": "f"}, "y": 32}},
        "divide1": {"process_id": "divide",
                    "arguments": {"x": {"from_node": "subtract1"}, "y": 1.8}, "result": True},
    }  # fmt: skip
    connection.save_user_defined_process(
        user_defined_process_id="f_to_c_dict",
        process_graph=as_dict,
        parameters=[Parameter.number(name="f", description="Degrees Fahrenheit")],
    )
    assert connection.execute(openeo.processes.process("f_to_c_dict", f=212)) == pytest.approx(100)

    spec = build_process_dict(
        process_id="f_to_c_file", process_graph=fahrenheit_to_celsius, parameters=[f]
    )
    (tmp_path / "fahrenheit_to_celsius.json").write_text(json.dumps(spec, indent=2))
    stored = json.loads((tmp_path / "fahrenheit_to_celsius.json").read_text())
    connection.put("/process_graphs/f_to_c_file", json=stored, expected_status=200)
    assert connection.execute(openeo.processes.process("f_to_c_file", f=32)) == pytest.approx(0)
    assert connection.user_defined_process("f_to_c_file").describe()["parameters"][0]["name"] == "f"


def test_user_defined_process_calling_another_one_with_a_default(connection: Any) -> None:
    """docs/udp.rst "Declaring Parameters" (a default value) and a UDP built on another
    stored UDP (the "library of reusable building blocks" of its introduction)."""
    import openeo
    from openeo.api.process import Parameter
    from openeo.processes import add, divide, subtract

    f = Parameter.number("f", description="Degrees Fahrenheit.", default=32)
    connection.save_user_defined_process(
        "f_to_c_default", divide(x=subtract(x=f, y=32), y=1.8), parameters=[f]
    )
    c = Parameter.number("c", description="Degrees Celsius.")
    connection.save_user_defined_process("c_to_k", add(x=c, y=273.15), parameters=[c])
    g = Parameter.number("g", description="Degrees Fahrenheit.")
    chained = openeo.processes.process("c_to_k", c=openeo.processes.process("f_to_c_default", f=g))
    connection.save_user_defined_process("f_to_k", chained, parameters=[g])

    assert connection.execute(openeo.processes.process("f_to_k", g=212)) == pytest.approx(373.15)
    assert connection.execute(openeo.processes.process("f_to_c_default")) == pytest.approx(0)


def test_datacube_from_process_and_from_json(connection: Any) -> None:
    """docs/datacube_construction.rst: ``datacube_from_process("mean", data=[2, 3, 5, 8])``
    executes to 4.5; ``datacube_from_json`` with a parameter value (9) and with the
    parameter's default (105)."""
    assert connection.datacube_from_process("mean", data=[2, 3, 5, 8]).execute() == 4.5
    raw_json = """{"add": {
        "process_id": "add",
        "arguments": {"x": 5, "y": {"from_parameter": "increment"}},
        "result": true
    }}"""
    assert connection.datacube_from_json(raw_json, parameters={"increment": 4}).execute() == 9
    with_default = """{
        "parameters": [
            {"name": "increment", "schema": {"type": "number"}, "default": 100}
        ],
        "process_graph": {
            "add": {"process_id": "add", "arguments": {"x": 5, "y": {"from_parameter": "increment"}}, "result": true}
        }
    }"""  # noqa: E501
    assert connection.datacube_from_json(with_default).execute() == 105


def test_fancy_load_collection_with_a_default_bbox(connection: Any, tmp_path: Path) -> None:
    """docs/udp.rst "From a parameterized data cube": a ``load_collection`` with its
    spatial extent a parameter with a default, stored and used through
    ``datacube_from_process`` with ``filter_temporal`` after it (netCDF instead of the
    page's GTiff: a cube of several dates is one file per date there)."""
    from openeo.api.process import Parameter

    spatial_extent = Parameter(
        name="bbox", schema="object", default=BBOX, description="The area to load."
    )
    cube = connection.load_collection("SENTINEL2_L2A", spatial_extent=spatial_extent, bands=["B04"])
    connection.save_user_defined_process("fancy_load_collection", cube, parameters=[spatial_extent])

    cube = connection.datacube_from_process("fancy_load_collection")
    cube = cube.filter_temporal(*DATES)
    cube.download(tmp_path / "fancy.nc", format="netCDF")
    got = _nc(tmp_path / "fancy.nc")
    raw = raw_bands(connection, ["B04"], tmp_path / "raw.nc")
    np.testing.assert_array_equal(got["t"].values, raw["t"].values)
    np.testing.assert_array_equal(got["B04"].values, raw["B04"].values)


def test_evi_timeseries_udp_with_a_geometry_parameter(connection: Any, tmp_path: Path) -> None:
    """docs/udp.rst "UDP Example: EVI timeseries": ``load_collection`` without spatial
    extent, ``aggregate_spatial`` over a geometry parameter, stored, then run through
    ``datacube_from_process`` with a polygon and read with ``timeseries_json_to_pandas``
    (docs/basics.rst)."""
    from openeo.api.process import Parameter
    from openeo.rest.conversions import timeseries_json_to_pandas

    temporal_extent = Parameter(
        name="temporal_extent",
        description="The date range to calculate the EVI for.",
        schema={"type": "array", "subtype": "temporal-interval"},
        default=["2018-06-15", "2018-06-27"],
    )
    geometry = Parameter(
        name="geometry",
        description="The geometry (a single (multi)polygon or a feature collection of "
        "(multi)polygons) of to calculate the EVI for.",
        schema={"type": "object", "subtype": "geojson"},
    )
    evi = _evi_cube(connection, temporal_extent=temporal_extent)
    evi_aggregation = evi.aggregate_spatial(geometries=geometry, reducer="mean")
    connection.save_user_defined_process(
        user_defined_process_id="evi_timeseries",
        process_graph=evi_aggregation,
        parameters=[temporal_extent, geometry],
    )

    polygon = FIELDS["features"][0]["geometry"]
    evi_timeseries = connection.datacube_from_process(
        process_id="evi_timeseries", temporal_extent=DATES, geometry=polygon
    )
    evi_timeseries.download(tmp_path / "evi-aggregation.json")
    series = timeseries_json_to_pandas(json.loads((tmp_path / "evi-aggregation.json").read_text()))

    raw = raw_bands(connection, ["B02", "B04", "B08"], tmp_path / "raw.nc")
    inside, evi_values = _covered(raw, polygon), _evi(raw)
    want = [_nan_stat(np.mean, evi_values[t][inside]) for t in range(raw.sizes["t"])]
    assert list(pd.to_datetime(series.index).tz_localize(None)) == list(raw["t"].values)
    np.testing.assert_allclose(series.values.astype(float), want, rtol=1e-5)
    assert np.isfinite(want).sum() >= 2
