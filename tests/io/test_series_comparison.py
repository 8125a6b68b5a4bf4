"""``hybrid compare`` and ``assert_equivalent`` on aggregate_spatial results: the same
time series written in each layout Copernicus writes (JSON, CSV, netCDF, Parquet,
CovJSON) reads back as one series (hybrid.io.series) and compares equivalent across
layouts; a changed value is named by date and feature (hybrid.series_comparison)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from PIL import Image

from hybrid.backends.local.processes.spatial_aggregation import aggregate_spatial
from hybrid.comparison import compare
from hybrid.errors import UsageError
from hybrid.io.reader import open_series
from hybrid.testing import assert_equivalent
from tests.engine import test_vector_cubes as cubes

LAYOUTS = ("JSON", "CSV", "netCDF", "Parquet", "CovJSON")


def _written(cube: xr.DataArray, layout: str, root: Path) -> Path:
    return cubes.write_vector_cube(cube, layout, root / layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_reads_back_as_the_cubes_series(
    layout: str, series_cube: xr.DataArray, tmp_path: Path
) -> None:
    got = open_series(_written(series_cube, layout, tmp_path))
    assert got.dims == ("feature", "t", "bands") and got.sizes["bands"] == 2
    want = series_cube.transpose("geometries", "t", "bands").values
    covered = [f for f in range(3) if f in got["feature"].values]
    np.testing.assert_allclose(got.sel(feature=covered).values, want[covered], rtol=1e-12)
    assert np.isnan(want[2]).all()  # the uncovered field: missing, whether written or not
    assert 2 not in covered or np.isnan(got.sel(feature=2).values).all()


@pytest.mark.parametrize("layout", LAYOUTS[1:])
def test_the_same_series_in_two_layouts_is_equivalent(
    layout: str, series_cube: xr.DataArray, tmp_path: Path
) -> None:
    report = assert_equivalent(
        _written(series_cube, "JSON", tmp_path), _written(series_cube, layout, tmp_path)
    )
    assert [r.label for r in report.rows][:2] == ["2023-06-02/band_0", "2023-06-02/band_1"]
    assert "features" in report.summary()


def test_a_changed_value_is_named_by_date_and_feature(
    series_cube: xr.DataArray, tmp_path: Path
) -> None:
    json_file = _written(series_cube, "JSON", tmp_path)
    changed = json.loads(json_file.read_text())
    changed["2023-06-07T00:00:00Z"][1][0] += 0.01
    other = tmp_path / "other" / "timeseries.json"
    other.parent.mkdir()
    other.write_text(json.dumps(changed))
    report = compare(_written(series_cube, "CSV", tmp_path), other)
    assert not report
    (row,) = [r for r in report.rows if not r.equivalent]
    assert (row.label, row.features, row.differing) == ("2023-06-07/B04", (1,), 1)
    assert row.max_abs_diff == pytest.approx(0.01)
    assert compare(json_file.parent, other.parent, atol=0.02)  # folders with one series


def test_a_missing_value_and_another_band_count_are_not_equivalent(
    series_cube: xr.DataArray, tmp_path: Path
) -> None:
    json_file = _written(series_cube, "JSON", tmp_path)
    doc = json.loads(json_file.read_text())
    doc["2023-06-12T00:00:00Z"][0] = None  # field 0 left out on one date
    (tmp_path / "gap.json").write_text(json.dumps(doc))
    rows = [r for r in compare(json_file, tmp_path / "gap.json").rows if not r.equivalent]
    assert [(r.label, r.features, r.differing) for r in rows] == [
        ("2023-06-12/band_0", (0,), 1),
        ("2023-06-12/band_1", (0,), 1),
    ]
    assert rows[0].nan_agreement == pytest.approx(2 / 3)  # field 2: missing in both
    one_band = {d: [None if f is None else f[:1] for f in v] for d, v in doc.items()}
    (tmp_path / "one.json").write_text(json.dumps(one_band))
    report = compare(json_file, tmp_path / "one.json")
    assert not report and "bands differ: A has 2" in report.problems[0]


def test_a_series_against_a_raster_or_a_plain_value_is_a_usage_error(
    series_cube: xr.DataArray, tmp_path: Path
) -> None:
    from hybrid.testing import synthetic_result

    raster = tmp_path / "raster.nc"
    synthetic_result().to_netcdf(raster, engine="h5netcdf")
    series_file = _written(series_cube, "netCDF", tmp_path)
    with pytest.raises(UsageError, match="aggregate_spatial time series with a raster"):
        compare(series_file, raster)
    # JSON that is no time series is a JSON value (hybrid.value_comparison)
    (tmp_path / "value.json").write_text("3.5")
    with pytest.raises(UsageError, match=r"a JSON value .* with an aggregate_spatial time series"):
        compare(tmp_path / "value.json", series_file)
    (tmp_path / "labels.json").write_text('{"first": [[0.5]], "second": [[0.6]]}')
    with pytest.raises(UsageError, match=r"a JSON value .* with an aggregate_spatial time series"):
        compare(tmp_path / "labels.json", series_file)


def test_hybrid_compare_exits_0_for_the_same_series_and_1_for_another(
    series_cube: xr.DataArray, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hybrid.cli import main

    csv_file, nc_file = (_written(series_cube, name, tmp_path) for name in ("CSV", "netCDF"))
    assert main(["compare", str(csv_file), str(nc_file)]) == 0
    doctored = series_cube.copy(data=series_cube.values + 1.0)
    other = str(_written(doctored, "Parquet", tmp_path))
    assert main(["compare", str(csv_file), other, "--plots", str(tmp_path / "plots")]) == 1
    assert "NOT EQUIVALENT" in capsys.readouterr().out
    with Image.open(tmp_path / "plots" / "comparison.png") as figure:  # A and B per feature
        assert figure.width > 400 and len(figure.getcolors(4096) or ()) > 3


def test_an_empty_csv_cell_is_missing_not_the_value_before(tmp_path: Path) -> None:
    """Spark writes a missing value as an empty cell (csv_text); no fill from a neighbour."""
    text = (
        "date,feature_index,B04,B08\n"
        "2023-06-02T00:00:00.000Z,0,1.5,\n"
        "2023-06-02T00:00:00.000Z,1,,2.5\n"
        "2023-06-07T00:00:00.000Z,0,3.0,4.0\n"
    )
    (tmp_path / "timeseries.csv").write_text(text)
    got = open_series(tmp_path / "timeseries.csv")
    want = [[[1.5, np.nan], [3.0, 4.0]], [[np.nan, 2.5], [np.nan, np.nan]]]
    np.testing.assert_array_equal(got.values, want)
    assert list(got["bands"].values) == ["B04", "B08"]


def test_a_result_without_dates_compares_and_draws_over_the_features(tmp_path: Path) -> None:
    """aggregate_spatial over a cube without ``t``: ``[[band values] per feature]``."""
    from hybrid.series_plots import series_comparison_figure

    (tmp_path / "a.json").write_text("[[0.5, 1.0], [0.25, null]]")
    (tmp_path / "b.json").write_text("[[0.5, 1.0], [0.30, null]]")
    report = compare(tmp_path / "a.json", tmp_path / "b.json")
    assert [(r.label, r.features) for r in report.rows] == [("band_0", (1,)), ("band_1", ())]
    a, b = open_series(tmp_path / "a.json"), open_series(tmp_path / "b.json")
    figure = series_comparison_figure(a, b)
    assert len(figure.axes) == 2 and figure.axes[0].get_xlabel() == "feature"


def test_a_float_property_of_the_fields_is_not_a_band_of_the_parquet_series(
    tmp_path: Path,
) -> None:
    """Copernicus's Parquet puts the fields' properties after ``geometry``, the bands
    before it: a property of floats (an area) is not read as a band."""
    fields = cubes.collection(cubes.rect(1, 1, 5, 4), cubes.rect(3, 2, 7, 6))
    for index, feature in enumerate(fields["features"]):
        feature["properties"]["area_ha"] = 1.5 + index
    cube = aggregate_spatial(cubes.spacetime(), fields, cubes.plain_mean)
    got = open_series(cubes.write_vector_cube(cube, "Parquet", tmp_path))
    assert list(got["bands"].values) == ["band_unnamed"]
    np.testing.assert_allclose(got.values[..., 0], cube.values, rtol=1e-12)


def test_mismatched_dates_bands_and_names_are_reported_not_raised(
    series_cube: xr.DataArray, tmp_path: Path
) -> None:
    """Found by a user's CI: a series without dates against a time series raised
    numpy's broadcast error (a traceback, exit 1); two dates on one day raised pandas'
    "cannot reindex"; the same bands in another order were matched by position, so a
    tolerance for B04 loosened B08 too (judged equal); a time series downloaded as
    ``.geojson`` (the client's default name for a vector cube) or ``.covjson`` was
    refused."""
    json_file = _written(series_cube, "JSON", tmp_path)
    (tmp_path / "plain.json").write_text("[[0.5, 1.0], [0.25, null], [null, null]]")
    report = compare(tmp_path / "plain.json", json_file)
    assert not report and report.problems == ("only B is a time series (the other has no dates)",)
    doc = json.loads(json_file.read_text())
    first = next(iter(doc))
    twice = {first: doc[first], first.replace("T00:00:00", "T10:00:00"): doc[first]}
    (tmp_path / "twice.json").write_text(json.dumps(twice))
    rows = compare(tmp_path / "twice.json", tmp_path / "twice.json").rows
    assert [r.label for r in rows][::2] == [
        "2023-06-02T00:00:00/band_0",
        "2023-06-02T10:00:00/band_0",
    ]
    csv = _written(series_cube, "CSV", tmp_path)
    header, *lines = csv.read_text().splitlines()
    assert header.endswith(",B04,B08")
    swapped = [",".join([*row.split(",")[:2], *row.split(",")[2:][::-1]]) for row in lines]
    (tmp_path / "swapped.csv").write_text(
        "\n".join([header[: -len("B04,B08")] + "B08,B04", *swapped])
    )
    report = compare(csv, tmp_path / "swapped.csv", atol={"B04": 1e9})
    assert not report and report.problems[0].startswith("bands are in another order")
    assert all(r.equivalent for r in report.rows)  # matched by name, each within 1e-6
    for suffix in (".geojson", ".covjson"):
        renamed = tmp_path / f"series{suffix}"
        renamed.write_text(json_file.read_text())
        assert compare(json_file, renamed)
