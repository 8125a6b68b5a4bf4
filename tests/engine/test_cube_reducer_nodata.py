"""Nodata in the reducers of a cube, as Copernicus reduces tiles
(openeo-geotrellis-extensions OpenEOProcessScriptBuilder.scala L1140-1162): ``sum``
adds with AddIgnoreNodata (nodata where every value is), ``product`` multiplies with
geotrellis Multiply (nodata wherever one is, whatever ``ignore_nodata``), ``mean`` is
geotrellis Mean of the valid values (whatever ``ignore_nodata``). Lists of numbers keep
the spec's rules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tests.engine.small_cubes import TIMES, callback, grid_cube, node
from tests.process_vectors import run_through_engine

NAN = np.nan
#: per pixel over three dates: all valid, one nodata, all nodata
SERIES = np.array([[2.0, 3.0, 4.0], [1.0, NAN, 4.0], [NAN, NAN, NAN]])


def _reduced(process: str, lazy: bool, **arguments: Any) -> np.ndarray:
    cube = grid_cube(SERIES.T.reshape(3, 1, 3), ("t", "y", "x"), t=TIMES)
    data = cube.chunk({"t": 1}) if lazy else cube
    reducer = callback("r", r=node(process, data={"from_parameter": "data"}, **arguments))
    with np.errstate(all="ignore"):
        out = run_through_engine(
            "reduce_dimension", {"data": data, "dimension": "t", "reducer": reducer}
        )
        return np.asarray(out.values).ravel()


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize(
    ("process", "arguments", "want"),
    [
        ("sum", {}, [9.0, 5.0, NAN]),
        ("sum", {"ignore_nodata": False}, [9.0, NAN, NAN]),
        ("product", {}, [24.0, NAN, NAN]),
        ("product", {"ignore_nodata": False}, [24.0, NAN, NAN]),
        ("mean", {}, [3.0, 2.5, NAN]),
        ("mean", {"ignore_nodata": False}, [3.0, 2.5, NAN]),
    ],
)
def test_reducers_of_a_cube_treat_nodata_as_copernicus(
    process: str, arguments: dict[str, Any], want: list[float], lazy: bool
) -> None:
    np.testing.assert_array_equal(_reduced(process, lazy, **arguments), want)


def test_lists_of_numbers_keep_the_spec() -> None:
    assert run_through_engine("sum", {"data": [None, None]}) == 0
    assert run_through_engine("product", {"data": [2, None, 3]}) == 6
    assert math.isnan(run_through_engine("mean", {"data": [1, None], "ignore_nodata": False}))
