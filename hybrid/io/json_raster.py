"""A raster cube saved as JSON, as Copernicus writes it.

Copernicus collects the cube into an ``xarray.DataArray`` and writes it with the openeo
client's ``XarrayIO.to_json_file`` (openeo-geopyspark-driver geopysparkdatacube.py
``write_assets`` format "JSON", about line 2686; ``_collect_as_xarray`` about lines
2774-2927): dimensions ``t`` (if any), ``bands`` (if any), then ``x`` and ``y`` (x before
y), x and y ascending pixel centres, ``t`` as dates; attributes ``nodata`` and ``crs``
(PROJ string) and ``grid_mapping`` "spatial_ref", and a ``spatial_ref`` coordinate
holding the WKT. ``XarrayIO.to_json_file`` writes ``DataArray.to_dict()`` with the dtype
and shape of the values and of every coordinate added, NaN as ``NaN``.

The same function writes the file here, so ``XarrayIO.from_json_file`` reads it back.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.atomic import atomic_path
from hybrid.io.format import filename_prefix

SUFFIX = ".json"


def write_raster(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's raster writer for JSON: ``openEO.json`` (or the filename prefix)."""
    from openeo.udf.xarraydatacube import XarrayIO

    path = Path(out_dir) / f"{filename_prefix(options)}{SUFFIX}"
    with atomic_path(path) as tmp:
        XarrayIO.to_json_file(array=copernicus_array(cube), path=tmp)
    return [path]


def copernicus_array(cube: Any) -> Any:
    """The cube laid out as Copernicus's ``_collect_as_xarray`` lays it out."""
    import numpy as np
    import pyproj

    order = [d for d in ("t", "bands") if d in cube.dims]
    array = cube.transpose(*order, "x", "y").sortby("x").sortby("y")
    array = array.drop_vars([c for c in array.coords if c not in array.dims])
    array.name = None
    nodata = np.nan if np.issubdtype(array.dtype, np.floating) else 0
    wkt = cube.attrs.get("crs_wkt")
    crs = pyproj.CRS.from_wkt(wkt) if wkt else None
    with warnings.catch_warnings():  # pyproj: a PROJ string loses information (it does)
        warnings.simplefilter("ignore", UserWarning)
        proj4 = crs.to_proj4() if crs else None
    array.attrs = {"nodata": nodata, "crs": proj4}
    array = array.assign_coords(spatial_ref=0)
    if crs is not None:
        array.coords["spatial_ref"].attrs.update(spatial_ref=crs.to_wkt(), crs_wkt=crs.to_wkt())
    array.attrs["grid_mapping"] = "spatial_ref"
    return array
