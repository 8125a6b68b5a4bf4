"""Are two results the same? Pixel by pixel, period by period, with a report that says why not.

Rules (each failure is named in :attr:`ComparisonReport.problems` or in a period row):

- both results must have the same CRS;
- pixel centres must coincide (a grid shifted by one pixel, another resolution or extent
  is not equivalent); values are still compared where centres coincide;
- time labels are compared after :func:`hybrid.io.reader.open_result` normalised them to
  the date (a label on another day is not equivalent);
- the files' layouts (format, dims, variables, dtypes, attribute names, compression,
  chunking) are compared too and reported in :attr:`ComparisonReport.layout`, apart from
  the values: a hybrid file and a Copernicus file with equal values are equivalent even
  when their layouts differ;
- per period (and band): a pixel *agrees* when it is NaN in both, or valid in both with
  ``|A - B| <= atol + rtol * |B|`` (the same for every band, or per band:
  :mod:`hybrid.tolerance`); the period is equivalent when at least
  ``min_agreement`` of its pixels agree. So with the default ``min_agreement=1.0`` a
  single pixel masked in one result only makes the results differ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.comparison_report import ComparisonReport, PeriodComparison, compare_values, verdict
from hybrid.grid import pixel_step
from hybrid.io.cube import cube_crs
from hybrid.io.frames import FRAME
from hybrid.io.json_values import JSON_VALUE
from hybrid.io.reader import open_any
from hybrid.io.series import is_series
from hybrid.tolerance import DEFAULT_ATOL, DEFAULT_RTOL, Tolerance

if TYPE_CHECKING:
    import numpy as np
    import xarray as xr

#: coordinates closer than this fraction of a pixel count as the same pixel centre
_COORD_TOLERANCE = 1e-4


def compare(
    a: xr.DataArray | str | Path,
    b: xr.DataArray | str | Path,
    *,
    atol: float | Mapping[str, float] | Tolerance = DEFAULT_ATOL,
    rtol: float | Mapping[str, float] = DEFAULT_RTOL,
    min_agreement: float = 1.0,
) -> ComparisonReport:
    """Compare two results (cubes from :func:`~hybrid.io.reader.open_result`, series from
    :func:`~hybrid.io.reader.open_series`, or paths to result files: aggregate_spatial
    results are compared by :mod:`hybrid.series_comparison`, other vector cubes by
    :mod:`hybrid.frame_comparison`). ``atol`` and ``rtol`` may be given per band
    (:mod:`hybrid.tolerance`), or both as a :class:`~hybrid.tolerance.Tolerance` in
    ``atol``."""
    from hybrid.errors import UsageError

    tolerance = Tolerance.of(atol, rtol)
    if not 0.0 <= min_agreement <= 1.0:
        raise UsageError(f"min_agreement must be between 0 and 1 (got {min_agreement})")
    cube_a = a if not isinstance(a, str | Path) else open_any(a)
    cube_b = b if not isinstance(b, str | Path) else open_any(b)
    for kind, holds, compare_kind in _OTHER_KINDS:
        held = [holds(cube) for cube in (cube_a, cube_b)]
        if any(held):
            if not all(held):
                other = _kind_of(cube_b if held[0] else cube_a)
                raise UsageError(
                    f"cannot compare {kind} with {other}: give two results of one kind "
                    "(rasters, time series, vector cubes or JSON values)"
                )
            return compare_kind()(cube_a, cube_b, tolerance=tolerance, min_agreement=min_agreement)
    tolerance.check_bands(*(_band_names(cube) for cube in (cube_a, cube_b)))
    aligned_a, aligned_b, problems = align(cube_a, cube_b)
    rows: list[PeriodComparison] = []
    if aligned_a is not None and aligned_b is not None:
        for label, band, va, vb in _layers(aligned_a, aligned_b):
            within = tolerance.at(band, *(_variable(c) for c in (cube_a, cube_b)))
            rows.append(_compare_layer(label, va, vb, aligned_a, within, min_agreement))
    layout = _layout_differences(cube_a, cube_b)
    return verdict(
        cube_a, cube_b, problems, rows,
        tolerance=tolerance, min_agreement=min_agreement, layout=layout,
    )  # fmt: skip


def _json_values() -> Any:
    from hybrid.value_comparison import compare_json_values

    return compare_json_values


def _frames() -> Any:
    from hybrid.frame_comparison import compare_frames

    return compare_frames


def _series() -> Any:
    from hybrid.series_comparison import compare_series

    return compare_series


#: the results that are no rasters: (what, whether a cube is one, its comparison)
_OTHER_KINDS = (
    ("a JSON value (a number, a run_udf table)", lambda c: JSON_VALUE in c.attrs, _json_values),
    ("a vector cube (GeoJSON, vectorcube.*)", lambda c: FRAME in c.attrs, _frames),
    ("an aggregate_spatial time series", is_series, _series),
)


def _kind_of(cube: xr.DataArray) -> str:
    return next((kind for kind, holds, _ in _OTHER_KINDS if holds(cube)), "a raster")


def _band_names(cube: xr.DataArray) -> list[str]:
    """The bands' labels; a result without bands: its one variable's name (``var`` in a
    ``hybrid run`` netCDF), so a tolerance can name it as the file does."""
    if "bands" in cube.dims:
        return [str(b) for b in cube["bands"].values]
    return [name] if (name := _variable(cube)) else []


def _variable(cube: xr.DataArray) -> str | None:
    """The name of a result without bands (its one variable), else None."""
    return str(cube.name) if "bands" not in cube.dims and cube.name is not None else None


def _layout_differences(a: xr.DataArray, b: xr.DataArray) -> list[str] | None:
    """How the files behind two opened results differ in layout (None: not files)."""
    from hybrid.errors import UsageError
    from hybrid.io.layout import describe, differences

    names = [str(c.attrs.get("source") or "") for c in (a, b)]
    sources = [Path(name) for name in names if name]
    if len(sources) != 2 or not all(s.exists() for s in sources):
        return None
    try:
        return differences(describe(sources[0]), describe(sources[1]))
    except UsageError as exc:
        return [f"not compared: {exc}"]


def align(
    a: xr.DataArray, b: xr.DataArray
) -> tuple[xr.DataArray | None, xr.DataArray | None, list[str]]:
    """Both cubes cut to what they share (time labels, bands, pixel centres) and the
    structural differences found on the way. ``None`` cubes when nothing can be compared."""
    problems: list[str] = []
    crs_problem = _crs_problem(a, b)
    if crs_problem:
        return None, None, [crs_problem]
    if ("t" in a.dims) != ("t" in b.dims):
        a, b = _one_date_as_none(a), _one_date_as_none(b)
    for dim in ("t", "bands"):
        if (dim in a.dims) != (dim in b.dims):
            has, lacks = ("A", "B") if dim in a.dims else ("B", "A")
            problems.append(f"{has} has a '{dim}' dimension, {lacks} has none")
            return None, None, problems
    if "t" in a.dims:
        a, b = _align_labels(a, b, "t", problems)
    if "bands" in a.dims:
        a, b = _align_labels(a, b, "bands", problems)
    for dim in ("x", "y"):
        a, b = _align_coords(a, b, dim, problems)
    if any(a.sizes[d] == 0 for d in a.dims):
        problems.append("A and B share no pixel (period, band, x/y) to compare")
        return None, None, problems
    return a, b, problems


def _one_date_as_none(cube: xr.DataArray) -> xr.DataArray:
    """A cube with a single date as one without ``t`` (used when the other has none): a
    synchronous GTiff of a cube with dates is its first date in a file whose name has
    none (Copernicus writes one spatial layer there), the same pixels as the batch file
    named after that date. Two cubes with a date each keep them (a shifted date is a
    difference)."""
    if "t" in cube.dims and cube.sizes["t"] == 1:
        return cube.isel(t=0, drop=True)
    return cube


def _crs_problem(a: xr.DataArray, b: xr.DataArray) -> str | None:
    crs_a, crs_b = cube_crs(a), cube_crs(b)
    if crs_a is None and crs_b is None:
        return None
    if crs_a is None or crs_b is None:
        lacking, other = ("A", crs_b) if crs_a is None else ("B", crs_a)
        assert other is not None
        return f"{lacking} has no CRS, the other has {other.to_string()}"
    if crs_a.equals(crs_b, ignore_axis_order=True):
        return None
    epsg_a, epsg_b = crs_a.to_epsg(), crs_b.to_epsg()
    if epsg_a is not None and epsg_a == epsg_b:
        return None
    return f"CRS differs: A is {crs_a.to_string()}, B is {crs_b.to_string()}"


def _label(value: Any) -> str:
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00(\.0+)?", text):
        return text[:10]
    return text


def _align_labels(
    a: xr.DataArray, b: xr.DataArray, dim: str, problems: list[str]
) -> tuple[xr.DataArray, xr.DataArray]:
    labels_a = [_label(v) for v in a[dim].values]
    labels_b = [_label(v) for v in b[dim].values]
    if labels_a == labels_b:
        return a, b
    common = [lab for lab in labels_a if lab in set(labels_b)]
    only_a = [lab for lab in labels_a if lab not in set(labels_b)]
    only_b = [lab for lab in labels_b if lab not in set(labels_a)]
    name = "t labels" if dim == "t" else "bands"
    text = (
        f"{name} differ: only in A: {', '.join(only_a) or '-'}; "
        f"only in B: {', '.join(only_b) or '-'}"
    )
    if dim == "t" and len(labels_a) == len(labels_b) and labels_a:
        import numpy as np

        shifts = {int(d) for d in (b[dim].values - a[dim].values) / np.timedelta64(1, "D")}
        if len(shifts) == 1:
            text += f" (B's labels are A's shifted by {shifts.pop():+d} day(s))"
    elif not only_a and not only_b:
        text = f"{name} are in another order: A {labels_a}, B {labels_b}"
    problems.append(text)
    index_a = [labels_a.index(lab) for lab in common]
    index_b = [labels_b.index(lab) for lab in common]
    return a.isel({dim: index_a}), b.isel({dim: index_b})


def _align_coords(
    a: xr.DataArray, b: xr.DataArray, dim: str, problems: list[str]
) -> tuple[xr.DataArray, xr.DataArray]:
    import numpy as np

    ca, cb = a[dim].values, b[dim].values
    step = pixel_step(ca) or pixel_step(cb) or 1.0
    tol = abs(step) * _COORD_TOLERANCE
    if ca.shape == cb.shape and np.allclose(ca, cb, rtol=0.0, atol=tol):
        return a, b
    text = f"{dim} pixel centres differ: A {_describe(ca)}, B {_describe(cb)}"
    if ca.size and cb.size and np.isclose(pixel_step(ca) or step, pixel_step(cb) or step, atol=tol):
        offset = float(cb[0] - ca[0])
        text += f"; B's first centre is offset by {offset:+g} ({offset / abs(step):+.2f} px)"
    problems.append(text)
    keys_a = np.round(ca / tol).astype("int64")
    keys_b = np.round(cb / tol).astype("int64")
    _common, index_a, index_b = np.intersect1d(keys_a, keys_b, return_indices=True)
    order = np.argsort(index_a)
    return a.isel({dim: index_a[order]}), b.isel({dim: index_b[order]})


def _describe(coords: np.ndarray) -> str:
    if coords.size == 0:
        return "0 px"
    step = pixel_step(coords)
    step_text = f", step {step:g}" if step is not None else ""
    return f"{coords.size} px from {coords[0]:.6g} to {coords[-1]:.6g}{step_text}"


def _layers(
    a: xr.DataArray, b: xr.DataArray
) -> list[tuple[str, str | None, np.ndarray, np.ndarray]]:
    """(label, band, A 2-D float64 array, B 2-D array) for each period (and band)."""
    import numpy as np

    times = [_label(v) for v in a["t"].values] if "t" in a.dims else [None]
    bands = [str(v) for v in a["bands"].values] if "bands" in a.dims else [None]
    layers = []
    for i, time in enumerate(times):
        for j, band in enumerate(bands):
            sel: dict[str, int] = {}
            if time is not None:
                sel["t"] = i
            if band is not None:
                sel["bands"] = j
            label = "/".join(x for x in (time, band) if x is not None) or "all"
            va = np.asarray(a.isel(sel).transpose("y", "x").values, dtype="float64")
            vb = np.asarray(b.isel(sel).transpose("y", "x").values, dtype="float64")
            layers.append((label, band, va, vb))
    return layers


def _compare_layer(
    label: str,
    va: np.ndarray,
    vb: np.ndarray,
    grid: xr.DataArray,
    tolerance: tuple[float, float],
    min_agreement: float,
) -> PeriodComparison:
    import dataclasses

    import numpy as np

    row, agree = compare_values(label, va, vb, tolerance=tolerance, min_agreement=min_agreement)
    if not row.differing:
        return row
    rows, cols = np.nonzero(~agree)
    xs, ys = grid["x"].values[cols], grid["y"].values[rows]
    return dataclasses.replace(
        row,
        bbox_pixels=(int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())),
        bbox_coords=(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())),
    )
