"""The report of a comparison (:mod:`hybrid.comparison` for rasters,
:mod:`hybrid.series_comparison` for time series): one row per period (and band), the
verdict, and the one rule by which two arrays of values agree (:func:`compare_values`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import xarray as xr

    from hybrid.tolerance import Tolerance


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
    #: for a time series (:mod:`hybrid.series_comparison`): the features that differ
    features: tuple[int, ...] | None = None


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
    #: the bands given tolerances of their own: (name, atol, rtol)
    band_tolerances: tuple[tuple[str, float, float], ...] = ()

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
        data["band_tolerances"] = [list(band) for band in self.band_tolerances]
        data["rows"] = [{k: _json_value(v) for k, v in asdict(r).items()} for r in self.rows]
        return data

    def summary(self) -> str:
        from hybrid.tolerance import Tolerance

        verdict = "EQUIVALENT" if self.equivalent else "NOT EQUIVALENT"
        tolerance = Tolerance(self.atol, self.rtol, self.band_tolerances)
        lines = [
            f"A: {self.a}",
            f"B: {self.b}",
            f"{verdict} ({tolerance.text()}, min_agreement={self.min_agreement:g})",
        ]
        lines += [f"- {problem}" for problem in self.problems]
        if self.rows:
            series = any(r.features is not None for r in self.rows)
            where_header = "features" if series else "where x/y"
            header = ("period", "max|A-B|", "rmse", "within", "nan-agree", "differ", where_header)
            table = [header]
            for r in self.rows:
                where = _features_text(r.features) if r.features else "-"
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


def verdict(
    a: xr.DataArray,
    b: xr.DataArray,
    problems: list[str],
    rows: list[PeriodComparison],
    *,
    tolerance: Tolerance,
    min_agreement: float,
    layout: list[str] | None = None,
) -> ComparisonReport:
    """The report on ``a`` and ``b``: equivalent without problems and with every row
    equivalent; ``layout`` None when the files' layouts were not compared."""
    return ComparisonReport(
        a=str(a.attrs.get("source", "A")),
        b=str(b.attrs.get("source", "B")),
        equivalent=not problems and all(r.equivalent for r in rows),
        problems=tuple(problems),
        rows=tuple(rows),
        layout=tuple(layout or ()),
        layout_compared=layout is not None,
        atol=tolerance.atol,
        rtol=tolerance.rtol,
        band_tolerances=tolerance.bands,
        min_agreement=min_agreement,
    )


def compare_values(
    label: str,
    va: np.ndarray,
    vb: np.ndarray,
    *,
    tolerance: tuple[float, float],
    min_agreement: float,
) -> tuple[PeriodComparison, np.ndarray]:
    """The row of two arrays of values (without where they differ) and the mask of the
    values that agree: NaN in both, or valid in both within ``atol + rtol * |B|``
    (``tolerance`` is (atol, rtol))."""
    import numpy as np

    atol, rtol = tolerance
    nan_a, nan_b = np.isnan(va), np.isnan(vb)
    valid = ~nan_a & ~nan_b
    with np.errstate(invalid="ignore", over="ignore"):  # infinities (a division by 0)
        same = va == vb  # an infinity equals itself, though inf - inf is NaN
        diff = np.where(same, 0.0, np.abs(va - vb))
        within = valid & (same | (diff <= atol + rtol * np.abs(vb)))
        n_valid = int(valid.sum())
        max_abs = float(diff[valid].max()) if n_valid else None
        rmse = float(np.sqrt(np.mean(diff[valid] ** 2))) if n_valid else None
    agree = (nan_a & nan_b) | within
    pixels = int(va.size)
    agreement = float(agree.sum()) / pixels if pixels else 1.0
    row = PeriodComparison(
        label=label,
        pixels=pixels,
        max_abs_diff=max_abs,
        rmse=rmse,
        fraction_within_tolerance=float(within.sum()) / n_valid if n_valid else None,
        nan_agreement=float((nan_a == nan_b).sum()) / pixels if pixels else 1.0,
        agreement=agreement,
        differing=pixels - int(agree.sum()),
        bbox_pixels=None,
        bbox_coords=None,
        equivalent=agreement >= min_agreement - 1e-12,
    )
    return row, agree


def _features_text(features: tuple[int, ...]) -> str:
    shown = ", ".join(str(f) for f in features[:6])
    return shown + (f" (+{len(features) - 6})" if len(features) > 6 else "")


def _fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, tuple):
        return list(value)
    return value
