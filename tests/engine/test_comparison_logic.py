"""Comparisons, is_* checks and logic of the local engine (backends/local/processes).

Single values follow openEO 1.2 (null in -> null out, booleans out); arrays follow
Copernicus's tile semantics (boolean results without nodata, float32 constants).
"""

from __future__ import annotations

import math
from typing import Any

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from hybrid.backends.local.processes import comparison as cmp
from hybrid.backends.local.processes import logic
from hybrid.backends.local.registry import base_registry

NAN = math.nan


@pytest.mark.parametrize(
    ("func", "x", "y", "expected"),
    [
        (cmp.gt, 2, 1, True),
        (cmp.gt, 2, "1", False),
        (cmp.gt, "b", "a", False),
        (cmp.gt, True, 0, False),
        (cmp.gt, 1, None, None),
        (cmp.gt, NAN, 5, False),
        (cmp.gte, math.inf, -math.inf, True),
        (cmp.lt, -0.5, -0.4, True),
        (cmp.lte, 1, 1.0, True),
        (cmp.lte, "2018-01-01", "2018-01-02", False),
        (cmp.eq, 1, 1.0, True),
        (cmp.eq, 1, "1", False),
        (cmp.eq, 0, False, False),
        (cmp.eq, NAN, NAN, False),
        (cmp.eq, None, None, None),
        (cmp.neq, 1, 2, True),
        (cmp.neq, 1, None, None),
    ],
)
def test_single_values_follow_openeo(func: Any, x: Any, y: Any, expected: Any) -> None:
    result = func(x, y)
    assert result is expected


def test_eq_delta_and_case() -> None:
    assert cmp.eq(-1, -1.001, delta=0.01) is True
    assert cmp.eq(1.02, 1, delta=0.01) is False
    assert cmp.eq("Test", "test") is False
    assert cmp.eq("\u00c4", "\u00e4", case_sensitive=False) is True


def test_between_single_values() -> None:
    assert cmp.between(None, 0, 1) is None
    assert cmp.between(1, 0, 1) is True
    assert cmp.between(1, 0, 1, exclude_max=True) is False
    assert cmp.between(0.5, 1, 0) is False  # swapped bounds
    assert cmp.between("0.5", 0, 1) is False
    assert cmp.between([1, 2], 0, 4) is False


def test_is_checks_single_values() -> None:
    assert cmp.is_nan(NAN) is True
    assert cmp.is_nan(1) is False
    assert cmp.is_nan("Test") is True  # openEO 1.2: not a number (2.0 changed this)
    # booleans: false, as Copernicus's single values and bit tiles (and openEO 2.0)
    assert cmp.is_nan(True) is False
    assert cmp.is_nan(False) is False
    assert cmp.is_nan(np.array([True, False])).tolist() == [False, False]
    assert cmp.is_nodata(None) is True
    assert cmp.is_nodata([None, None]) is False
    assert cmp.is_valid(math.inf) is False
    assert cmp.is_valid("Test") is True


def test_array_comparisons_are_bool_without_nodata() -> None:
    x = np.array([NAN, 0.05, 0.2, 8.0], dtype=np.float32)
    gt = cmp.gt(x, 0.1)
    assert gt.dtype == bool
    assert gt.tolist() == [False, False, True, True]
    assert cmp.eq(x, 8).tolist() == [False, False, False, True]  # SCL == 8 on nodata: false
    assert cmp.neq(x, 8).tolist() == [True, True, True, False]


def test_array_nodata_equals_nodata_as_geotrellis() -> None:
    x = np.array([NAN, 1.0, NAN])
    y = np.array([NAN, 1.0, 2.0])
    assert cmp.eq(x, y).tolist() == [True, True, False]
    assert cmp.neq(x, y).tolist() == [False, False, True]


def test_float_constant_is_float32_as_copernicus() -> None:
    # 0.1 as float32 is 0.10000000149...: a float64 0.1 is NOT greater than it
    x = np.array([0.1, 0.10000001], dtype=np.float64)
    assert cmp.gt(x, 0.1).tolist() == [False, True]
    assert cmp.lte(x, 0.1).tolist() == [True, False]
    # a constant with more than 7 significant digits stays a double
    assert cmp.gt(np.array([0.12345678]), 0.123456779).tolist() == [True]
    # between uses its bounds as doubles
    assert cmp.between(np.array([0.1], dtype=np.float64), 0.1, 1.0).tolist() == [True]


def test_array_results_stay_lazy_and_labelled() -> None:
    lazy = da.from_array(np.array([[1.0, NAN], [3.0, 4.0]]), chunks=1)
    assert isinstance(cmp.gt(lazy, 2), da.Array)
    assert isinstance(logic.or_(cmp.eq(lazy, 1), cmp.eq(lazy, 4)), da.Array)
    cube = xr.DataArray(lazy, dims=("y", "x"), coords={"y": [0, 1], "x": [0, 1]})
    result = cmp.eq(cube, 3)
    assert isinstance(result, xr.DataArray)
    assert result.dims == ("y", "x")
    assert result.values.tolist() == [[False, False], [True, False]]
    assert cmp.between(cube, 2, 3).values.tolist() == [[False, False], [True, False]]


@pytest.mark.parametrize(
    ("func", "x", "y", "expected"),
    [
        (logic.and_, True, None, None),
        (logic.and_, False, None, False),
        (logic.and_, NAN, True, "nan"),
        (logic.or_, True, None, True),
        (logic.or_, False, None, None),
        (logic.or_, NAN, False, "nan"),
        (logic.xor, True, False, True),
        (logic.xor, False, None, None),
    ],
)
def test_logic_single_values_three_valued(func: Any, x: Any, y: Any, expected: Any) -> None:
    result = func(x, y)
    if expected == "nan":
        assert isinstance(result, float) and math.isnan(result)
    else:
        assert result is expected


def test_logic_arrays() -> None:
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    assert logic.and_(a, b).dtype == bool
    assert logic.or_(a, b).tolist() == [True, True, True, False]
    assert logic.xor(a, b).tolist() == [False, True, True, False]
    assert logic.not_(a).tolist() == [False, False, True, True]
    # float nodata propagates as geotrellis Or: NODATA in -> NODATA out
    result = logic.or_(np.array([NAN, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]))
    assert np.isnan(result[0]) and result[1:].tolist() == [0.0, 1.0]


def test_any_all() -> None:
    assert logic.any_([False, None]) is False
    assert logic.any_([False, None], ignore_nodata=False) is None
    assert logic.any_([True, None], ignore_nodata=False) is True
    assert logic.all_([True, None]) is True
    assert logic.all_([True, None], ignore_nodata=False) is None
    assert logic.all_([False, None], ignore_nodata=False) is False
    # openEO 1.2 and the 2.0.0-rc.1 descriptions served: empty, or only ignored
    # nodata -> null (2.0.0-rc.2, which the conformance suite tests, says false/true)
    assert logic.any_([]) is None and logic.all_([]) is None
    assert logic.any_([None]) is None and logic.all_([None]) is None
    assert logic.all_([True, True]) is True and logic.any_([False, False]) is False
    data = np.array([[True, False], [False, False]])
    assert logic.any_(data, axis=0).tolist() == [True, False]
    assert logic.all_(np.array([[1.0, NAN], [1.0, 0.0]]), axis=1).tolist() == [True, False]


def test_registry_uses_these_implementations() -> None:
    store = base_registry().store["predefined"]
    for pid in ("eq", "neq", "gt", "gte", "lt", "lte", "between", "and", "or", "not", "any"):
        assert store[pid].implementation.__module__.startswith("hybrid.backends.local.processes")
