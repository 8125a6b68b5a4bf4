"""merge_cubes for cubes with any dimensions (with or without bands, with or without t).

openeo-processes-dask assumes both cubes have a bands dimension when their labels
differ (``cube1.openeo.band_dims[0]``: IndexError on a cube without bands), e.g. two
NDVI time series of different dates.

As the openEO spec says:

- the result has the union of the labels of each dimension (cube1's order, then the
  new labels of cube2; time, x ascending and y descending are kept sorted); x and y
  form one regular grid covering both cubes, nodata where neither has a pixel (cubes
  whose extents do not touch), as Copernicus's join on one layout;
- where only one cube has a value, it is taken; where both have one (labels overlap in
  every dimension), ``overlap_resolver(x=cube1, y=cube2)`` decides, and without a
  resolver that is an error (OverlapResolverMissing); as on Copernicus, cubes sharing a
  band name need a resolver even where their dates or extents differ
  (:func:`_check_band_names`);
- a dimension that only one cube has: the other cube is broadcast along it (e.g. a
  mask without t over each date), which overlaps everywhere.

Coordinates that agree within 1e-6 (x/y of the same grid) are treated as equal.

Cubes on different grids (another resolution, CRS or pixel alignment, e.g. after a
``resample_spatial`` of one of them) are merged on one layout, as Copernicus does: the
second cube is resampled with nearest neighbour onto the first's layout (its pixel size
and alignment, over the second's own extent), unless only the second has a time
dimension, whose layout then wins [openeo-geotrellis-extensions ``OpenEOProcesses.scala``
``mergeCubes`` L936-945 and ``mergeSpatialCubes`` L926-935: ``resampleCubeSpatial`` of
the right cube onto the left's CRS and layout with ``NearestNeighbor``, then an outer
join; ``mergeCubes_SpaceTime_Spatial`` L882-884 resamples the spatial cube onto the
space-time one's, which geopyspark-driver ``geopysparkdatacube.py`` L1083-1104 passes
first, swapping the operands back]. See :mod:`hybrid.backends.local.processes.layouts`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hybrid.backends.local.processes.cube_dimensions import band_dimension, bands_by_position
from hybrid.backends.local.processes.labels import callback_cache_entries, forget_results
from hybrid.backends.local.processes.layouts import on_one_layout, regular_labels
from hybrid.backends.local.processes.temporal import TEMPORAL_EXTENT, merged_extent
from hybrid.errors import OverlapResolverMissing, ProcessParameterInvalid

_COORD_ATOL = 1e-6


def _union(dim: str, a: Any, b: Any) -> Any:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        extra = [v for v in b if not np.isclose(a, v, rtol=0, atol=_COORD_ATOL).any()]
    else:
        extra = list(b[~np.isin(b, a)])
    # text labels keep their full length (a '<U3' dtype would cut 'NDVI' to 'NDV')
    kind = a.dtype if a.dtype.kind in "Mmfiu" else None
    labels = np.concatenate([a, np.asarray(extra, dtype=kind)]) if extra else a
    if dim == "y":
        return regular_labels(np.sort(labels)[::-1], a, b)
    if dim == "x":
        return regular_labels(np.sort(labels), a, b)
    if labels.dtype.kind == "M":
        return np.sort(labels)
    return labels


def _snap(cube: Any, dim: str, labels: Any) -> Any:
    """Give ``cube`` the exact float labels of ``labels`` it matches within tolerance."""
    own = np.asarray(cube[dim].values)
    if own.dtype.kind != "f":
        return cube
    snapped = own.copy()
    for i, v in enumerate(own):
        close = np.flatnonzero(np.isclose(labels, v, rtol=0, atol=_COORD_ATOL))
        if close.size:
            snapped[i] = labels[close[0]]
    return cube.assign_coords({dim: snapped})


def merge_cubes(
    cube1: Any,
    cube2: Any,
    overlap_resolver: Callable[..., Any] | None = None,
    context: Any = None,
    output_cell_type: str | None = None,
) -> Any:
    """openEO merge_cubes (module docstring); an overlap resolver's result as a tile of
    ``output_cell_type`` (int16/int32, set from the graph by
    :mod:`hybrid.backends.local.cell_types`) stores it: Copernicus resolves in the union
    of the cubes' types (OpenEOProcesses.scala ``mergeCubesGeneric`` L947-948)."""
    import xarray as xr

    if not isinstance(cube1, xr.DataArray) or not isinstance(cube2, xr.DataArray):
        raise ProcessParameterInvalid("merge_cubes: both arguments must be raster data cubes")
    cube2 = _one_band_dimension(cube1, cube2)
    if overlap_resolver is None:
        _check_band_names(cube1, cube2)
    cube1, cube2 = on_one_layout(cube1, cube2)
    if overlap_resolver is not None:
        cube2 = _resolved_bands(cube1, cube2)
    dims = [*map(str, cube1.dims), *[str(d) for d in cube2.dims if d not in cube1.dims]]
    coords: dict[str, Any] = {}
    for dim in dims:
        if dim in cube1.dims and dim in cube2.dims:
            coords[dim] = _union(dim, cube1[dim].values, cube2[dim].values)
            cube1, cube2 = _snap(cube1, dim, coords[dim]), _snap(cube2, dim, coords[dim])
        else:
            source = cube1 if dim in cube1.dims else cube2
            coords[dim] = source[dim].values
    a = cube1.drop_vars([c for c in cube1.coords if c not in cube1.dims])
    b = cube2.drop_vars([c for c in cube2.coords if c not in cube2.dims])
    a = a.reindex({d: coords[d] for d in a.dims})
    b = b.reindex({d: coords[d] for d in b.dims})
    a, b = xr.broadcast(a, b)
    a, b = a.transpose(*dims), b.transpose(*dims)
    in1, in2 = _membership(cube1, coords), _membership(cube2, coords)
    both = in1 & in2
    if bool(both.any()):
        if overlap_resolver is None:
            raise OverlapResolverMissing(
                "merge_cubes: the cubes overlap but no overlap_resolver is given "
                "(OverlapResolverMissing)"
            )
        resolved = _resolved(overlap_resolver, a, b, context, output_cell_type)
        out = xr.where(both, resolved, xr.where(in1, a, b))
    else:
        out = xr.where(in1, a, b)
    out = out.transpose(*dims)
    out.attrs = _merged_attrs(cube1.attrs, cube2.attrs)
    return out


def _resolved(
    resolver: Callable[..., Any], a: Any, b: Any, context: Any, cell_type: str | None
) -> Any:
    """The overlap resolver's values for the aligned cubes ``a`` and ``b``."""
    import xarray as xr

    from hybrid.backends.local.stored_integers import stored_as

    entries = callback_cache_entries(resolver)
    forget_results(entries)
    with np.errstate(all="ignore"):
        resolved = resolver(
            positional_parameters={}, named_parameters={"x": a, "y": b, "context": context}
        )
    forget_results(entries)
    if not isinstance(resolved, xr.DataArray):
        resolved = xr.DataArray(resolved, dims=a.dims, coords=a.coords)
    return resolved if cell_type is None else stored_as(resolved, cell_type)


def _merged_attrs(first: Any, second: Any) -> dict[str, Any]:
    """The first cube's attributes (the second's if it has none), with the temporal
    extent of both (:func:`temporal.merged_extent`)."""
    out = dict(first) or dict(second)
    extent = merged_extent(first.get(TEMPORAL_EXTENT), second.get(TEMPORAL_EXTENT))
    if extent:
        out[TEMPORAL_EXTENT] = extent
    return out


def _one_band_dimension(cube1: Any, cube2: Any) -> Any:
    """cube2's band dimension under cube1's name: Copernicus's cubes have one band
    dimension whatever it is called, merged by band name (geopysparkdatacube.py
    ``merge_cubes`` L1053-1062, L1131-1134: cube2's new bands appended to cube1's)."""
    band1, band2 = band_dimension(cube1), band_dimension(cube2)
    if band1 is None or band2 is None or band1 == band2:
        return cube2
    return cube2.rename({band2: band1})


def _resolved_bands(cube1: Any, cube2: Any) -> Any:
    """cube2 with cube1's band names, band by band: with an overlap resolver Copernicus
    resolves band i of one cube with band i of the other whatever their names
    (geotrellis-extensions OpenEOProcesses.scala ``resolve_merge_overlap`` L978-995,
    ``l.get.bands.zip(r.get.bands)`` L991; with a cube without time L900-911;
    geopyspark-driver geopysparkdatacube.py ``merge_cubes`` compares names only without
    a resolver, L1068-1079), so ``cube_a * cube_b`` of
    ``B04_slope`` and ``B04_aspect`` is their product (the openeo client writes cube
    arithmetic as such a merge). The result keeps cube1's names; Copernicus's metadata
    also appends cube2's other names (L1136-1139), which its netCDF writes as empty
    variables: not emulated. Different band counts where the cubes overlap fail there
    ("only supported when band counts are the same", L988-989), and so here."""
    band = band_dimension(cube1)
    if band is None or band_dimension(cube2) != band:
        return cube2
    left, right = [str(b) for b in cube1[band].values], [str(b) for b in cube2[band].values]
    if left == right:
        return cube2
    if len(left) == len(right):
        return bands_by_position(cube1, cube2)
    if _overlap_outside(cube1, cube2, band):
        raise ProcessParameterInvalid(
            "merge_cubes: Merging cubes with an overlap resolver is only supported when "
            f"band counts are the same. I got: {len(left)} and {len(right)} "
            f"(bands {left} and {right}; Copernicus resolves band by band)"
        )
    return cube2


def _overlap_outside(cube1: Any, cube2: Any, band: str) -> bool:
    """Whether the cubes share a label in every dimension they both have but ``band``."""
    for dim in map(str, cube1.dims):
        if dim == band or dim not in cube2.dims:
            continue
        a, b = np.asarray(cube1[dim].values), np.asarray(cube2[dim].values)
        if a.dtype.kind == "f" and b.dtype.kind == "f":
            shared = np.isclose(a[:, None], b[None, :], rtol=0, atol=_COORD_ATOL).any()
        else:
            shared = np.isin(a, b).any()
        if not shared:
            return False
    return True


def _check_band_names(cube1: Any, cube2: Any) -> None:
    """Without an overlap resolver, Copernicus refuses cubes sharing a band name whatever
    their dates and extents (geopysparkdatacube.py ``merge_cubes`` L1068-1079: "checking
    for overlap should also consider spatial extent and temporal extent, not only
    bands"): two loads of B04 over other months fail there, so here too."""
    band1, band2 = band_dimension(cube1), band_dimension(cube2)
    if band1 is None or band2 is None:
        return
    left, right = [str(b) for b in cube1[band1].values], [str(b) for b in cube2[band1].values]
    if any(name in right for name in left):
        raise OverlapResolverMissing(
            "merge_cubes: the cubes share the band(s) "
            f"{', '.join(n for n in left if n in right)} and no overlap_resolver is given; "
            "Copernicus refuses this whatever the dates and extents: give an "
            "overlap_resolver or rename the bands (left: "
            f"{', '.join(left)}; right: {', '.join(right)})"
        )


def _membership(cube: Any, coords: dict[str, Any]) -> Any:
    """Boolean (small, per-dimension product): True where ``cube`` has every label.

    A dimension ``cube`` lacks does not appear: the cube is broadcast along it."""
    import xarray as xr

    flags = xr.DataArray(True)
    for dim in map(str, cube.dims):
        member = np.isin(coords[dim], np.asarray(cube[dim].values))
        flags = flags & xr.DataArray(member, dims=dim, coords={dim: coords[dim]})
    return flags
