"""Tolerances per band (hybrid.tolerance) in ``compare``, ``assert_equivalent`` and
``hybrid compare``: a reflectance band and an index compared in one call, each within its
own tolerance; a band named as either result names it; a misspelt band is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hybrid.cli import main
from hybrid.comparison import compare
from hybrid.comparison_report import ComparisonReport
from hybrid.errors import UsageError
from hybrid.io.netcdf import write_netcdf
from hybrid.testing import assert_equivalent, synthetic_result
from hybrid.tolerance import Tolerance


def _two_bands(reflectance_shift: float = 0.0, index_shift: float = 0.0) -> xr.DataArray:
    """B04 in digital numbers (hundreds to thousands) and NDVI, float64, three dates."""
    ndvi = synthetic_result().astype("float64")
    b04 = 300.0 + 3000.0 * np.abs(ndvi) + reflectance_shift
    cube = xr.concat([b04, ndvi + index_shift], dim="bands").assign_coords(bands=["B04", "NDVI"])
    cube = cube.transpose("t", "bands", "y", "x")
    cube.attrs = dict(ndvi.attrs)
    return cube


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    a = write_netcdf(_two_bands(), tmp_path / "a" / "openEO.nc")
    b = write_netcdf(_two_bands(0.5, 5e-7), tmp_path / "b" / "openEO.nc")
    return a, b


def _failing(report: ComparisonReport) -> set[str]:
    return {r.label.split("/")[1] for r in report.rows if not r.equivalent}


def test_each_band_is_compared_within_its_own_tolerance(pair: tuple[Path, Path]) -> None:
    a, b = pair
    assert _failing(compare(a, b)) == {"B04"}  # 0.5 DN off; NDVI's 5e-7 within 1e-6
    report = assert_equivalent(a, b, atol={"B04": 1.0})
    assert "atol=1e-06, rtol=0; B04: atol=1, rtol=0" in report.summary()
    assert report.to_json()["band_tolerances"] == [["B04", 1.0, 0.0]]
    assert _failing(compare(a, b, atol={"B04": 1.0, "NDVI": 1e-7})) == {"NDVI"}
    assert compare(a, b, rtol={"B04": 2e-3})  # 0.5 <= 2e-3 x at least 300
    assert _failing(compare(a, b, atol=0.1, rtol={"NDVI": 0.5})) == {"B04"}


@pytest.mark.parametrize(
    ("atol", "rtol", "words"),
    [
        ({"B4": 1.0}, 0.0, "'B4', which neither result has .*B04, NDVI"),
        ({"B04": -1.0}, 0.0, "tolerances must be >= 0"),
        (1e-6, {"NDVI": "0.1"}, "must be a number"),
        (float("nan"), 0.0, "must be a number"),
    ],
)
def test_a_misspelt_band_or_a_bad_number_is_a_usage_error(
    pair: tuple[Path, Path], atol: object, rtol: object, words: str
) -> None:
    with pytest.raises(UsageError, match=words):
        compare(*pair, atol=atol, rtol=rtol)  # type: ignore[arg-type]


def test_a_series_band_is_named_as_either_layout_names_it(
    series_cube: xr.DataArray, tmp_path: Path
) -> None:
    """CSV names the bands (B04, B08), JSON numbers them (band_0, band_1): a tolerance
    given by either name applies to that position."""
    from tests.engine import test_vector_cubes as cubes

    shifted = series_cube.copy(data=series_cube.values.copy())
    shifted.loc[{"bands": "B08"}] = shifted.sel(bands="B08") + 0.05
    csv = cubes.write_vector_cube(series_cube, "CSV", tmp_path / "csv")
    other = cubes.write_vector_cube(shifted, "JSON", tmp_path / "json")
    assert not compare(csv, other)
    assert compare(csv, other, atol={"B08": 0.06})
    assert compare(csv, other, atol={"band_1": 0.06})
    assert not compare(csv, other, atol={"band_0": 0.06})


def test_the_cli_takes_band_tolerances(
    pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = (str(p) for p in pair)
    assert main(["compare", a, b]) == 1
    report = tmp_path / "r.json"
    assert main(["compare", a, b, "--atol", "B04=1", "--report", str(report)]) == 0
    assert json.loads(report.read_text())["band_tolerances"] == [["B04", 1.0, 0.0]]
    assert main(["compare", a, b, "--atol", "1e-8", "--atol", "B04=1"]) == 1  # NDVI now off
    assert main(["compare", a, b, "--atol", "1e-8", "--atol", "B04=1", "--atol", "NDVI=1e-6"]) == 0
    assert (
        main(["compare", a, b, "--atol", "1e-8", "--rtol", "B04=2e-3", "--atol", "NDVI=1e-6"]) == 0
    )
    capsys.readouterr()
    assert main(["compare", a, b, "--atol", "B04=one"]) == 2
    err = capsys.readouterr().err
    assert "'B04=one' is not a number or BAND=NUMBER" in err and err.count("\n") <= 2


def test_tolerance_of_mappings_and_defaults() -> None:
    assert Tolerance.of() == Tolerance(1e-6, 0.0, ())
    both = Tolerance.of({"B04": 2.0}, {"NDVI": 0.1, "B04": 0.01})
    assert both.bands == (("B04", 2.0, 0.01), ("NDVI", 1e-6, 0.1))
    assert both.at("band_0", "B04") == (2.0, 0.01) and both.at(None) == (1e-6, 0.0)
    kept = Tolerance.of({"B04": 2.0}, 0.5, default=(0.25, 0.0))
    assert kept.bands == (("B04", 2.0, 0.5),) and kept.at("B08") == (0.25, 0.5)


def test_a_result_without_bands_is_named_by_its_variable(tmp_path: Path) -> None:
    """``hybrid run``'s netCDF holds one variable, ``var``, and no bands: ``--atol
    var=...`` names it as the file does (it was "neither result has (bands: none)")."""
    ndvi = synthetic_result()
    a = write_netcdf(ndvi, tmp_path / "a" / "ndvi.nc")
    b = write_netcdf(ndvi + 5e-4, tmp_path / "b" / "ndvi.nc")
    assert main(["compare", str(a), str(b)]) == 1
    assert main(["compare", str(a), str(b), "--atol", "var=1e-3"]) == 0
    assert main(["compare", str(a), str(b), "--atol", "B04=1e-3"]) == 2
