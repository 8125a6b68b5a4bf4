"""raster_to_vector: the homogeneous zones of a raster cube's first band as polygons.

As Copernicus (openeo-geopyspark-driver 9baf2e10 ``geopysparkdatacube.py``
``raster_to_vector`` L1823-1831 and ``_parse_raster_to_vector_geojson`` L1757-1821;
openeo-geotrellis-extensions 2a25a26e ``OpenEOProcesses.scala`` ``vectorize``
L589-658; geotrellis ``raster/vectorize/Vectorize.scala``):

- only the cube's first band is read; its cells are read as geotrellis reads a tile as
  integers (``Tile.get``): the integer part of each value (towards zero), saturated to
  int32; NaN, and -2**31, are no data (a float NDVI in (-1, 1) is one zone of 0). An
  integer cube's nodata value (:data:`~hybrid.backends.local.cell_types.INPUT_NODATA`:
  255 of linear_scale_range's uint8, 0 of convert_data_type's) is no data too;
- a zone is a 4-connected group of cells with the same value (``FourNeighbors``),
  vectorised per date in pieces of at most 5120 x 5120 cells (the layer regridded to
  ``min(256 * 20, cols)`` cells, each piece cropped to the cube's extent), so a zone
  crossing a piece's edge gives one polygon per piece; a zone enclosing another has a
  hole;
- the result is a vector cube of one polygon per zone and date, in the cube's CRS, with
  the dimensions ``geometries``, ``t`` (the dates that have a zone, as ``yyyyMMdd``
  labels at midnight UTC; absent when the cube has no ``t``) and ``bands`` (one label,
  ``band0``): a polygon has its zone's value at its own date and NaN at the others.

It is a vector cube as load_geojson's is (Copernicus's ``DriverVectorCube``), not an
aggregate_spatial result: saved as GeoJSON (the default of a synchronous request), CSV
or Parquet it is its geometries' frame with ``<date>~band0`` columns
(:mod:`hybrid.io.vector_frame`), as JSON the legacy ``{date: [[value] per polygon]}``.

Copernicus keeps each piece's polygons in a hash set and the dates in the order Spark
groups them, an order that cannot be reproduced; here the polygons come date after
date, piece after piece (rows of pieces from the top left), each piece's zones in the
order of their first cell row by row. Compare such results by geometry, not by index.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybrid.backends.local.cell_types import INPUT_NODATA
from hybrid.errors import ProcessParameterInvalid

#: the band label of the result (Copernicus names it after the band's index)
BAND = "band0"
#: the largest piece vectorised at once (OpenEOProcesses.scala ``vectorize``: 256 * 20)
PIECE = 5120
_INT_MIN = -(2**31)


def raster_to_vector(data: Any, **kwargs: Any) -> Any:
    """The vector cube of the zones of ``data``'s first band (module docstring)."""
    from hybrid.backends.local.processes.vector import cube_crs, pixel_transform

    if not hasattr(data, "dims") or "x" not in data.dims or "y" not in data.dims:
        raise ProcessParameterInvalid("raster_to_vector: data must be a raster data cube")
    extra = set(map(str, data.dims)) - {"t", "bands", "y", "x"}
    if extra:
        raise ProcessParameterInvalid(
            f"raster_to_vector: the cube has dimensions {sorted(extra)} besides t, bands, y "
            "and x; reduce them first"
        )
    crs, transform = cube_crs(data, "raster_to_vector"), pixel_transform(data, "raster_to_vector")
    band = data.isel(bands=0) if "bands" in data.dims else data
    nodata = kwargs.get(INPUT_NODATA)  # an integer cube's nodata (cell_types)
    if "t" not in band.dims:
        zones = _zones(_cells(band.transpose("y", "x").values, nodata), transform)
        return _cube([(None, zones)], crs)
    by_date: dict[Any, list[tuple[Any, float]]] = {}
    for index, label in enumerate(band["t"].values):
        cells = _cells(band.isel(t=index).transpose("y", "x").values, nodata)
        found = _zones(cells, transform)
        if found:
            by_date.setdefault(np.datetime64(label, "D"), []).extend(found)
    return _cube(sorted(by_date.items(), key=lambda item: item[0]), crs)


def _cells(values: Any, nodata: float | None) -> Any:
    """The cells as geotrellis reads them as integers (int64, -2**31 for no data)."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        cells = np.trunc(np.clip(values, _INT_MIN, 2**31 - 1))
    missing = np.isnan(values) | (cells == _INT_MIN)
    if nodata is not None:
        missing |= cells == nodata
    return np.where(missing, _INT_MIN, cells).astype(np.int64)


def _zones(cells: Any, transform: Any) -> list[tuple[Any, float]]:
    """(polygon in the cube's CRS, value) of each zone, piece by piece."""
    from affine import Affine

    out: list[tuple[Any, float]] = []
    rows, cols = cells.shape
    for row in range(0, rows, PIECE):
        for col in range(0, cols, PIECE):
            piece = cells[row : row + PIECE, col : col + PIECE]
            origin = (transform.c + col * transform.a, transform.f + row * transform.e)
            out.extend(
                _piece_zones(
                    piece, Affine(transform.a, 0.0, origin[0], 0.0, transform.e, origin[1])
                )
            )
    return out


def _piece_zones(cells: Any, transform: Any) -> list[tuple[Any, float]]:
    """The zones of one piece, in the order of their first cell (row by row)."""
    import shapely
    from rasterio.features import shapes
    from shapely.geometry import shape

    valid = cells != _INT_MIN
    if not valid.any():
        return []
    found = []
    for geometry, value in shapes(cells.astype(np.int32), mask=valid, connectivity=4):
        polygon = shape(geometry)  # in cell units: (col, row)
        ring = np.asarray(polygon.exterior.coords)
        top = ring[:, 1].min()
        first = (top, ring[ring[:, 1] == top, 0].min())
        found.append((first, polygon, float(value)))
    found.sort(key=lambda item: item[0])
    matrix = [transform.a, transform.b, transform.d, transform.e, transform.c, transform.f]
    return [(shapely.affinity.affine_transform(p, matrix), v) for _, p, v in found]


def _cube(dated: list[tuple[Any, list[tuple[Any, float]]]], crs: Any) -> Any:
    """The vector cube of the zones found per date (date None: a cube without ``t``)."""
    import xarray as xr

    from hybrid.io.vector import DRIVER_CUBE, GEOMETRIES_ONLY

    polygons = [p for _, zones in dated for p, _ in zones]
    geometry = np.empty(len(polygons), dtype=object)
    geometry[:] = polygons
    with_t = bool(dated) and dated[0][0] is not None
    if not polygons:
        cube = xr.DataArray(np.full(0, np.nan), dims=("geometries",))
    elif with_t:
        values = np.full((len(polygons), len(dated), 1), np.nan)
        start = 0
        for ti, (_, zones) in enumerate(dated):
            values[start : start + len(zones), ti, 0] = [v for _, v in zones]
            start += len(zones)
        times = np.array([d for d, _ in dated], dtype="datetime64[ns]")
        cube = xr.DataArray(values, dims=("geometries", "t", "bands"), coords={"t": times})
    else:
        values = np.array([[v] for _, v in dated[0][1]], dtype=np.float64)
        cube = xr.DataArray(values, dims=("geometries", "bands"))
    cube = cube.assign_coords(
        geometries=np.arange(len(polygons)), geometry=("geometries", geometry)
    )
    if "bands" in cube.dims:
        cube = cube.assign_coords(bands=[BAND])
    cube.attrs = {"vector_crs": crs.to_string(), "vector_properties": [{}] * len(polygons)}
    cube.attrs[DRIVER_CUBE] = True
    if not polygons:
        cube.attrs[GEOMETRIES_ONLY] = True
    return cube


SPEC: dict[str, Any] = {
    "id": "raster_to_vector",
    "summary": "Convert a raster data cube into a vector data cube",
    "description": "Converts this raster data cube into a vector data cube: the polygons "
    "of the homogeneous areas of 4-connected pixels of the first band, per date.",
    "categories": ["cubes", "vector"],
    "experimental": True,
    "parameters": [
        {"name": "data", "description": "A raster data cube.",
         "schema": {"type": "object", "subtype": "datacube",
                    "dimensions": [{"type": "spatial", "axis": ["x", "y"]}]}},
    ],
    "returns": {"description": "A vector data cube.",
                "schema": {"type": "object", "subtype": "datacube",
                           "dimensions": [{"type": "geometry"}]}},
}  # fmt: skip
