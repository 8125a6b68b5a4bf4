"""Are two aggregate_spatial results the same? Date by date, feature by feature.

The rules of :mod:`hybrid.comparison`, with a result's features in place of its pixels:

- either result may be in any layout Copernicus writes (JSON, CSV, netCDF, Parquet,
  CoverageJSON: :mod:`hybrid.io.series`), so a local JSON can be set against a CSV
  downloaded from Copernicus; a value a file leaves out is missing (NaN);
- features are matched by their index, dates by their day; the dates and features of
  both results are compared, one that a result lacks being missing there;
- bands are matched by position, as the layouts name them differently (``B04`` in CSV,
  ``band_0`` in JSON, ``band0`` in CovJSON); a different number of bands is a problem
  (the common ones are still compared); when both name the same bands in another order
  they are matched by name and the order is a problem, as for rasters (a tolerance of
  one band loosened the other);
- a result without dates set against a time series is a problem, not compared further;
  dates are taken as days unless two of a result's dates fall on one day;
- per date (and band): a value agrees when it is missing in both, or present in both
  with ``|A - B| <= atol + rtol * |B|`` (per band: :mod:`hybrid.tolerance`, a band named
  as either result names it at that position); the date is equivalent when at least
  ``min_agreement`` of its features agree. A row names the features that do not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybrid.comparison_report import ComparisonReport, PeriodComparison, compare_values, verdict

if TYPE_CHECKING:
    import xarray as xr

    from hybrid.tolerance import Tolerance


def compare_series(
    a: xr.DataArray, b: xr.DataArray, *, tolerance: Tolerance, min_agreement: float
) -> ComparisonReport:
    """Compare two series (:func:`hybrid.io.series.series`)."""
    tolerance.check_bands(a["bands"].values, b["bands"].values)
    problems = _problems(a, b)
    if ("t" in a.dims) != ("t" in b.dims):  # nothing to set side by side
        return verdict(a, b, problems, [], tolerance=tolerance, min_agreement=min_agreement)
    b = _bands_by_name(a, b, problems)
    shared = min(a.sizes["bands"], b.sizes["bands"])
    names = [str(n) for n in a["bands"].values[:shared]]
    aligned_a, aligned_b = aligned(a, b)
    rows = []
    for label, sel in _layers(aligned_a, names):
        within = tolerance.at(a["bands"].values[sel["bands"]], b["bands"].values[sel["bands"]])
        rows.append(_row(label, aligned_a, aligned_b, sel, within, min_agreement))
    return verdict(a, b, problems, rows, tolerance=tolerance, min_agreement=min_agreement)


def _problems(a: xr.DataArray, b: xr.DataArray) -> list[str]:
    problems = []
    if ("t" in a.dims) != ("t" in b.dims):
        which = "A" if "t" in a.dims else "B"
        problems.append(f"only {which} is a time series (the other has no dates)")
    if a.sizes["bands"] != b.sizes["bands"]:
        problems.append(
            f"bands differ: A has {a.sizes['bands']} ({', '.join(map(str, a['bands'].values))}),"
            f" B {b.sizes['bands']} ({', '.join(map(str, b['bands'].values))}); the first "
            "ones are compared by position"
        )
    return problems


def _bands_by_name(a: xr.DataArray, b: xr.DataArray, problems: list[str]) -> xr.DataArray:
    """``b`` with its bands in ``a``'s order when both name the same bands in another
    order (a problem then); else ``b`` as it is (bands matched by position)."""
    names_a, names_b = ([str(n) for n in s["bands"].values] for s in (a, b))
    if names_a == names_b or sorted(names_a) != sorted(names_b) or len(set(names_a)) < len(names_a):
        return b
    problems.append(f"bands are in another order: A {names_a}, B {names_b}")
    return b.isel(bands=[names_b.index(name) for name in names_a])


def aligned(a: xr.DataArray, b: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """``a`` and ``b`` as the rules in the module docstring match them: their shared
    bands numbered by position, dates as days (unless two dates of one fall on a day),
    over the features and dates of both (NaN where one lacks them)."""
    import xarray as xr

    shared = min(a.sizes["bands"], b.sizes["bands"])
    days = not (_same_days(a) or _same_days(b))
    return xr.align(_numbered(a, shared, days), _numbered(b, shared, days), join="outer")


def _same_days(s: xr.DataArray) -> bool:
    """Whether two of the dates of ``s`` fall on one day."""
    import numpy as np

    if "t" not in s.dims:
        return False
    days = s["t"].values.astype("datetime64[D]")
    return len(np.unique(days)) < len(days)


def _numbered(s: xr.DataArray, bands: int, days: bool) -> xr.DataArray:
    """``s`` with its first ``bands`` bands numbered by position and, with ``days``,
    its dates as days."""
    import numpy as np

    out = s.isel(bands=slice(0, bands)).assign_coords(bands=np.arange(bands))
    if "t" in out.dims and days:
        out = out.assign_coords(t=out["t"].values.astype("datetime64[D]"))
    return out


def _layers(s: xr.DataArray, names: list[str]) -> list[tuple[str, dict[str, int]]]:
    """(label, selection) per date (and band, when there are several)."""
    import numpy as np

    days = s["t"].values if "t" in s.dims else np.array([], dtype="datetime64[D]")
    whole_days = bool((days == days.astype("datetime64[D]")).all())
    dates = [str(np.datetime_as_string(d, unit="D" if whole_days else "s")) for d in days]
    layers = []
    for ti, date in enumerate(dates or [None]):
        for bi, name in enumerate(names):
            parts = [date] if date is not None else []
            parts += [name] if len(names) > 1 or date is None else []
            sel = {"bands": bi} | ({"t": ti} if date is not None else {})
            layers.append(("/".join(parts), sel))
    return layers


def _row(
    label: str,
    a: xr.DataArray,
    b: xr.DataArray,
    sel: dict[str, int],
    tolerance: tuple[float, float],
    min_agreement: float,
) -> PeriodComparison:
    import dataclasses

    import numpy as np

    va = np.asarray(a.isel(sel).values, dtype="float64")
    vb = np.asarray(b.isel(sel).values, dtype="float64")
    row, agree = compare_values(label, va, vb, tolerance=tolerance, min_agreement=min_agreement)
    differing = tuple(int(f) for f in a["feature"].values[~agree])
    return dataclasses.replace(row, features=differing)
