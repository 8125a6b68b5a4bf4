"""``apply_metadata`` UDFs: the cube's metadata as the UDF sees it, and what is kept.

Copernicus calls a UDF's ``apply_metadata(metadata, context)`` (when the code defines
one) with the cube's metadata and gives the result cube the metadata it returns
(openeo-geopyspark-driver ``geopysparkdatacube.py`` ``apply_metadata``, lines
1269-1295, called from ``apply_tiles``, ``apply_tiles_spatiotemporal`` and
``apply_neighborhood``). Here the band names it returns label the result's ``bands``.
A new resolution comes, as on Copernicus, from the pixels per chunk the UDF returns
(``apply_neighborhood`` only, :mod:`hybrid.backends.local.udf.tiling`), not from here.
Runs inside the worker, after it is confined.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from hybrid.grid import pixel_step


def cube_metadata(chunk: xr.DataArray, epsg: int | None) -> Any:
    """An ``openeo.metadata.CubeMetadata`` for the cube ``chunk`` belongs to."""
    from openeo.metadata import (
        Band,
        BandDimension,
        CubeMetadata,
        SpatialDimension,
        TemporalDimension,
    )

    dims: list[Any] = []
    for name in ("x", "y"):
        values = chunk[name].values
        step = pixel_step(values)
        step = None if step is None else abs(step)
        extent = [float(values.min()), float(values.max())]
        dims.append(SpatialDimension(name=name, extent=extent, crs=epsg or 4326, step=step))
    if "t" in chunk.dims:
        labels = [str(v)[:19] + "Z" for v in chunk["t"].values]
        dims.append(TemporalDimension(name="t", extent=[labels[0], labels[-1]]))
    if "bands" in chunk.dims:
        names = [str(b) for b in chunk["bands"].values] if "bands" in chunk.coords else []
        dims.append(BandDimension(name="bands", bands=[Band(n) for n in names]))
    return CubeMetadata(dimensions=dims)


def result_band_names(code: str, chunk: xr.DataArray, context: Any, epsg: int | None) -> Any:
    """The band names the UDF's ``apply_metadata`` gives, or None when it has none."""
    from openeo.udf.run_code import load_module_from_string

    func = load_module_from_string(code).get("apply_metadata")
    if not callable(func):
        return None
    result = func(cube_metadata(chunk, epsg), context)
    if result is None or not result.has_band_dimension():
        raise ValueError(
            "run_udf: apply_metadata function should not remove the band dimension, "
            f"received metadata: {result}."
        )
    return list(result.band_names)


def relabel(result: xr.DataArray, names: list[str] | None) -> xr.DataArray:
    """``result`` with the band names apply_metadata gave, when the counts agree."""
    if names is None or "bands" not in result.dims or result.sizes["bands"] != len(names):
        return result
    return result.assign_coords(bands=names)
