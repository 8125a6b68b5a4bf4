"""Constants Copernicus holds as float64 tiles make numpy compute in float64
(hybrid.backends.local.double_constants)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.backends.local.double_constants import in_doubles


def _multiply(x: Any, y: Any) -> Any:
    return x * y


def test_only_a_constant_of_more_than_seven_digits_beside_an_array_is_a_double() -> None:
    multiply = in_doubles("multiply", _multiply)
    band = np.array([1181.0, 7.0], np.float32)
    assert multiply(x=band, y=0.3).dtype == np.float32
    assert multiply(x=band, y=0.1 * 3).dtype == np.float64
    assert multiply(x=band, y=2).dtype == np.float32  # an Integer tile
    assert multiply(x=band, y=123456.7).dtype == np.float32  # 7 digits
    assert multiply(x=band, y=1234567.0).dtype == np.float64  # Java writes "1234567.0"
    assert multiply(x=band, y=True).dtype == np.float32
    assert type(multiply(x=3.0, y=0.1 * 3)) is float  # no array: plain Python


def test_the_operands_are_the_processes_own() -> None:
    def power(base: Any, p: Any) -> Any:
        return base**p

    band = np.array([2.0], np.float32)
    assert in_doubles("power", power)(base=band, p=1.0000001).dtype == np.float64
    assert in_doubles("sqrt", np.sqrt) is np.sqrt  # one operand: nothing to combine
