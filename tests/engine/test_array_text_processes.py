"""Array, text, date and arithmetic processes of the local engine on plain values
(backends/local/processes: arrays, texts, dates, arithmetic), hand-computed answers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from hybrid.backends.local.processes import arithmetic, arrays, dates, quantiles, statistics, texts
from hybrid.errors import DivisionByZero, ProcessParameterInvalid

NAN = math.nan


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b) and type(a) is type(b)


def test_quantiles_linear_with_infinities_and_nodata() -> None:
    got = quantiles.quantiles([2, 4, 4, 4, 5, 5, 7, 9], probabilities=[0.005, 0.5])
    assert got == pytest.approx([2.07, 4.5])
    assert quantiles.quantiles([2, 4, 4, 4, 5, 5, 7, 9], probabilities=4) == [4, 4.5, 5.5]
    got = quantiles.quantiles([1.5, -math.inf, 5.75, -1.25], probabilities=[0, 0.25, 0.5, 1])
    assert got == [-math.inf, -math.inf, 0.125, 5.75]
    assert quantiles.quantiles([-1, -0.5, None, 1], probabilities=2) == [-0.5]
    assert quantiles.quantiles([-1, None, 1], probabilities=2, ignore_nodata=False) == [None]
    assert all(math.isnan(v) for v in quantiles.quantiles([], probabilities=[0.1, 0.5]))
    with pytest.raises(ProcessParameterInvalid, match="QuantilesParameterConflict"):
        quantiles.quantiles([1], probabilities=[0.5], q=2)


def test_quantiles_on_arrays_use_the_stock_reducer() -> None:
    data = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 6.0]])
    got = quantiles.quantiles(data, probabilities=[0.5], axis=0)
    assert np.asarray(got).ravel().tolist() == [3.0, 4.0]


def test_array_find() -> None:
    assert arrays.array_find([1, 2, 3, 2, 3], 2) == 1
    assert arrays.array_find([1, 2, 3, 2, 3], 2, reverse=True) == 3
    assert arrays.array_find(["A", "B"], "b") is None
    assert arrays.array_find([1, 2, 3], "2") is None
    assert arrays.array_find([[1, 2], [3, 4]], [1, 2]) is None
    assert arrays.array_find([False, False], False) == 0
    assert arrays.array_find([1, None], None) is None


def test_array_find_on_arrays() -> None:
    """On a cube's arrays (a reducer over t), nodata where nothing matches, not the stock
    999999: Copernicus sets the index only where found (openeo-geotrellis-extensions
    OpenEOProcessScriptBuilder.scala arrayFind L637-670)."""
    data = np.array([[0, 1, 0], [0, 0, 0], [1, 1, 0]], dtype=float)
    got = arrays.array_find(data, 1, axis=0)
    np.testing.assert_array_equal(got, [2, 0, np.nan])
    np.testing.assert_array_equal(arrays.array_find(data, 1, axis=0, reverse=True), [2, 2, np.nan])
    flags = np.array([[True, False], [True, False]])
    np.testing.assert_array_equal(arrays.array_find(flags, True, axis=0), [0, np.nan])


def test_array_element_errors_and_nodata() -> None:
    assert arrays.array_element([9, 8, 7], index=2) == 7
    assert math.isnan(arrays.array_element([], index=0, return_nodata=True))
    with pytest.raises(ProcessParameterInvalid, match="ArrayElementNotAvailable"):
        arrays.array_element([1, 2], index=-1)
    with pytest.raises(ProcessParameterInvalid, match="ArrayElementNotAvailable"):
        arrays.array_element([1, 2], index=2)
    with pytest.raises(ProcessParameterInvalid, match="ArrayElementParameterMissing"):
        arrays.array_element([1])


def test_first_last_order_count() -> None:
    assert arrays.first([None, "A", "B"]) == "A"
    assert arrays.last(["A", "B", None]) == "B"
    assert arrays.first([None, 1], ignore_nodata=False) is None
    data = [6, -1, 2, None, 7, 4, None, 8, 3, 9, 9]
    assert arrays.order(data, asc=False, nodata=True) == [9, 10, 7, 4, 0, 5, 8, 2, 1, 3, 6]
    assert arrays.order(data, nodata=None) == [1, 2, 8, 5, 0, 4, 7, 9, 10]
    assert arrays.count(["ABC", None, math.inf]) == 1
    assert arrays.count([False, None], condition=True) == 2
    assert arrays.count([0, 5, 3, None], condition=lambda x, context: x is not None and x > 2) == 2


def test_empty_reducers_are_nodata_and_concat_append() -> None:
    assert math.isnan(statistics.sum_([]))
    assert math.isnan(statistics.max_([]))
    assert all(math.isnan(v) for v in statistics.extrema([]))
    assert statistics.sum_([1.0, NAN, 3.0]) == 4.0  # the stock reducer: NaN is nodata
    assert arrays.array_concat(["a", "b"], [1, 2]) == ["a", "b", 1, 2]
    with pytest.raises(ProcessParameterInvalid, match="ArrayNotLabeled"):
        arrays.array_append([1, 2], 3, label="B01")
    assert arrays.if_(False, 1) is None
    assert arrays.if_(True, 1, 2) == 1
    assert arrays.if_(np.array([True, False]), 1).tolist()[0] == 1


@pytest.mark.parametrize(
    ("func", "data", "pattern", "expected"),
    [
        (texts.text_begins, "Lorem", "Lo", True),
        (texts.text_begins, "", "", True),
        (texts.text_ends, "Lorem", "REM", False),
        (texts.text_contains, None, "null", None),
    ],
)
def test_text_matching(func: Any, data: Any, pattern: str, expected: Any) -> None:
    assert func(data, pattern) is expected


def test_text_matching_case_insensitive_and_concat() -> None:
    assert texts.text_ends("Lorem", "REM", case_sensitive=False) is True
    assert texts.text_concat([1, 2, 3]) == "123"
    assert texts.text_concat([None, True, False, 1, -1.5, "\u00df"], "\n") == (
        "null\ntrue\nfalse\n1\n-1.5\n\u00df"
    )
    assert texts.text_concat([]) == ""


@pytest.mark.parametrize(
    ("date", "value", "unit", "expected"),
    [
        ("2020-02-01T17:22:45Z", 6, "month", "2020-08-01T17:22:45Z"),
        ("2021-03-31T00:00:00+02:00", -7, "day", "2021-03-24T00:00:00+02:00"),
        ("2020-02-29T17:22:45Z", 1, "year", "2021-02-28T17:22:45Z"),
        ("2020-01-31", 1, "month", "2020-02-29"),
        ("2018-12-31T17:22:45Z", 1150, "millisecond", "2018-12-31T17:22:46.150Z"),
        ("2018-01-01", -1, "hour", "2017-12-31"),
    ],
)
def test_date_shift(date: str, value: int, unit: str, expected: str) -> None:
    assert dates.date_shift(date, value, unit) == expected


def test_date_shift_rejects_bad_input() -> None:
    with pytest.raises(ProcessParameterInvalid, match="unit 'fortnight'"):
        dates.date_shift("2020-01-01", 1, "fortnight")
    with pytest.raises(ProcessParameterInvalid, match="not an RFC 3339"):
        dates.date_shift("yesterday", 1, "day")


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (27, 5, 2),
        (-27, 5, 3),
        (-27, -5, -2),
        (2, -math.inf, 2),
        (27, None, None),
    ],
)
def test_mod(x: Any, y: Any, expected: Any) -> None:
    assert _same(arithmetic.mod(x, y), expected)


@pytest.mark.parametrize(("x", "y"), [(2, 0), (-2.5, 0.0), (0, 0)])
def test_mod_of_two_numbers_by_zero_is_a_division_by_zero(x: Any, y: Any) -> None:
    # Copernicus: openeo_processes 0.0.4 math.py Mod.exec_num L1765 ``x % y`` raises
    with pytest.raises(DivisionByZero, match="mod 0 of two numbers"):
        arithmetic.mod(x, y)


def test_power_null_and_arrays() -> None:
    assert arithmetic.power(1, None) is None
    assert arithmetic.power(2, 3) == 8
    assert arithmetic.power(np.array([2.0, 3.0]), 2).tolist() == [4.0, 9.0]


@pytest.mark.parametrize(
    ("date1", "date2", "unit", "expected"),
    [
        ("2023-06-15T00:00:00Z", "2023-06-10T00:00:00Z", "day", -5),
        ("2020-01-01T00:00:00Z", "2020-01-02T12:00:00Z", "day", 1.5),
        ("2020-01-01T00:00:00.0Z", "2020-01-01T00:00:15.5Z", "second", 15),  # whole seconds
        ("2020-01-31T10:00:00Z", "2020-03-30T10:00:00Z", "month", 1),  # complete months
        ("2020-03-30T10:00:00Z", "2020-01-31T10:00:00Z", "month", -1),
        ("2020-01-01", "2021-01-01", "year", 366 / 365),
        ("2020-01-01T00:00:00Z", "2020-01-01T01:30:59Z", "hour", 1.5),
    ],
)
def test_date_difference_as_copernicus(date1: str, date2: str, unit: str, expected: Any) -> None:
    got = dates.date_difference(date1, date2, unit)
    assert got == pytest.approx(expected) and type(got) is type(expected)


def test_date_replace_component_and_refusals() -> None:
    assert dates.date_replace_component("2023-06-10T00:00:00Z", 15, "day") == "2023-06-15T00:00:00Z"
    assert dates.date_replace_component("2023-06-10", 2, "month") == "2023-02-10"
    assert dates.date_replace_component("2023-06-10T08:00:00+02:00", 3, "hour") == (
        "2023-06-10T03:00:00+02:00"
    )
    with pytest.raises(ProcessParameterInvalid, match="should be an integer"):
        dates.date_replace_component("2023-06-10", 1.5, "day")
    with pytest.raises(ProcessParameterInvalid, match="cannot set the day"):
        dates.date_replace_component("2023-02-10", 30, "day")
    with pytest.raises(ProcessParameterInvalid, match="unsupported unit 'minute'"):
        dates.date_difference("2023-02-10", "2023-02-11", "minute")


@pytest.mark.parametrize("lazy", [False, True])
def test_quantiles_along_a_cube_axis_skip_nodata_as_type_7(lazy: bool) -> None:
    import dask.array as da

    values = np.random.default_rng(3).normal(size=(4, 3, 11))
    values[values > 0.8] = np.nan
    values[0, 0, :] = np.nan
    data: Any = da.from_array(values, chunks=(2, 3, 4)) if lazy else values
    got = np.asarray(quantiles.quantiles(data, probabilities=[0.1, 0.5, 0.9], axis=-1))
    with pytest.warns(RuntimeWarning):
        want = np.moveaxis(np.nanquantile(values, [0.1, 0.5, 0.9], axis=-1), 0, -1)
    np.testing.assert_allclose(got, want, equal_nan=True)
    strict = np.asarray(
        quantiles.quantiles(data, probabilities=[0.5], axis=-1, ignore_nodata=False)
    )
    np.testing.assert_array_equal(np.isnan(strict[..., 0]), np.isnan(values).any(axis=-1))
