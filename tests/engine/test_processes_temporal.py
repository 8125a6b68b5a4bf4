"""aggregate_temporal_period, aggregate_temporal and filter_labels as the local engine
replaces them (backends/local/processes); reducers run through openeo-pg-parser-networkx
as in the engine (tests/process_vectors.py ``run_through_engine``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from hybrid.backends.local.processes.labels import filter_labels
from hybrid.backends.local.processes.temporal import aggregate_temporal_period
from hybrid.errors import HybridWarning, NoDataAvailable, ProcessParameterInvalid
from tests.engine.process_cubes import cube, nanmean_reducer, times
from tests.process_vectors import run_through_engine


def reducer_graph(process_id: str, **arguments: Any) -> dict[str, Any]:
    args = {"data": {"from_parameter": "data"}, **arguments}
    return {"process_graph": {"r": {"process_id": process_id, "arguments": args, "result": True}}}


# ---------------------------------------------------------------- aggregate_temporal(_period)


@pytest.mark.parametrize(
    ("period", "days", "starts"),
    [
        ("day", ["2023-05-03", "2023-05-04"], ["2023-05-03", "2023-05-04"]),
        # pandas "W" weeks: Sunday to Saturday, labelled by the Sunday
        ("week", ["2023-05-06", "2023-05-07"], ["2023-04-30", "2023-05-07"]),
        (
            "dekad",
            ["2023-05-10", "2023-05-15", "2023-05-31"],
            ["2023-05-01", "2023-05-11", "2023-05-21"],
        ),
        ("month", ["2023-05-31", "2023-06-01"], ["2023-05-01", "2023-06-01"]),
        (
            "season",
            ["2023-02-10", "2023-05-10", "2023-12-05"],
            ["2022-12-01", "2023-03-01", "2023-12-01"],
        ),
        (
            "tropical-season",
            ["2023-04-30", "2023-05-01", "2023-11-01"],
            ["2022-11-01", "2023-05-01", "2023-11-01"],
        ),
        ("year", ["2022-12-31", "2023-01-01"], ["2022-01-01", "2023-01-01"]),
    ],
)
def test_period_labels_are_period_starts(period: str, days: list[str], starts: list[str]) -> None:
    data = cube(
        np.arange(len(days), dtype=float).reshape(-1, 1, 1), ("t", "y", "x"), t=times(*days)
    )
    out = run_through_engine(
        "aggregate_temporal_period",
        {"data": data, "period": period, "reducer": reducer_graph("mean")},
    )
    np.testing.assert_array_equal(out["t"].values, times(*starts))
    np.testing.assert_array_equal(out.values.ravel(), np.arange(len(days)))


@pytest.mark.parametrize(
    ("start", "starts"),
    [
        ("2023-05-11", ["2023-05-11", "2023-05-21", "2023-06-01"]),
        # python-driver: dekads of the months starting in [start - 10 days, end)
        ("2023-05-12", ["2023-06-01"]),
    ],
)
def test_dekads_skip_the_first_month_of_a_late_extent(start: str, starts: list[str]) -> None:
    from hybrid.backends.local.processes.temporal import TEMPORAL_EXTENT

    data = cube(
        np.array([1.0, 2.0, 4.0]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-05-12", "2023-05-30", "2023-06-02"),
    )
    data.attrs[TEMPORAL_EXTENT] = (start, "2023-07-01")
    out = run_through_engine(
        "aggregate_temporal_period",
        {"data": data, "period": "dekad", "reducer": reducer_graph("mean")},
    )
    np.testing.assert_array_equal(out["t"].values, times(*starts))
    np.testing.assert_array_equal(out.values.ravel(), [1.0, 2.0, 4.0][-len(starts) :])


def test_dekads_start_from_the_extent_filter_temporal_and_merge_cubes_leave() -> None:
    """Copernicus builds the dekads from its metadata's temporal extent, which
    filter_temporal narrows (geopysparkcubemetadata.py L88-102) and merge_cubes widens
    to both cubes' (geopysparkdatacube.py L1141-1147); it was the load's extent here, so
    a filter from 12 May kept May's dekads and a merge with a cube loaded from 12 May
    dropped every May date of both."""
    from hybrid.backends.local.processes.temporal import TEMPORAL_EXTENT

    def loaded(start: str, days: tuple[str, ...]) -> Any:
        data = cube(np.ones((len(days), 1, 1)), ("t", "y", "x"), t=times(*days))
        data.attrs[TEMPORAL_EXTENT] = (start, "2023-08-01")
        return data

    def dekads(data: Any) -> list[str]:
        out = run_through_engine(
            "aggregate_temporal_period",
            {"data": data, "period": "dekad", "reducer": reducer_graph("mean")},
        )
        return [str(t)[:10] for t in out["t"].values]

    early = loaded("2023-04-28", ("2023-05-02", "2023-05-14", "2023-06-02"))
    assert dekads(early) == ["2023-05-01", "2023-05-11", "2023-06-01"]
    narrowed = run_through_engine(
        "filter_temporal", {"data": early, "extent": ["2023-05-12", None]}
    )
    assert narrowed.attrs[TEMPORAL_EXTENT] == ("2023-05-12", "2023-08-01")
    assert dekads(narrowed) == ["2023-06-01"]
    # a filter wider than the load leaves its extent
    wide = run_through_engine("filter_temporal", {"data": early, "extent": ["2023-01-01", None]})
    assert wide.attrs[TEMPORAL_EXTENT] == ("2023-04-28", "2023-08-01")
    late = loaded("2023-05-12", ("2023-05-14", "2023-06-02"))
    late = late.expand_dims(bands=["b"], axis=1)
    merged = run_through_engine(
        "merge_cubes", {"cube1": late, "cube2": early.expand_dims(bands=["a"], axis=1)}
    )
    assert merged.attrs[TEMPORAL_EXTENT] == ("2023-04-28", "2023-08-01")
    assert dekads(merged) == ["2023-05-01", "2023-05-11", "2023-06-01"]


def test_period_mean_accumulates_in_float64() -> None:
    # float32 summation of 1e8 + 1 + 1 - 1e8 loses the ones; geotrellis' mean does not
    values = np.array([1e8, 1.0, 1.0, -1e8], dtype=np.float32).reshape(-1, 1, 1)
    data = cube(values, ("t", "y", "x"), t=times(*[f"2023-05-0{d}" for d in range(1, 5)]))
    out = run_through_engine(
        "aggregate_temporal_period",
        {"data": data, "period": "month", "reducer": reducer_graph("mean")},
    )
    assert out.dtype == np.float32
    assert float(out.values.ravel()[0]) == 0.5


def test_period_empty_dropped_fully_masked_kept_as_nan() -> None:
    data = cube(
        np.array([1.0, 3.0, np.nan, 5.0]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-05-02", "2023-05-20", "2023-07-04", "2023-09-09"),
    )
    out = run_through_engine(
        "aggregate_temporal_period",
        {"data": data, "period": "month", "reducer": reducer_graph("mean")},
    )
    # June and August have no scene: dropped; July's only scene is nodata: NaN
    np.testing.assert_array_equal(out["t"].values, times("2023-05-01", "2023-07-01", "2023-09-01"))
    np.testing.assert_array_equal(out.values.ravel(), [2.0, np.nan, 5.0])
    assert out.dtype == np.float32


SD = math.sqrt(((1 - 10 / 3) ** 2 + (2 - 10 / 3) ** 2 + (7 - 10 / 3) ** 2) / 2)


@pytest.mark.filterwarnings("ignore:Degrees of freedom:RuntimeWarning")
@pytest.mark.parametrize(
    ("reducer", "want", "dtype"),
    [
        ("mean", [10 / 3, 4.0, np.nan], np.float32),
        ("median", [2.0, 4.0, np.nan], np.float32),
        ("min", [1.0, 4.0, np.nan], np.float32),
        ("max", [7.0, 4.0, np.nan], np.float32),
        ("sd", [SD, np.nan, np.nan], np.float32),
        # no valid value: no count (nodata), as geotrellis' multibandReduce leaves it;
        # held as floats, written as int32 (cell_types)
        ("count", [3, 1, np.nan], np.float32),
    ],
)
def test_period_reducers_through_real_callbacks(
    reducer: str, want: list[float], dtype: Any
) -> None:
    # May: 1, 2, nodata, 7 (nodata skipped); June: 4 (a shorter period: padding);
    # July: nodata only
    data = cube(
        np.array([1.0, 2.0, np.nan, 7.0, 4.0, np.nan]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-05-01", "2023-05-09", "2023-05-17", "2023-05-25", "2023-06-02", "2023-07-03"),
    )
    out = run_through_engine(
        "aggregate_temporal_period",
        {"data": data, "period": "month", "reducer": reducer_graph(reducer)},
    )
    assert out.dtype == dtype
    np.testing.assert_allclose(out.values.ravel(), want, rtol=1e-6)


def test_period_multi_node_reducer_differs_per_period() -> None:
    # regression: the parser caches callback nodes after the first call, so a reducer
    # called once per period handed every period the first period's |mean|
    data = cube(
        np.array([-2.0, -4.0, 6.0]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-05-01", "2023-05-02", "2023-06-01"),
    )
    graph = {
        "process_graph": {
            "m": {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}}},
            "a": {"process_id": "absolute", "arguments": {"x": {"from_node": "m"}}, "result": True},
        }
    }
    out = run_through_engine(
        "aggregate_temporal_period", {"data": data, "period": "month", "reducer": graph}
    )
    np.testing.assert_array_equal(out.values.ravel(), [3.0, 6.0])


def test_aggregate_temporal_intervals_and_labels() -> None:
    data = cube(
        np.array([1.0, 3.0, 10.0, 20.0]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-03-05", "2023-04-30", "2023-06-01", "2023-07-15"),
    )
    intervals = [
        ["2023-03-01", "2023-05-01"],
        ["2023-05-01", "2023-06-01"],
        ["2023-06-01", "2023-08-01"],
    ]
    args = {"data": data, "intervals": intervals, "reducer": reducer_graph("mean")}
    # Copernicus reads each label with pandas and writes it back as %Y-%m-%dT%H:%M:%SZ
    # (geopysparkdatacube.py L974-975): a month is its first day, an offset is dropped
    labels = ["2023-03", "May 2023", "2023-07-01T00:00:00+02:00"]
    out = run_through_engine("aggregate_temporal", {**args, "labels": labels})
    # the May interval has no scene: dropped; end is exclusive (2023-06-01 is summer)
    np.testing.assert_array_equal(out["t"].values, times("2023-03-01", "2023-07-01"))
    np.testing.assert_array_equal(out.values.ravel(), [2.0, 15.0])
    out = run_through_engine("aggregate_temporal", args)
    np.testing.assert_array_equal(out["t"].values, times("2023-03-01", "2023-06-01"))


@pytest.mark.parametrize("label", ["spring", "W01", "may", None])
def test_aggregate_temporal_refuses_a_label_that_is_no_date(label: str | None) -> None:
    """Copernicus's ``pd.to_datetime(label)`` fails the job on these: one 4xx here."""
    data = cube(np.ones((1, 1, 1)), ("t", "y", "x"), t=times("2023-03-05"))
    args = {"data": data, "intervals": [["2023-03-01", "2023-05-01"]], "labels": [label]}
    with pytest.raises(ProcessParameterInvalid, match=f"label {label!r} is not a date"):
        run_through_engine("aggregate_temporal", {**args, "reducer": reducer_graph("mean")})


@pytest.mark.parametrize(
    ("scenes", "interval", "labels", "label"),
    [
        # an offset is wall time: 2023-05-01T00:00:00+02:00 is 2023-05-01T00:00Z there
        # (not 2023-04-30T22:00Z), so the 23:00 scene is out and the 01:00 one in
        (
            ["2023-04-30T23:00", "2023-05-01T01:00"],
            ["2023-05-01T00:00:00+02:00", "2023-05-02T00:00:00+02:00"],
            None,
            "2023-05-01",
        ),
        # the fraction of a second is dropped: the 12:00:00.5 scene falls after a bound
        # written 12:00:00.9 (the 11:00 one in), and a label at 06:00:00.7 is 06:00:00
        (
            ["2023-05-01T12:00:00.5", "2023-05-01T11:00"],
            ["2023-05-01T00:00:00Z", "2023-05-01T12:00:00.9Z"],
            ["2023-05-01T06:00:00.7Z"],
            "2023-05-01T06:00:00",
        ),
    ],
)
def test_aggregate_temporal_reads_bounds_and_labels_as_written_back(
    scenes: list[str], interval: list[str], labels: list[str] | None, label: str
) -> None:
    """geopysparkdatacube.py L965-977: each bound and label is parsed by pandas and
    written back with strftime('%Y-%m-%dT%H:%M:%SZ'): its wall time, whole seconds."""
    data = cube(
        np.array([3.0, 1.0]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=np.array(scenes, dtype="datetime64[ns]"),
    )
    args = {"data": data, "intervals": [interval], "reducer": reducer_graph("mean")}
    out = run_through_engine("aggregate_temporal", {**args, "labels": labels})
    np.testing.assert_array_equal(out.values.ravel(), [1.0])  # the second scene only
    np.testing.assert_array_equal(out["t"].values, np.array([label], dtype="datetime64[ns]"))


def test_aggregate_temporal_flat_interval_bounds_pair_up_as_on_copernicus() -> None:
    """geopysparkdatacube.py L965-972: a flat list [s1, e1, s2, e2] is read pairwise
    (the client's examples/archive/ndvi_composite.py); an odd count is one 400."""
    data = cube(
        np.array([1.0, 3.0, 10.0]).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-03-05", "2023-04-30", "2023-06-01"),
    )
    flat = ["2023-03-01", "2023-05-01", "2023-04-01", "2023-07-01"]
    args = {"data": data, "intervals": flat, "reducer": reducer_graph("mean")}
    out = run_through_engine("aggregate_temporal", {**args, "labels": ["2023-03", "2023-04"]})
    np.testing.assert_array_equal(out["t"].values, times("2023-03-01", "2023-04-01"))
    np.testing.assert_array_equal(out.values.ravel(), [2.0, 6.5])
    with pytest.raises(ProcessParameterInvalid, match="start, end pairs, got 3 dates"):
        run_through_engine("aggregate_temporal", {**args, "intervals": flat[:3]})


def test_aggregate_temporal_period_rejects_unsupported() -> None:
    data = cube(np.ones((1, 1, 1)), ("t", "y", "x"), t=times("2023-05-01"))
    with pytest.raises(ProcessParameterInvalid, match="'hour' is not supported"):
        aggregate_temporal_period(data, nanmean_reducer, "hour")


# ---------------------------------------------------------------- filter_labels


def test_filter_labels_text_begins_on_time_labels() -> None:
    data = cube(
        np.arange(4.0).reshape(-1, 1, 1),
        ("t", "y", "x"),
        t=times("2023-05-02", "2023-06-03", "2023-05-20", "2023-06-04"),
    )
    condition = {
        "process_graph": {
            "c": {
                "process_id": "text_begins",
                "arguments": {"data": {"from_parameter": "value"}, "pattern": "2023-06"},
                "result": True,
            }
        }
    }
    out = run_through_engine(
        "filter_labels", {"data": data, "condition": condition, "dimension": "t"}
    )
    np.testing.assert_array_equal(out["t"].values, times("2023-06-03", "2023-06-04"))
    np.testing.assert_array_equal(out.values.ravel(), [1.0, 3.0])


def test_filter_labels_plain_callable_and_missing_dimension() -> None:
    data = cube(
        np.arange(3.0).reshape(-1, 1), ("t", "x"), t=times("2023-05-02", "2023-06-03", "2023-06-05")
    )
    keep = filter_labels(data, lambda label, **_: label != "2023-06-03T00:00:00Z", "t")
    np.testing.assert_array_equal(keep["t"].values, times("2023-05-02", "2023-06-05"))
    with pytest.raises(ProcessParameterInvalid, match="DimensionNotAvailable"):
        filter_labels(data.isel(t=0, drop=True), lambda label, **_: True, "t")
    with pytest.raises(ProcessParameterInvalid, match="'condition' must be a child process"):
        filter_labels(data, "2023-06-03", "t")


def test_filter_labels_keeping_no_date_fails_as_the_load_there() -> None:
    """Copernicus drops the scenes when loading and fails without any
    (FileLayerProvider.scala L1601-1617): one clear error, not an empty cube."""
    data = cube(np.arange(2.0).reshape(-1, 1), ("t", "x"), t=times("2023-05-02", "2023-06-03"))
    with pytest.raises(NoDataAvailable, match="keeps none of the 2 dates of 't'"):
        filter_labels(data, lambda label, **_: False, "t")


def test_filter_labels_on_bands_is_ignored_as_on_copernicus() -> None:
    """geopysparkdatacube.py L298-301 returns the cube; only 't' reaches the load."""
    data = cube(np.arange(3.0), ("bands",), bands=["B02", "B04", "B08"])
    with pytest.warns(HybridWarning, match="filter_labels on 'bands'.*filter_bands"):
        keep = filter_labels(data, lambda label, **_: label != "B04", "bands")
    assert list(keep["bands"].values) == ["B02", "B04", "B08"]
