"""hybrid compare: equivalent encodings agree; each kind of real difference is caught and named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyproj
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybrid.cli import main
from hybrid.comparison import compare
from hybrid.io.gtiff import write_gtiff
from hybrid.io.netcdf import write_netcdf
from hybrid.io.reader import open_result
from hybrid.testing import assert_equivalent, synthetic_result

ROOT = Path(__file__).resolve().parents[2]


def make_cube(*, shape=(3, 6, 8), **options):
    nt, ny, nx = shape
    dates = ("2023-05-01", "2023-06-01", "2023-07-01")[:nt]
    return synthetic_result(dates=dates, shape=(ny, nx), **options)


def write_gtiff_folder(cube, folder: Path) -> Path:
    write_gtiff(cube, folder)
    return folder


@pytest.fixture
def result_a(tmp_path):
    return write_netcdf(make_cube(), tmp_path / "a" / "openEO.nc")


def write_b(tmp_path, cube) -> Path:
    return write_netcdf(cube, tmp_path / "b" / "openEO.nc")


def test_a_result_is_equivalent_to_itself(result_a):
    report = compare(result_a, result_a)
    assert report.equivalent
    assert not report.problems
    assert [r.label for r in report.rows] == ["2023-05-01", "2023-06-01", "2023-07-01"]
    assert all(r.max_abs_diff == 0.0 and r.differing == 0 for r in report.rows)


def test_equivalent_encodings(tmp_path, result_a):
    cube = make_cube()
    # timestamps later on the same day, stored as hours since another epoch
    hours = cube.assign_coords(t=cube["t"].values + np.timedelta64(13, "h")).to_dataset()
    hours["t"].encoding = {"units": "hours since 2000-01-01", "dtype": "int64"}
    hours["crs"] = 0
    hours["crs"].attrs["crs_wkt"] = pyproj.CRS.from_epsg(32632).to_wkt()
    (tmp_path / "hours").mkdir()
    hours.to_netcdf(tmp_path / "hours" / "r.nc", engine="h5netcdf")
    # float64 values that float32 rounds, in a GTiff folder
    gtiff = write_gtiff_folder(cube.astype("float64"), tmp_path / "gtiff")
    for other in (tmp_path / "hours", gtiff):
        report = compare(result_a, other)
        assert report.equivalent, report.summary()


def test_float32_rounding_is_within_atol(tmp_path, result_a):
    cube = make_cube().astype("float64") + 3e-8
    report = compare(open_result(result_a), cube)
    assert report.equivalent, report.summary()
    assert 0 < report.rows[0].max_abs_diff < 1e-6
    too_far = compare(open_result(result_a), make_cube() + np.float32(1e-4))
    assert not too_far.equivalent
    assert all(r.fraction_within_tolerance == 0.0 for r in too_far.rows)
    assert compare(open_result(result_a), make_cube() + np.float32(1e-4), atol=2e-4).equivalent


def test_grid_shifted_by_one_pixel(tmp_path, result_a):
    b = write_b(tmp_path, make_cube(x0=300_015.0))
    report = compare(result_a, b)
    assert not report.equivalent
    assert any("x pixel centres differ" in p and "+1.00 px" in p for p in report.problems)
    assert not any(p.startswith("y") for p in report.problems)


def test_labels_shifted_by_one_day(tmp_path, result_a):
    cube = make_cube()
    b = write_b(tmp_path, cube.assign_coords(t=cube["t"].values + np.timedelta64(1, "D")))
    report = compare(result_a, b)
    assert not report.equivalent
    problem = report.problems[0]
    assert "t labels differ" in problem and "2023-05-02" in problem and "+1 day" in problem


def test_region_masked_in_one_result_only(tmp_path, result_a):
    cube = make_cube(shape=(3, 12, 12))
    a = write_netcdf(cube, tmp_path / "a12.nc")
    masked = cube.copy()
    masked[1, 4:9, 2:7] = np.nan
    report = compare(a, write_b(tmp_path, masked))
    assert not report.equivalent
    assert not report.problems
    row = report.rows[1]
    assert not row.equivalent and row.differing == 25
    assert row.nan_agreement == pytest.approx(1 - 25 / 144)
    assert row.fraction_within_tolerance == 1.0
    assert row.bbox_pixels == (4, 2, 8, 6)
    x, y = cube["x"].values, cube["y"].values
    assert row.bbox_coords == (x[2], y[8], x[6], y[4])
    assert report.rows[0].equivalent and report.rows[2].equivalent
    assert compare(a, masked, min_agreement=0.8).equivalent


def test_different_crs(tmp_path, result_a):
    cube = make_cube()
    cube.attrs["crs_wkt"] = pyproj.CRS.from_epsg(32631).to_wkt()
    report = compare(result_a, write_b(tmp_path, cube))
    assert not report.equivalent
    assert report.problems == ("CRS differs: A is EPSG:32632, B is EPSG:32631",)
    assert report.rows == ()


def test_report_json_and_summary(tmp_path, result_a):
    cube = make_cube()
    cube[0, :, :] = np.nan
    report = compare(result_a, cube)
    data = json.loads(json.dumps(report.to_json()))
    assert data["equivalent"] is False
    assert data["rows"][0]["max_abs_diff"] is None
    assert "NOT EQUIVALENT" in report.summary() and "2023-05-01 *" in report.summary()


def test_assert_equivalent(tmp_path, result_a):
    assert assert_equivalent(result_a, make_cube()).equivalent
    with pytest.raises(AssertionError, match="t labels differ"):
        assert_equivalent(result_a, make_cube(shape=(2, 6, 8)))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    shape=st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5)),
)
def test_property_every_cube_is_equivalent_to_itself(seed, shape):
    cube = make_cube(shape=shape, seed=seed)
    assert compare(cube, cube.copy()).equivalent


# --- CLI ---------------------------------------------------------------------------


def test_cli_equivalent_exit_0_with_report_and_plots(tmp_path, result_a, capsys):
    b = write_gtiff_folder(make_cube(), tmp_path / "b_gtiff")
    code = main(
        [
            "compare",
            str(result_a),
            str(b),
            "--report",
            str(tmp_path / "r.json"),
            "--plots",
            str(tmp_path / "png"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "EQUIVALENT" in out and "2023-06-01" in out
    assert json.loads((tmp_path / "r.json").read_text())["equivalent"] is True
    pngs = sorted((tmp_path / "png").glob("*.png"))
    assert [p.name for p in pngs] == ["comparison.png"]
    assert pngs[0].read_bytes()[:4] == b"\x89PNG"


def test_cli_not_equivalent_exit_1(tmp_path, result_a, capsys):
    masked = make_cube()
    masked[0, 1:3, 1:3] = np.nan
    b = write_b(tmp_path, masked)
    code = main(["compare", str(result_a), str(b), "--report", str(tmp_path / "r.json")])
    captured = capsys.readouterr()
    assert code == 1
    assert "NOT EQUIVALENT" in captured.out
    assert captured.err.count("\n") == 1 and "not equivalent" in captured.err
    assert json.loads((tmp_path / "r.json").read_text())["rows"][0]["differing"] == 4


def test_cli_usage_errors_exit_2(tmp_path, result_a, capsys):
    assert main(["compare", str(result_a), str(tmp_path / "nope.nc")]) == 2
    assert main(["compare", str(result_a), str(result_a), "--min-agreement", "1.5"]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "min_agreement" in err


def test_cli_subprocess_unreadable_input(tmp_path, result_a):
    junk = tmp_path / "junk.nc"
    junk.write_text("this is not NetCDF")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "hybrid", "compare", str(result_a), str(junk)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "cannot read" in proc.stderr and "junk.nc" in proc.stderr


def test_layout_differences_are_reported_apart_from_values(tmp_path, result_a, capsys):
    """An old hybrid file (NETCDF4, int crs with CF grid-mapping attributes, calendar) and
    the Copernicus layout: equal values, so equivalent; the layout differences are listed."""
    cube = make_cube()
    old = cube.to_dataset(name="var")
    crs = pyproj.CRS.from_epsg(32632)
    old["crs"] = ((), np.int32(0), {**crs.to_cf(), "spatial_ref": crs.to_wkt()})
    old["var"].attrs["grid_mapping"] = "crs"
    old["t"].encoding = {"units": "days since 1990-01-01", "calendar": "standard", "dtype": "i4"}
    old.attrs = {"Conventions": "CF-1.9", "hybrid_scenes": "2023-05-01:S2A"}
    (tmp_path / "old").mkdir()
    old.to_netcdf(tmp_path / "old" / "r.nc", engine="h5netcdf", unlimited_dims=["t"])

    report = compare(tmp_path / "old" / "r.nc", result_a, atol=0)
    assert report.equivalent and report.layout_compared
    assert "format: NETCDF4 vs NETCDF4_CLASSIC" in report.layout
    assert "crs: dtype int32 vs |S1" in report.layout
    assert "t: attributes only in A: calendar" in report.layout
    assert "global attributes only in B: institution, description, title" in report.layout
    assert report.to_json()["layout"] == list(report.layout)
    assert main(["compare", str(tmp_path / "old" / "r.nc"), str(result_a)]) == 0
    out = capsys.readouterr().out
    assert "EQUIVALENT" in out and "layout differs" in out and "- crs: dtype" in out
    # the same layout says so
    same = compare(result_a, write_b(tmp_path, make_cube()))
    assert same.layout_compared and same.layout == ()
    assert "layout: the same" in same.summary()
    # cubes have no file layout to compare
    assert not compare(make_cube(), make_cube()).layout_compared


def test_a_results_folder_with_its_job_document_compares_its_files(tmp_path):
    """A GTiff folder from ``download_files`` also holds ``job-results.json``; its
    layout was read from that file ("cannot read job-results.json as NetCDF")."""
    cube = make_cube()
    folder = write_gtiff_folder(cube, tmp_path / "gtiff")
    (folder / "job-results.json").write_text('{"type": "Collection"}')
    other = write_gtiff_folder(cube, tmp_path / "other")
    report = compare(folder, other)
    assert report.equivalent and report.layout_compared and report.layout == ()


def test_a_file_without_date_is_its_single_date_counterpart(tmp_path):
    """A synchronous GTiff of a cube with dates is its first date in a file without a
    date in its name; set against the batch file of that date it was "B has a 't'
    dimension, A has none" with equal pixels. Two one-date results keep their dates."""
    import shutil

    one = make_cube(shape=(1, 6, 8))
    folder = write_gtiff_folder(one, tmp_path / "batch")
    (dated,) = sorted(folder.glob("*.tif"))
    plain = tmp_path / "sync" / "result.tif"
    plain.parent.mkdir()
    shutil.copy(dated, plain)
    assert open_result(plain).dims != open_result(dated).dims  # no date in its name
    assert compare(plain, dated)
    other = write_gtiff_folder(make_cube(shape=(2, 6, 8)), tmp_path / "two")
    (second,) = sorted(other.glob("*.tif"))[1:]
    assert not compare(dated, second)  # 2023-05-01 against 2023-06-01
