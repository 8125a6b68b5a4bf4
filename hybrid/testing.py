"""Test helpers for users' own CI: ``assert_equivalent(result_a, result_b)`` in a pytest test."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from hybrid.comparison import compare
from hybrid.comparison_report import ComparisonReport

if TYPE_CHECKING:
    import xarray as xr


def assert_equivalent(
    a: xr.DataArray | str | Path,
    b: xr.DataArray | str | Path,
    *,
    atol: float | Mapping[str, float] = 1e-6,
    rtol: float | Mapping[str, float] = 0.0,
    min_agreement: float = 1.0,
) -> ComparisonReport:
    """Fail with the comparison's summary unless ``a`` and ``b`` are equivalent.

    ``a`` and ``b`` are result files or folders (NetCDF, GTiff) or cubes from
    :func:`hybrid.io.reader.open_result`. ``atol``/``rtol`` are numbers, or per band
    ``{"B04": 1.0, "NDVI": 1e-6}`` (the other bands: the defaults; :mod:`hybrid.tolerance`).
    Returns the report when they are equivalent.
    """
    __tracebackhide__ = True
    report = compare(a, b, atol=atol, rtol=rtol, min_agreement=min_agreement)
    if not report.equivalent:
        raise AssertionError("results are not equivalent\n" + report.summary())
    return report


def synthetic_result(
    *,
    dates: tuple[str, ...] = ("2023-05-01", "2023-06-01", "2023-07-01"),
    shape: tuple[int, int] = (6, 8),
    x0: float = 300_005.0,
    y0: float = 5_010_095.0,
    resolution: float = 10.0,
    epsg: int = 32632,
    seed: int = 0,
) -> xr.DataArray:
    """A small NDVI-like result cube in the normalised layout, for tests.

    Values are float32 in [-0.2, 0.9] with NaN in the top-left pixel of each period;
    ``x0``/``y0`` are the first pixel centre (y descends).
    """
    import numpy as np
    import pyproj
    import xarray as xr

    rng = np.random.default_rng(seed)
    ny, nx = shape
    data = rng.uniform(-0.2, 0.9, size=(len(dates), ny, nx)).astype("float32")
    data[:, 0, 0] = np.nan
    cube = xr.DataArray(
        data,
        dims=("t", "y", "x"),
        coords={
            "t": np.array(dates, dtype="datetime64[ns]"),
            "y": y0 - resolution * np.arange(ny),
            "x": x0 + resolution * np.arange(nx),
        },
        name="var",
    )
    cube.attrs["crs_wkt"] = pyproj.CRS.from_epsg(epsg).to_wkt()
    return cube
