"""mask as Copernicus applies it: lazy, aligned by label, nodata in the mask masks.

openeo-processes-dask computes the mask branch eagerly and aligns by position.
Here nothing is computed: the result is a lazy ``where`` on the inputs.

- pixels whose mask value is non-zero / true are replaced (openEO spec), those without a
  value stay without one (Copernicus replaces only data: ``isData(v1)`` in
  ``rasterMaskGeneric`` L233);
- nodata (NaN) in the mask counts as true: it masks the data [FIELD_NOTES 1, mask];
- bands go by position, not by label, whatever the band dimension is called (``bands``
  or, say, ``bands2`` from add_dimension): with as many mask bands as data bands, mask
  band i masks data band i; otherwise mask band 0 masks every band
  (openeo-geotrellis-extensions DatacubeSupport.scala ``rasterMaskGeneric`` L227-233);
  a mask without a dimension the data has is broadcast along it; dates missing from
  the mask are left unmasked (a left outer join of the tiles), but dropped by a mask
  Copernicus applies while loading (``in_load``, marked from the graph by
  :mod:`hybrid.backends.local.data_masks`: an inner join with the mask's tiles that
  leave a pixel unmasked), as are the dates without a layout key the mask leaves a
  pixel of and the data has a value in (per key:
  :mod:`hybrid.backends.local.surviving_keys`);
- a mask on another grid (another resolution, extent or CRS) is first resampled onto
  the data's pixels by nearest neighbour, as Copernicus does (``rasterMask``: see
  :func:`hybrid.backends.local.processes.resampling.onto_grid`); data pixels beyond the
  mask's extent get a no-data mask value, so they are masked;
- other dimensions must carry the same labels.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from hybrid.backends.local.processes.cube_dimensions import band_dimension, bands_by_position
from hybrid.backends.local.processes.resampling import onto_grid, same_grid
from hybrid.backends.local.stored_integers import stored_value
from hybrid.errors import ProcessParameterInvalid

#: tolerance for comparing spatial coordinates of data and mask
_COORD_ATOL = 1e-6


def _same_labels(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" and b.dtype.kind in "fciu":
        return bool(np.allclose(a, b, rtol=0, atol=_COORD_ATOL))
    return bool(np.array_equal(a, b))


def _spatial(cube: Any) -> bool:
    return all(d in cube.dims and d in cube.coords for d in ("x", "y"))


def _bands_by_position(data: Any, mask: Any) -> Any:
    """The mask's band dimension (whatever its name) as the data's: band i masks band i
    with as many bands, else band 0 masks every band."""
    mask_bands = band_dimension(mask)
    if mask_bands is None:
        return mask
    paired = bands_by_position(data, mask)
    return mask.isel({mask_bands: 0}, drop=True) if paired is None else paired


def _in_load_dates(data: Any, own: Any, on_grid: Any) -> Any:
    """The positions of the data's dates a mask applied in the load keeps: those with a
    layout key where the mask has a 0 and the data a value (the rule per key:
    :mod:`hybrid.backends.local.surviving_keys`); a date the mask lacks has no key.
    The mask's own pixels (``own``) are tested within the data's keys when both are in
    one CRS (:func:`_layout`), else the mask on the data's grid (``on_grid``) as one
    key. The data is read only for the dates whose mask clears some of its keys and not
    all (all: the loader found its value; its keys are tested over the data's grid, not
    past it as Copernicus reads them). Computes the mask."""
    from hybrid.backends.local.surviving_keys import (
        clear_pixels,
        kept_positions,
        per_key,
        probe_computed,
        surviving_at,
        with_data,
    )

    layout = _layout(own, data)
    keys = np.array([0]) if layout is None else np.unique(layout.index(data))
    keys = keys[keys >= 0]
    clear = per_key(clear_pixels(on_grid if layout is None else own), layout)
    clear = probe_computed(clear)
    clear = clear.reindex(t=data["t"].values, key=keys, fill_value=False)
    every, some = clear.all(dim="key").values, clear.any(dim="key").values
    partial = np.flatnonzero(some & ~every)
    survives = every & some
    if partial.size:
        survives[partial] = surviving_at(clear, partial, with_data(data.isel(t=partial)), layout)
    return kept_positions(survives, keep_all_if_none=False)


def _layout(mask: Any, data: Any) -> Any:
    """The layout keys holding the data (:func:`hybrid.stac.overlap.key_size` pixels of
    it) laid from the north-west corner of the two loads' extents together (the dry
    run's global extent, as the mask's load reaches past the data's by its kernel
    buffer), so the mask's margin past the data's extent counts within them. None when
    the two are not in one CRS or the data is a single row or column."""
    from hybrid.backends.local.processes.vector import cube_crs
    from hybrid.backends.local.surviving_keys import layout_over
    from hybrid.stac.overlap import key_size

    if not (_spatial(mask) and _spatial(data)) or min(data.sizes["x"], data.sizes["y"]) < 2:
        return None
    try:
        if cube_crs(mask, "mask") != cube_crs(data, "mask"):
            return None
    except ProcessParameterInvalid:
        return None
    res = abs(float(data["x"].values[1] - data["x"].values[0]))
    extent, own = _edges(data, res), _edges(mask, res)
    step = key_size(data.sizes["x"], data.sizes["y"]) * res
    return layout_over(min(extent[0], own[0]), max(extent[3], own[3]), step, extent)


def _edges(cube: Any, res: float) -> tuple[float, float, float, float]:
    """(west, south, east, north): the outer edges of the cube's pixels of side ``res``
    (the data's: the mask's are counted on its pixels, Copernicus aligns it to them)."""
    xs, ys = cube["x"].values, cube["y"].values
    half = res / 2
    return xs.min() - half, ys.min() - half, xs.max() + half, ys.max() + half


def mask(
    data: Any,
    mask: Any,
    replacement: Any = None,
    input_cell_type: str | None = None,
    in_load: bool = False,
) -> Any:
    """openEO mask as Copernicus applies it (module docstring); a ``replacement`` goes
    only where the data has a value (``isData(v1)``, DatacubeSupport.scala L233), as an
    integer on an integer cube (``input_cell_type``, set from the graph by
    :mod:`hybrid.backends.local.cell_types`: ``replacement.intValue()``);
    ``in_load``: the data's dates without a layout key the mask clears and the data has a
    value in are dropped (:func:`_in_load_dates`)."""
    import xarray as xr

    if not isinstance(data, xr.DataArray) or not isinstance(mask, xr.DataArray):
        raise ProcessParameterInvalid("mask: data and mask must be raster data cubes")
    data, mask = _aligned(data, _bands_by_position(data, mask), in_load)
    flag = mask.fillna(1) if mask.dtype.kind in "fc" else mask
    flag = flag != 0
    if replacement is None:
        return data.where(~flag).transpose(*data.dims)
    if isinstance(replacement, int | float) and not isinstance(replacement, bool):
        replacement = stored_value(replacement, input_cell_type)
    return data.where(~flag | data.isnull(), replacement).transpose(*data.dims)


def _aligned(data: Any, mask: Any, in_load: bool) -> tuple[Any, Any]:
    """The data and the mask with the same dimensions and labels: the mask onto the
    data's grid and joined to its dates (``in_load``: the data's dates the mask lacks
    or masks everywhere dropped first), each of its labels the data's; a mask that
    does not fit is refused."""
    extra = [str(d) for d in mask.dims if d not in data.dims]
    if extra:
        raise ProcessParameterInvalid(
            f"mask: the mask has dimensions {extra} that the data lacks; reduce them first"
        )
    own = mask
    if _spatial(mask) and _spatial(data) and not same_grid(mask, data):
        mask = onto_grid(mask, data, "mask")
    if "t" in mask.dims and "t" in mask.coords and "t" in data.coords:
        if in_load:
            data = data.isel(t=_in_load_dates(data, own, mask))
        # joined per (x, y, t) key: dates without a mask stay unmasked, mask dates
        # without data are dropped (DatacubeSupport.scala rasterMaskGeneric L219)
        mask = mask.reindex(t=data["t"].values, fill_value=False if mask.dtype == bool else 0)
    for dim in mask.dims:
        mask = _with_labels_of(data, mask, dim)
    return data, mask


def _with_labels_of(data: Any, mask: Any, dim: Hashable) -> Any:
    """The mask with the data's labels of ``dim``, which it must have as many of, and
    the same up to tolerance."""
    if mask.sizes[dim] != data.sizes[dim]:
        raise ProcessParameterInvalid(
            f"mask: dimension '{dim}' has {mask.sizes[dim]} labels in the mask and "
            f"{data.sizes[dim]} in the data; resample or filter them to match first"
        )
    if dim in data.coords and dim in mask.coords:
        if not _same_labels(data[dim].values, mask[dim].values):
            raise ProcessParameterInvalid(
                f"mask: the labels of dimension '{dim}' differ between data and mask; "
                "resample or filter them to match first"
            )
        # identical up to tolerance: take the data's labels so xarray aligns exactly
        mask = mask.assign_coords({dim: data[dim].values})
    return mask
