"""Are two JSON value results the same? Cell by cell (:mod:`hybrid.io.json_values`).

The rules of :mod:`hybrid.comparison` with cells in place of pixels:

- rows and columns are matched by name; a row or column only one result has is a
  problem (the shared cells are still compared);
- a text, boolean or other non-number cell must be equal in both (a problem names the
  first that are not: dates in a ``run_udf`` table, say);
- per column, numbers agree when missing (null) in both, or present in both with
  ``|A - B| <= atol + rtol * |B|`` (per column: :mod:`hybrid.tolerance`); the column is
  equivalent when at least ``min_agreement`` of its rows agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybrid.comparison_report import ComparisonReport, compare_values, verdict

if TYPE_CHECKING:
    import xarray as xr

    from hybrid.tolerance import Tolerance

#: texts that differ named in the problems, at most
_SHOWN = 3


def compare_json_values(
    a: xr.DataArray, b: xr.DataArray, *, tolerance: Tolerance, min_agreement: float
) -> ComparisonReport:
    """Compare two cubes of :func:`hybrid.io.json_values.read_json_value`."""
    import numpy as np

    cells_a, cells_b = _cells(a), _cells(b)
    columns_a = list(dict.fromkeys(column for _, column in cells_a))
    columns_b = list(dict.fromkeys(column for _, column in cells_b))
    tolerance.check_bands(columns_a, columns_b)
    problems = _missing(cells_a, cells_b)
    shared = [key for key in cells_a if key in cells_b]
    numbers = [key for key in shared if _number(cells_a[key]) and _number(cells_b[key])]
    texts = [key for key in shared if key not in set(numbers)]
    unequal = [key for key in texts if not _same(cells_a[key], cells_b[key])]
    if unequal:
        shown = "; ".join(f"{r} {c}: {cells_a[(r, c)]!r} vs {cells_b[(r, c)]!r}"
                          for r, c in unequal[:_SHOWN])  # fmt: skip
        more = f" (+{len(unequal) - _SHOWN} more)" if len(unequal) > _SHOWN else ""
        problems.append(f"{len(unequal)} values that are no numbers differ: {shown}{more}")
    rows = []
    for column in (c for c in columns_a if c in columns_b):
        keys = [key for key in numbers if key[1] == column]
        if not keys:
            continue
        va = np.array([_float(cells_a[key]) for key in keys])
        vb = np.array([_float(cells_b[key]) for key in keys])
        row, _agree = compare_values(
            column, va, vb, tolerance=tolerance.at(column), min_agreement=min_agreement
        )
        rows.append(row)
    return verdict(a, b, problems, rows, tolerance=tolerance, min_agreement=min_agreement)


def _cells(cube: xr.DataArray) -> dict[tuple[str, str], Any]:
    return {
        (str(row), str(column)): value
        for row, column, value in zip(
            cube["row"].values, cube["column"].values, cube.values, strict=True
        )
    }


def _missing(cells_a: dict[tuple[str, str], Any], cells_b: dict[tuple[str, str], Any]) -> list[str]:
    problems = []
    for side, own, other in (("A", cells_a, cells_b), ("B", cells_b, cells_a)):
        for what, index in (("rows", 0), ("columns", 1)):
            only = sorted({key[index] for key in own} - {key[index] for key in other})
            if only:
                shown = ", ".join(only[:5]) + (f" (+{len(only) - 5})" if len(only) > 5 else "")
                problems.append(f"{what} only in {side}: {shown}")
    return problems


def _number(value: Any) -> bool:
    """A JSON number or null (missing), not a boolean."""
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _same(a: Any, b: Any) -> bool:
    """Equal JSON values of the same type (``true`` is not ``1``)."""
    return type(a) is type(b) and a == b


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)
