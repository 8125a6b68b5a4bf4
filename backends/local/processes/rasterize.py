"""vector_to_raster: the values of a vector cube burnt into the grid of a raster cube.

As Copernicus (openeo-geopyspark-driver ``openeogeotrellis/backend.py``
``vector_to_raster``, L890-980; openeo-geotrellis-extensions
``openeo-geotrellis/src/main/scala/org/openeo/geotrellis/vector/VectorCubeMethods.scala``
``extractFeatures``, ``featuresToBand``, L58-148):

- ``target`` gives the grid only (CRS, pixels); its dates and bands are not used;
- the vector cube must hold numbers: one geometry dimension, optionally ``t`` and
  optionally one band-like dimension (``bands`` or ``properties``); a cube of
  geometries only is refused ("input vector cubes without data is not supported");
- each geometry is reprojected to the target's CRS and each pixel whose CENTRE lies in
  it (``PixelIsPoint``, as aggregate_spatial takes pixels) gets the geometry's value,
  per date and per band; pixels outside every geometry are no data;
- the result is float64, with the vector cube's dates (when it has ``t``) and its band
  labels as ``bands`` (without a band dimension, one band).

Where geometries overlap, the later one's value is kept (Copernicus leaves it to the
order geotrellis merges the features in). The band labels are those of the vector cube;
Copernicus's vector cube from aggregate_spatial has numbered bands (0, 1, ...), which
is why the BAP notebook renames them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.errors import ProcessParameterInvalid

#: the band-like dimensions a vector cube may have besides ``geometries`` and ``t``
_BAND_LIKE = ("bands", "properties")


def _check_vector_cube(data: Any) -> tuple[bool, str | None]:
    """(has t, name of its band-like dimension or None); refuses anything else."""
    from hybrid.io.vector import GEOMETRIES_ONLY

    dims = tuple(str(d) for d in getattr(data, "dims", ()))
    if not dims or dims[0] != "geometries" or not hasattr(data, "coords"):
        raise ProcessParameterInvalid(
            "vector_to_raster: data must be a vector cube (from aggregate_spatial or load_geojson)"
        )
    if data.attrs.get(GEOMETRIES_ONLY):
        raise ProcessParameterInvalid(
            "vector_to_raster: Support for input vector cubes without data is not supported."
        )
    rest = list(dims[1:])
    has_t = "t" in rest
    bands = [d for d in rest if d in _BAND_LIKE]
    band = bands[0] if len(bands) == 1 else None
    if len(rest) != has_t + (band is not None) or not np.issubdtype(data.dtype, np.number):
        raise ProcessParameterInvalid(
            f"vector_to_raster: a vector cube with dimensions {dims} and values of type "
            f"{data.dtype} is not supported (numbers along geometries[, t][, bands])"
        )
    return has_t, band


def vector_to_raster(data: Any, target: Any) -> Any:
    """The vector cube ``data`` on the grid of the raster cube ``target``."""
    import xarray as xr

    from hybrid.backends.local.processes.vector import covered_pixels, cube_crs, pixel_transform
    from hybrid.geometries import vector_cube_features

    has_t, band = _check_vector_cube(data)
    if not hasattr(target, "dims") or "x" not in target.dims or "y" not in target.dims:
        raise ProcessParameterInvalid("vector_to_raster: target must be a raster data cube")
    features = vector_cube_features(data).to_crs(cube_crs(target, "vector_to_raster"))
    transform = pixel_transform(target, "vector_to_raster")
    shape = (target.sizes["y"], target.sizes["x"])
    cube = data.transpose("geometries", *(["t"] if has_t else []), *([band] if band else []))
    values = np.asarray(cube.values, dtype=np.float64)
    values = values if band else values[..., None]
    out = np.full((*values.shape[1:], *shape), np.nan)
    for geometry, value in zip(features, values, strict=True):
        rows, cols = covered_pixels(geometry, transform, shape)
        out[..., rows, cols] = value[..., None]
    bands = [str(b) for b in cube[band].values] if band else ["0"]
    dims = [*(["t"] if has_t else []), "bands", "y", "x"]
    coords: dict[str, Any] = {"bands": bands, "y": target["y"].values, "x": target["x"].values}
    if has_t:
        coords["t"] = cube["t"].values
    result = xr.DataArray(out, dims=dims, coords=coords)
    result.attrs = {k: v for k, v in target.attrs.items() if not str(k).startswith("vector_")}
    return result


SPEC: dict[str, Any] = {
    "id": "vector_to_raster",
    "summary": "Rasterize a vector cube",
    "description": "Creates a raster cube on the grid of `target` from the values of a "
    "vector cube: each pixel whose centre lies in a geometry gets its values.",
    "categories": ["cubes", "vector"],
    "experimental": True,
    "parameters": [
        {"name": "data", "description": "A vector data cube.",
         "schema": {"type": "object", "subtype": "datacube",
                    "dimensions": [{"type": "geometry"}]}},
        {"name": "target", "description": "A raster data cube used as reference.",
         "schema": {"type": "object", "subtype": "datacube",
                    "dimensions": [{"type": "spatial", "axis": ["x", "y"]}]}},
    ],
    "returns": {"description": "The rasterized data cube.",
                "schema": {"type": "object", "subtype": "datacube"}},
}  # fmt: skip
