"""Custom intervals (``--intervals FILE``) and reducer options: parsing, the graph, bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from hybrid.cli import main
from hybrid.errors import UsageError
from hybrid.intervals import parse_intervals, read_intervals
from hybrid.params import Interval

#: growing stages; labels are dates (Copernicus parses them with pandas.to_datetime)
STAGES = [
    ["2023-05-01", "2023-06-15", "2023-05-20"],
    ["2023-06-15", "2023-08-01", "2023-07-01"],
    ["2023-08-01", "2023-09-30", "2023-08-20"],
]


def _graph(capsys, *args: str) -> dict:
    code = main(["graph", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _error(capsys, *args: str) -> str:
    code = main(list(args))
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_json_list_object_and_csv_give_the_same_intervals(tmp_path):
    as_list = tmp_path / "stages.json"
    as_list.write_text(json.dumps(STAGES))
    as_objects = tmp_path / "objects.json"
    as_objects.write_text(
        json.dumps(
            {"intervals": [dict(zip(("start", "end", "label"), s, strict=True)) for s in STAGES]}
        )
    )
    as_csv = tmp_path / "stages.csv"
    as_csv.write_text("start,end,label\n" + "\n".join(",".join(s) for s in STAGES) + "\n")
    expected = tuple(
        Interval(dt.date.fromisoformat(a), dt.date.fromisoformat(b), label)
        for a, b, label in STAGES
    )
    assert read_intervals(as_list) == expected
    assert read_intervals(as_objects) == expected
    assert read_intervals(as_csv) == expected


def test_labels_are_optional_and_midnight_utc_timestamps_are_dates(tmp_path):
    path = tmp_path / "no-labels.csv"
    path.write_text("2023-05-01,2023-06-01\n2023-06-01T00:00:00Z,2023-07-01\n")
    assert read_intervals(path) == (
        Interval(dt.date(2023, 5, 1), dt.date(2023, 6, 1)),
        Interval(dt.date(2023, 6, 1), dt.date(2023, 7, 1)),
    )


def test_graph_uses_aggregate_temporal_with_intervals_labels_and_reducer(capsys, tmp_path):
    path = tmp_path / "stages.json"
    path.write_text(json.dumps(STAGES))
    graph = _graph(capsys, "--intervals", str(path), "--reducer", "max")
    pids = [n["process_id"] for n in graph.values()]
    assert "aggregate_temporal" in pids and "aggregate_temporal_period" not in pids
    (node,) = [n for n in graph.values() if n["process_id"] == "aggregate_temporal"]
    args = node["arguments"]
    assert args["intervals"] == [[s[0], s[1]] for s in STAGES]
    assert args["labels"] == [s[2] for s in STAGES]
    (reducer,) = args["reducer"]["process_graph"].values()
    assert reducer["process_id"] == "max"


@pytest.mark.parametrize("reducer", ["mean", "median", "min", "max", "sd", "count"])
def test_every_reducer_reaches_the_period_aggregation(capsys, reducer):
    graph = _graph(capsys, "--reducer", reducer, "--period", "dekad")
    (node,) = [n for n in graph.values() if n["process_id"] == "aggregate_temporal_period"]
    assert node["arguments"]["period"] == "dekad"
    (callback,) = node["arguments"]["reducer"]["process_graph"].values()
    assert callback["process_id"] == reducer


def test_unknown_reducer(capsys):
    line = _error(capsys, "graph", "--reducer", "average")
    assert "--reducer 'average'" in line and "median" in line


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        ('[["2023-05-01", "2023-06-15"], ["2023-06-01", "2023-07-01"]]', "a.json", "overlap"),
        ('[["2023-06-15", "2023-05-01"]]', "a.json", "is not after start"),
        ('[["2023-06-15", "2023-06-15"]]', "a.json", "is not after start"),
        ('[["2023-05-01", "2023-06-15"', "a.json", "not valid JSON"),
        ("{not json at all", "a.txt", "not valid JSON"),
        ('{"intervals": 3}', "a.json", "must hold a list"),
        ("[]", "a.json", "holds no interval"),
        ("[1, 2]", "a.json", "is not an interval"),
        ("start,end\n2023-05-01;2023-06-01\n", "a.csv", "expected start, end"),
        ("2023-05-01,June\n", "a.csv", "'June' is not a date"),
        ("2023-05-01,2023-06-01,a,b\n", "a.csv", "expected start, end"),
        ("2023-05-01,2023-06-01,emergence\n", "a.csv", "label 'emergence' is not a date"),
        (
            "2023-05-01,2023-06-01,2023-05-09\n2023-06-01,2023-07-01,2023-05-09\n",
            "a.csv",
            "label '2023-05-09' names more than one",
        ),
        (
            "2023-05-01,2023-06-01\n2023-06-01,2023-07-01,2023-05-01\n",
            "a.csv",
            "label '2023-05-01' names more than one",
        ),
        ("2023-05-01,2023-06-01T12:00:00Z\n", "a.csv", "not at 00:00 UTC"),
        ("2023-05-011,2023-06-01\n", "a.csv", "is not a date"),
    ],
)
def test_bad_interval_files(capsys, tmp_path, content, name, expected):
    path = tmp_path / name
    path.write_text(content)
    line = _error(capsys, "graph", "--intervals", str(path))
    assert expected in line
    assert line.startswith("hybrid: error: ")


def test_interval_file_that_is_not_text_or_missing(capsys, tmp_path):
    binary = tmp_path / "stages.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81\x00garbage")
    assert "is not text" in _error(capsys, "graph", "--intervals", str(binary))
    missing = tmp_path / "nope.json"
    assert "not found" in _error(capsys, "graph", "--intervals", str(missing))


def test_intervals_are_checked_in_any_order():
    rows = [["2023-07-01", "2023-08-01"], ["2023-05-01", "2023-07-15"]]
    with pytest.raises(UsageError, match="overlap"):
        parse_intervals(rows)
    # touching intervals do not overlap: end is excluded
    ok = parse_intervals([["2023-06-01", "2023-07-01"], ["2023-05-01", "2023-06-01"]])
    assert [i.start.month for i in ok] == [6, 5]  # file order is kept


def test_reversed_interval_exit_code_via_run(capsys, tmp_path: Path):
    path = tmp_path / "reversed.json"
    path.write_text('[["2023-09-01", "2023-06-01", "late"]]')
    line = _error(capsys, "run", "--intervals", str(path), "--out", str(tmp_path / "x.nc"))
    assert "is not after start" in line
