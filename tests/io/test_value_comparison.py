"""``hybrid compare`` and ``assert_equivalent`` on JSON values (hybrid.value_comparison):
a run_udf table in pandas' split layout matched row by row by feature and index label,
whatever order the features come in; any other JSON document leaf by leaf."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hybrid.cli import main
from hybrid.comparison import compare
from hybrid.errors import UsageError
from hybrid.testing import assert_equivalent, synthetic_result


def _table(values: dict[int, list[float | None]], dates: list[str]) -> dict[str, Any]:
    """A run_udf answer over a time series: per feature a row per date (split layout)."""
    data = [[feature, date, value] for feature, column in values.items()
            for date, value in zip(dates, column, strict=True)]  # fmt: skip
    return {"columns": ["feature_index", "date", "B04"],
            "index": [i for _ in values for i in range(len(dates))], "data": data}  # fmt: skip


DATES = ["2023-06-02T00:00:00.000Z", "2023-06-07T00:00:00.000Z"]


def _file(folder: Path, name: str, document: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(document))
    return path


def test_a_udf_table_in_another_feature_order_is_the_same(tmp_path):
    _file(tmp_path / "a", "result.json", _table({0: [1.0, None], 1: [3.0, 4.0]}, DATES))
    b = _file(tmp_path / "b", "result.json", _table({1: [3.0, 4.0], 0: [1.0, None]}, DATES))
    report = assert_equivalent(tmp_path / "a", b)  # a results folder, or its file
    assert [row.label for row in report.rows] == ["B04"] and report.rows[0].pixels == 4


def test_a_changed_value_date_or_row_is_named(tmp_path, capsys):
    a = _file(tmp_path, "a.json", _table({0: [1.0, 2.0], 1: [3.0, 4.0]}, DATES))
    b = _file(tmp_path, "b.json", _table({0: [1.0, 2.5], 1: [3.0, 4.0]}, DATES))
    assert main(["compare", str(a), str(b)]) == 1
    assert "not equivalent (values or NaN pattern differ in B04)" in capsys.readouterr().err
    assert compare(a, b, atol={"B04": 0.5})  # a tolerance names the column
    other_dates = ["2023-06-02T00:00:00.000Z", "2023-06-08"]
    shifted = _file(tmp_path, "c.json", _table({0: [1.0, 2.0], 1: [3.0, 4.0]}, other_dates))
    report = compare(a, shifted)
    assert (
        not report
        and "values that are no numbers differ: feature 0 / 1 date" in (report.problems[0])
    )
    fewer = _file(tmp_path, "d.json", _table({0: [1.0, 2.0]}, DATES))
    problems = compare(a, fewer).problems
    assert problems == ("rows only in A: feature 1 / 0, feature 1 / 1",)


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [(3, 3.0000001, True), (3, 3.1, False), ({"x": [1, 2]}, {"x": [1, 2, 3]}, False),
     ({"x": "a"}, {"x": "b"}, False), ([1, 2], [2, 1], False), (None, None, True),
     ({"x": True}, {"x": 1}, False), ({"x": [1, {"y": None}]}, {"x": [1, {"y": None}]}, True)],
)  # fmt: skip
def test_any_other_json_value_leaf_by_leaf(a, b, equal, tmp_path):
    report = compare(_file(tmp_path, "a.json", a), _file(tmp_path, "b.json", b))
    assert bool(report) is equal, report.summary()


def test_a_json_value_against_a_raster_is_refused(tmp_path):
    from hybrid.io.netcdf import write_netcdf

    raster = write_netcdf(synthetic_result(), tmp_path / "r.nc")
    with pytest.raises(UsageError, match="cannot compare a JSON value"):
        compare(_file(tmp_path, "a.json", 3), raster)


def test_an_infinity_equals_itself(tmp_path):
    """A division by zero gives infinities; inf - inf is NaN, yet the values are equal."""
    from hybrid.io.netcdf import write_netcdf

    cube = synthetic_result()
    cube[:, 1, 1] = float("inf")
    cube[:, 2, 2] = -float("inf")
    path = write_netcdf(cube, tmp_path / "inf.nc")
    report = assert_equivalent(path, path)
    assert all(row.max_abs_diff == 0 for row in report.rows)
    other = cube.copy()
    other[:, 1, 1] = 1.0
    report = compare(path, write_netcdf(other, tmp_path / "finite.nc"))
    assert not report and report.rows[0].differing == 1
