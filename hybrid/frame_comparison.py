"""Are two vector cubes the same? Geometry by geometry, column by column.

The vector cubes Copernicus writes as a frame of geometries with value columns
(``vectorcube.geojson``, ``.parquet``, ``.csv`` of load_geojson, load_url or
raster_to_vector: :mod:`hybrid.io.vector_frame`) list their features in an order that
need not be the same twice (raster_to_vector's polygons come out of a hash set on
Copernicus), so the rules of :mod:`hybrid.comparison` apply with features matched by
their geometry:

- a feature of A matches the feature of B with the same geometry (the same vertices in
  any order and orientation, to :data:`GEOMETRY_DIGITS` decimals of the CRS's unit),
  B reprojected to A's CRS when both name one; a geometry only one result has is a
  problem (the matched ones are still compared);
- the numeric columns both results have are compared, one only one has is a problem;
- per column: a value agrees when it is missing in both, or present in both with
  ``|A - B| <= atol + rtol * |B|`` (per column: :mod:`hybrid.tolerance`); the column
  is equivalent when at least ``min_agreement`` of the matched features agree. A row
  names the features of A that do not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybrid.comparison_report import ComparisonReport, compare_values, verdict
from hybrid.errors import UsageError
from hybrid.io.frames import FRAME

if TYPE_CHECKING:
    import xarray as xr

    from hybrid.tolerance import Tolerance

#: decimals of a coordinate that count when matching geometries
GEOMETRY_DIGITS = 6


def refuse_plots(a: xr.DataArray, b: xr.DataArray) -> None:
    """A UsageError when either cube is a vector frame: plots are drawn for rasters and
    time series only."""
    if FRAME in a.attrs or FRAME in b.attrs:
        raise UsageError(
            "--plots draws rasters and time series; two vector cubes are compared without "
            "plots: drop --plots"
        )


def compare_frames(
    a: xr.DataArray, b: xr.DataArray, *, tolerance: Tolerance, min_agreement: float
) -> ComparisonReport:
    """Compare two frames read by :func:`hybrid.io.frames.read_frame` (see the module
    docstring)."""
    import numpy as np

    problems: list[str] = []
    pairs = _matched(a, _in_crs(b, a.attrs.get("vector_crs")), problems)
    names_a, names_b = [str(c) for c in a["column"].values], [str(c) for c in b["column"].values]
    tolerance.check_bands(names_a, names_b)
    for side, only in (("A", set(names_a) - set(names_b)), ("B", set(names_b) - set(names_a))):
        if only:
            problems.append(f"columns only in {side}: {', '.join(sorted(only))}")
    ia = np.array([i for i, _ in pairs], dtype=int)
    ib = np.array([j for _, j in pairs], dtype=int)
    rows = []
    for name in (n for n in names_a if n in names_b):
        va = a.sel(column=name).values[ia].astype("float64")
        vb = b.sel(column=name).values[ib].astype("float64")
        row, agree = compare_values(
            name, va, vb, tolerance=tolerance.at(name), min_agreement=min_agreement
        )
        rows.append(_with_features(row, ia[~agree]))
    return verdict(a, b, problems, rows, tolerance=tolerance, min_agreement=min_agreement)


def _matched(a: xr.DataArray, b: xr.DataArray, problems: list[str]) -> list[tuple[int, int]]:
    """(feature of A, feature of B) of the same geometry, in A's order; the geometries
    only one result has go to ``problems``. Features of the same geometry (a zone on
    several dates) pair first with those holding values in the same shared columns."""
    shared = [c for c in a["column"].values if c in set(b["column"].values)]
    filled_a = _filled(a, shared)
    filled_b = _filled(b, shared)
    keys_b: dict[bytes, list[int]] = {}
    for j, geometry in enumerate(b["geometry"].values):
        keys_b.setdefault(_key(geometry), []).append(j)
    found: dict[int, int] = {}
    for strict in (True, False):
        for i, geometry in enumerate(a["geometry"].values):
            candidates = keys_b.get(_key(geometry), [])
            same = [j for j in candidates if not strict or filled_b[j] == filled_a[i]]
            if i not in found and same:
                found[i] = same[0]
                candidates.remove(same[0])
    unmatched = [i for i in range(a.sizes["feature"]) if i not in found]
    left = sorted(j for rest in keys_b.values() for j in rest)
    if unmatched:
        problems.append(f"geometries only in A: {len(unmatched)} (features {_few(unmatched)})")
    if left:
        problems.append(f"geometries only in B: {len(left)} (features {_few(left)})")
    return sorted(found.items())


def _filled(cube: xr.DataArray, columns: list[Any]) -> list[tuple[bool, ...]]:
    """Per feature, which of ``columns`` hold a value."""
    import numpy as np

    present = np.isfinite(cube.sel(column=columns).values) if columns else None
    count = cube.sizes["feature"]
    return [tuple(present[i]) if present is not None else () for i in range(count)]


def _key(geometry: Any) -> bytes:
    """The geometry's vertices rounded, in shapely's normal form, as WKB."""
    import shapely

    rounded = shapely.set_precision(geometry, 10.0**-GEOMETRY_DIGITS)
    return bytes(shapely.to_wkb(shapely.normalize(rounded)))


def _in_crs(b: xr.DataArray, crs: str | None) -> xr.DataArray:
    """``b`` with its geometries reprojected to ``crs`` when both CRSs are known."""
    own = b.attrs.get("vector_crs")
    if crs is None or own is None or own == crs:
        return b
    import geopandas as gpd

    moved = gpd.GeoSeries(list(b["geometry"].values), crs=own).to_crs(crs)
    return b.assign_coords(geometry=("feature", moved.to_numpy()))


def _with_features(row: Any, features: Any) -> Any:
    import dataclasses

    return dataclasses.replace(row, features=tuple(int(f) for f in features))


def _few(indices: list[int]) -> str:
    shown = ", ".join(map(str, indices[:5]))
    return shown + (", ..." if len(indices) > 5 else "")
