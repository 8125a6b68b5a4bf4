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
  ``|A - B| <= atol + rtol * |B|``; the period is equivalent when at least
  ``min_agreement`` of its pixels agree. So with the default ``min_agreement=1.0`` a
  single pixel masked in one result only makes the results differ.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid.io.cube import cube_crs
from hybrid.io.reader import open_result

if TYPE_CHECKING:
    import numpy as np
    import xarray as xr

#: coordinates closer than this fraction of a pixel count as the same pixel centre
_COORD_TOLERANCE = 1e-4


@dataclass(frozen=True)
class PeriodComparison:
    """One period (and band) compared over the pixel centres both results share."""

    #: the period label (``2023-05-01``), with ``/band`` when bands were kept
    label: str
    pixels: int
    #: largest |A - B| over pixels valid in both (None when there are none)
    max_abs_diff: float | None
    rmse: float | None
    #: fraction of the pixels valid in both that are within atol + rtol*|B|
    fraction_within_tolerance: float | None
    #: fraction of pixels that are NaN in both or valid in both
    nan_agreement: float
    #: fraction of pixels that agree (both NaN, or both valid and within tolerance)
    agreement: float
    #: pixels that do not agree
    differing: int
    #: where they differ: (row_min, col_min, row_max, col_max) in the shared grid
    bbox_pixels: tuple[int, int, int, int] | None
    #: the same as pixel centres: (x_min, y_min, x_max, y_max)
    bbox_coords: tuple[float, float, float, float] | None
    equivalent: bool


@dataclass(frozen=True)
class ComparisonReport:
    """The verdict and the evidence; ``to_json()`` for files, ``summary()`` for people."""

    a: str
    b: str
    atol: float
    rtol: float
    min_agreement: float
    equivalent: bool
    #: structural differences: CRS, grid, time labels, bands
    problems: tuple[str, ...]
    rows: tuple[PeriodComparison, ...]
    #: file layout differences (format, dims, variables, dtypes, attribute names,
    #: compression, chunking: :mod:`hybrid.io.layout`); they do not decide equivalence
    layout: tuple[str, ...] = ()
    #: False when the layouts were not compared (a cube, not a file, was given)
    layout_compared: bool = False

    def __bool__(self) -> bool:
        """True when the results are equivalent (``assert hybrid.compare(a, b)``)."""
        return self.equivalent

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = list(self.problems)
        data["layout"] = list(self.layout)
        data["rows"] = [{k: _json_value(v) for k, v in asdict(r).items()} for r in self.rows]
        return data

    def summary(self) -> str:
        verdict = "EQUIVALENT" if self.equivalent else "NOT EQUIVALENT"
        lines = [
            f"A: {self.a}",
            f"B: {self.b}",
            f"{verdict} (atol={self.atol:g}, rtol={self.rtol:g}, "
            f"min_agreement={self.min_agreement:g})",
        ]
        lines += [f"- {problem}" for problem in self.problems]
        if self.rows:
            header = ("period", "max|A-B|", "rmse", "within", "nan-agree", "differ", "where x/y")
            table = [header]
            for r in self.rows:
                where = "-"
                if r.bbox_coords is not None:
                    x0, y0, x1, y1 = r.bbox_coords
                    where = f"{x0:.0f}..{x1:.0f} / {y0:.0f}..{y1:.0f}"
                table.append(
                    (
                        r.label + ("" if r.equivalent else " *"),
                        _fmt(r.max_abs_diff, "{:.3g}"),
                        _fmt(r.rmse, "{:.3g}"),
                        _fmt(r.fraction_within_tolerance, "{:.2%}"),
                        f"{r.nan_agreement:.2%}",
                        str(r.differing),
                        where,
                    )
                )
            widths = [max(len(row[i]) for row in table) for i in range(len(header))]
            for row in table:
                lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if self.layout_compared:
            if self.layout:
                lines.append("layout differs (format, dims, variables, dtypes, attributes):")
                lines += [f"- {difference}" for difference in self.layout]
            else:
                lines.append("layout: the same (format, dims, variables, dtypes, attributes)")
        return "\n".join(line.rstrip() for line in lines)


def compare(
    a: xr.DataArray | str | Path,
    b: xr.DataArray | str | Path,
    *,
    atol: float = 1e-6,
    rtol: float = 0.0,
    min_agreement: float = 1.0,
) -> ComparisonReport:
    """Compare two results (cubes from :func:`open_result`, or paths to result files)."""
    from hybrid.errors import UsageError

    if atol < 0 or rtol < 0:
        raise UsageError(f"tolerances must be >= 0 (got atol={atol}, rtol={rtol})")
    if not 0.0 <= min_agreement <= 1.0:
        raise UsageError(f"min_agreement must be between 0 and 1 (got {min_agreement})")
    cube_a = a if not isinstance(a, str | Path) else open_result(a)
    cube_b = b if not isinstance(b, str | Path) else open_result(b)
    aligned_a, aligned_b, problems = align(cube_a, cube_b)
    rows: list[PeriodComparison] = []
    if aligned_a is not None and aligned_b is not None:
        for label, va, vb in _layers(aligned_a, aligned_b):
            rows.append(
                _compare_layer(
                    label, va, vb, aligned_a, atol=atol, rtol=rtol, min_agreement=min_agreement
                )
            )
    equivalent = not problems and all(r.equivalent for r in rows)
    layout = _layout_differences(cube_a, cube_b)
    return ComparisonReport(
        a=str(cube_a.attrs.get("source", "A")),
        b=str(cube_b.attrs.get("source", "B")),
        atol=atol,
        rtol=rtol,
        min_agreement=min_agreement,
        equivalent=equivalent,
        problems=tuple(problems),
        rows=tuple(rows),
        layout=tuple(layout or ()),
        layout_compared=layout is not None,
    )


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
    step = _step(ca) or _step(cb) or 1.0
    tol = abs(step) * _COORD_TOLERANCE
    if ca.shape == cb.shape and np.allclose(ca, cb, rtol=0.0, atol=tol):
        return a, b
    text = f"{dim} pixel centres differ: A {_describe(ca)}, B {_describe(cb)}"
    if ca.size and cb.size and np.isclose(_step(ca) or step, _step(cb) or step, atol=tol):
        offset = float(cb[0] - ca[0])
        text += f"; B's first centre is offset by {offset:+g} ({offset / abs(step):+.2f} px)"
    problems.append(text)
    keys_a = np.round(ca / tol).astype("int64")
    keys_b = np.round(cb / tol).astype("int64")
    _common, index_a, index_b = np.intersect1d(keys_a, keys_b, return_indices=True)
    order = np.argsort(index_a)
    return a.isel({dim: index_a[order]}), b.isel({dim: index_b[order]})


def _step(coords: np.ndarray) -> float | None:
    return float(coords[1] - coords[0]) if coords.size > 1 else None


def _describe(coords: np.ndarray) -> str:
    if coords.size == 0:
        return "0 px"
    step = _step(coords)
    step_text = f", step {step:g}" if step is not None else ""
    return f"{coords.size} px from {coords[0]:.6g} to {coords[-1]:.6g}{step_text}"


def _layers(a: xr.DataArray, b: xr.DataArray) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, A 2-D float64 array, B 2-D array) for each period (and band)."""
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
            layers.append((label, va, vb))
    return layers


def _compare_layer(
    label: str,
    va: np.ndarray,
    vb: np.ndarray,
    grid: xr.DataArray,
    *,
    atol: float,
    rtol: float,
    min_agreement: float,
) -> PeriodComparison:
    import numpy as np

    nan_a, nan_b = np.isnan(va), np.isnan(vb)
    valid = ~nan_a & ~nan_b
    diff = np.abs(va - vb)
    within = valid & (diff <= atol + rtol * np.abs(vb))
    agree = (nan_a & nan_b) | within
    pixels = int(va.size)
    n_valid = int(valid.sum())
    differing = pixels - int(agree.sum())
    agreement = float(agree.sum()) / pixels if pixels else 1.0
    bbox_pixels = bbox_coords = None
    if differing:
        rows, cols = np.nonzero(~agree)
        bbox_pixels = (int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max()))
        xs, ys = grid["x"].values[cols], grid["y"].values[rows]
        bbox_coords = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
    return PeriodComparison(
        label=label,
        pixels=pixels,
        max_abs_diff=float(diff[valid].max()) if n_valid else None,
        rmse=float(np.sqrt(np.mean(diff[valid] ** 2))) if n_valid else None,
        fraction_within_tolerance=float(within.sum()) / n_valid if n_valid else None,
        nan_agreement=float((nan_a == nan_b).sum()) / pixels if pixels else 1.0,
        agreement=agreement,
        differing=differing,
        bbox_pixels=bbox_pixels,
        bbox_coords=bbox_coords,
        equivalent=agreement >= min_agreement - 1e-12,
    )


def _fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, tuple):
        return list(value)
    return value
