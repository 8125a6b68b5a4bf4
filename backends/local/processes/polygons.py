"""apply_polygon: a UDF run once per polygon on the pixels of that polygon, as on Copernicus.

openeo-python-driver (``processgraph/process_implementations/cubes.py`` ``apply_polygon``,
L138-183) reads ``geometries`` (the deprecated ``polygons`` too) into one MultiPolygon
whose parts are the chunks, refuses anything else than polygons and an empty area, and
calls ``chunk_polygon``. How the MultiPolygon is made depends on what ``geometries`` is:
a FeatureCollection or GeometryCollection (``util/geometry.py`` ``geojson_to_multipolygon``
L167-197) and a vector cube (load_geojson's, aggregate_spatial's: ``datacube.py``
``to_multipolygon`` L688-692) are dissolved with ``unary_union``, so overlapping or
touching fields are one chunk; a Polygon, a MultiPolygon or a Feature of one is taken as
it is (a MultiPolygon's parts are chunks); read_vector's file (a ``DelayedVector``) gives
its geometries as they are, each of which must be a Polygon (a MultiPolygon is refused,
``cubes.py`` L153-159). openeo-geopyspark-driver (``geopysparkdatacube.py``
``chunk_polygon``, L737-791) runs only a single ``run_udf`` there (anything else raises
NotImplementedError, refused here as ProcessUnsupported), on the cube cast to float32.
openeo-geotrellis-extensions (``OpenEOProcesses.scala`` ``groupAndMaskByGeometry``,
L324-384, and ``udf/Udf.scala`` ``runChunkPolygonUserCode``, L258-361): per polygon, the
smallest grid-aligned extent covering the polygon's envelope, every pixel whose centre is
outside the polygon set to ``mask_value`` (no data when null), all dates at once
(dims ``t, bands, y, x``); the UDF's results are put back on the cube's layout, the
pixels outside every polygon no data. Where chunks overlap (read_vector's polygons, or the
aligned extents of two parts), the first chunk's valid value is kept (the layout merge
fills only no-data cells).

chunk_polygon, its deprecated predecessor, is not offered: openeo-python-driver
registers it for API 1.0/1.1 only (``process_registry_100``), so Copernicus's API 1.2
does not know it either.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hybrid.backends.local.udf.callbacks import resolve_context, udf_callback
from hybrid.backends.local.udf.isolated import UdfSettings
from hybrid.errors import ProcessParameterInvalid, ProcessUnsupported, UdfError


def _polygons(value: Any, crs: Any) -> list[Any]:
    """The polygons Copernicus cuts the cube by, in ``crs``, in its order (module
    docstring)."""
    from shapely.geometry import MultiPolygon, Polygon

    from hybrid.geometries import Features, read_features, unwrapped

    value = unwrapped(value)
    features = read_features(value, process="apply_polygon")
    shapes = _chunk_shapes(value, features.geometries)
    out = []
    for shape in Features(shapes, tuple({} for _ in shapes), features.crs).to_crs(crs):
        if isinstance(shape, Polygon):
            out.append(shape)
        elif isinstance(shape, MultiPolygon):
            out.extend(shape.geoms)
        else:
            raise ProcessParameterInvalid(
                f"apply_polygon: {shape.geom_type} is not a polygon (geometries must be "
                "Polygons or MultiPolygons)"
            )
    if not out or sum(p.area for p in out) == 0:
        raise ProcessParameterInvalid("apply_polygon: the polygons have an area of 0")
    return out


def _chunk_shapes(value: Any, geometries: tuple[Any, ...]) -> tuple[Any, ...]:
    """read_vector's Polygons as they are; a collection or a vector cube dissolved into
    one shape; a single geometry as it is."""
    import shapely
    from shapely.geometry import Polygon
    from shapely.ops import unary_union

    from hybrid.io.vector import FILE_GEOMETRIES

    attrs = getattr(value, "attrs", None)
    if attrs is not None and attrs.get(FILE_GEOMETRIES):
        for geometry in geometries:
            if not isinstance(geometry, Polygon):
                raise ProcessParameterInvalid(
                    f"apply_polygon: {geometry.geom_type} is not a polygon: of a vector "
                    "file (read_vector) Copernicus takes Polygons only; split MultiPolygons "
                    "or give the file with load_url"
                )
        return geometries
    if attrs is None and not _collection(value):
        return geometries
    try:
        return (unary_union(geometries),)
    except shapely.errors.GEOSException as exc:
        raise ProcessParameterInvalid(
            f"apply_polygon: the geometries cannot be dissolved into chunks ({exc}); make "
            "them valid polygons"
        ) from None


def _collection(value: Any) -> bool:
    """Whether GeoJSON ``value`` is a collection (dissolved by Copernicus)."""
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry") or {}
    return isinstance(value, dict) and value.get("type") in (
        "FeatureCollection",
        "GeometryCollection",
    )


def _window(polygon: Any, transform: Any, shape: tuple[int, int]) -> tuple[slice, slice] | None:
    """Rows and columns of the smallest grid-aligned extent covering ``polygon``'s
    envelope (``createAlignedGridExtent``), cut to the cube; None when outside it."""
    minx, miny, maxx, maxy = polygon.bounds
    cols = sorted(((minx - transform.c) / transform.a, (maxx - transform.c) / transform.a))
    rows = sorted(((miny - transform.f) / transform.e, (maxy - transform.f) / transform.e))
    col0, col1 = max(math.floor(cols[0]), 0), min(math.ceil(cols[1]), shape[1])
    row0, row1 = max(math.floor(rows[0]), 0), min(math.ceil(rows[1]), shape[0])
    if col1 <= col0 or row1 <= row0:
        return None
    return slice(row0, row1), slice(col0, col1)


def apply_polygon(
    data: Any,
    process: Any,
    geometries: Any = None,
    mask_value: Any = None,
    context: Any = None,
    *,
    polygons: Any = None,
    udf_settings: UdfSettings | None = None,
) -> Any:
    """openEO apply_polygon with a ``run_udf`` process (the only kind Copernicus runs)."""
    from hybrid.backends.local.processes.vector import covered_pixels, cube_crs, pixel_transform
    from hybrid.backends.local.udf.isolated import run_udf_chunks
    from hybrid.backends.local.udf.tiling import canonical, restore

    udf = udf_callback(process)
    if udf is None:
        raise ProcessUnsupported(
            "apply_polygon runs only a UDF (a single run_udf as its process), as on "
            "Copernicus; for other processes use mask_polygon or filter_spatial"
        )
    if geometries is None:
        geometries = polygons
    if geometries is None:
        raise ProcessParameterInvalid("apply_polygon: 'geometries' is required")
    if mask_value is not None and (
        isinstance(mask_value, bool) or not isinstance(mask_value, int | float)
    ):
        raise ProcessParameterInvalid("apply_polygon: mask_value must be a number or null")
    fill = np.float32(np.nan if mask_value is None else mask_value)
    parts = _polygons(geometries, cube_crs(data, "apply_polygon"))
    cube, added = canonical(data)
    transform = pixel_transform(cube, "apply_polygon")
    shape = (cube.sizes["y"], cube.sizes["x"])
    chunks, windows = [], []
    for polygon in parts:
        window = _window(polygon, transform, shape)
        if window is None:
            continue
        rows, cols = covered_pixels(polygon, transform, shape)
        inside = np.zeros(shape, dtype=bool)
        inside[rows, cols] = True
        piece = cube.isel(y=window[0], x=window[1])
        chunks.append(piece.where(inside[window], fill).astype(np.float32))
        windows.append(window)
    epsg = data.attrs.get("epsg") if isinstance(data.attrs.get("epsg"), int) else None
    results = run_udf_chunks(
        udf.code, chunks, context=resolve_context(udf.context, context),
        settings=udf_settings or UdfSettings(), process="apply_polygon", epsg=epsg,
    ) if chunks else []  # fmt: skip
    out = _place(cube, results, chunks, windows)
    out.attrs = dict(data.attrs)
    return restore(out, added)


def _place(cube: Any, results: list[Any], chunks: list[Any], windows: list[Any]) -> Any:
    """The results on the cube's grid, no data where no polygon is; the first valid value
    wins where polygons overlap."""
    import xarray as xr

    if not results:
        return xr.full_like(cube, np.nan, dtype=np.float32)
    lead = []
    for result, chunk in zip(results, chunks, strict=True):
        if "y" not in result.dims or "x" not in result.dims:
            raise UdfError(f"The UDF of 'apply_polygon' returned dims {tuple(result.dims)}")
        order = [d for d in ("t", "bands") if d in result.dims]
        if len(order) + 2 != result.ndim:
            raise UdfError(
                "The UDF of 'apply_polygon' returned dims "
                f"{tuple(result.dims)}: it must keep (t, bands, y, x)"
            )
        if result.shape[-2:] != chunk.shape[-2:]:
            raise UdfError(
                "The UDF of 'apply_polygon' changed the number of pixels of a polygon's "
                f"chunk ({chunk.shape[-2:]} -> {result.shape[-2:]})"
            )
        lead.append(result.transpose(*order, "y", "x"))
    first = lead[0]
    if any(r.dims != first.dims or r.shape[:-2] != first.shape[:-2] for r in lead):
        raise UdfError("The UDF of 'apply_polygon' returned chunks of different shapes")
    coords = {
        d: (first[d].values if d in first.coords else cube[d].values) for d in first.dims[:-2]
    }
    coords.update(y=cube["y"].values, x=cube["x"].values)
    values = np.full((*first.shape[:-2], cube.sizes["y"], cube.sizes["x"]), np.nan, np.float32)
    for result, (rows, cols) in zip(lead, windows, strict=True):
        target = values[..., rows, cols]
        empty = np.isnan(target)
        target[empty] = np.asarray(result.values, dtype=np.float32)[empty]
    return xr.DataArray(values, dims=first.dims, coords=coords)
