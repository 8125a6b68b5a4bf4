"""load_geojson (and the deprecated to_vector_cube): GeoJSON in the graph as a vector cube.

As Copernicus (openeo-python-driver ``processgraph/process_implementations/io.py``
``load_geojson``, ``datacube.py`` ``DriverVectorCube.from_geojson`` and
``from_geodataframe``):

- accepted: Point, MultiPoint, Polygon, MultiPolygon, Feature and FeatureCollection
  (the argument's validator); a GeometryCollection or a line is refused;
- the coordinates are longitude/latitude: a GeoJSON ``crs`` member is ignored
  (``ignore_crs=True``) and coordinates outside -180..180 / -90..90 are refused
  (``validate_geojson_coordinates``);
- ``properties`` (default none) become the values along a dimension ``properties``,
  labelled by the property names, NaN where a feature lacks one, as pandas holds the
  columns (``from_geodataframe``: ``data[existing].values``): numbers as float64, and
  with a text or a boolean among them the values as they are (objects); without
  properties the
  cube holds one NaN per geometry along ``geometries`` alone, flagged as holding
  geometries only (saved as JSON: one null per geometry; as GeoJSON: no values).

The cube has the layout of an ``aggregate_spatial`` result
(:mod:`hybrid.backends.local.processes.vector`): ``geometries`` labelled 0..n-1, the
geometries as the ``geometry`` coordinate, their CRS and GeoJSON properties in
``attrs``. aggregate_spatial, filter_spatial and mask_polygon take it as ``geometries``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hybrid.errors import ProcessParameterInvalid
from hybrid.geometries import Features, read_features
from hybrid.io.vector import GEOMETRIES_ONLY

#: the GeoJSON types load_geojson takes (Copernicus's validator of ``data``)
ACCEPTED_TYPES = frozenset(
    {"Point", "MultiPoint", "Polygon", "MultiPolygon", "Feature", "FeatureCollection"}
)
#: the GeoJSON types to_vector_cube converts (python-driver geometry.py L179)
CONVERTIBLE_TYPES = frozenset({"Polygon", "MultiPolygon", "Feature", "FeatureCollection"})


def load_geojson(data: Any, properties: Sequence[str] | None = None) -> Any:
    value = _geojson(data, ACCEPTED_TYPES, "load_geojson")
    features = read_features(value, process="load_geojson")  # lon/lat, crs ignored
    import pandas as pd

    names = [str(p) for p in (properties or [])]
    frame = pd.DataFrame([dict(props) for props in features.properties])
    values = property_values(frame, names) if names else None
    return features_cube(features, names, values)


def to_vector_cube(data: Any) -> Any:
    """Copernicus's deprecated non-standard ``to_vector_cube`` (openeo-python-driver
    ``process_implementations/geometry.py`` L168-181): a Polygon, MultiPolygon, Feature
    or FeatureCollection as a vector cube, ``DriverVectorCube.from_geojson`` with its
    default column selection: the properties whose column pandas reads as numbers (a
    property missing from some features is NaN there; texts, booleans and mixed
    columns are left out), in the order they first appear. A warning says to use
    load_geojson, as Copernicus's log does."""
    from hybrid.run_warnings import warn

    value = _geojson(data, CONVERTIBLE_TYPES, "to_vector_cube")
    warn("to_vector_cube is deprecated (on Copernicus too): use load_geojson instead")
    return numeric_properties_cube(read_features(value, process="to_vector_cube"))


def numeric_properties_cube(features: Features) -> Any:
    """The vector cube of ``features`` whose values are the properties pandas reads as
    numbers (``DriverVectorCube.from_geodataframe``'s default columns)."""
    import pandas as pd

    frame = pd.DataFrame([dict(props) for props in features.properties])
    names = [str(c) for c in frame.columns if np.issubdtype(frame[c].dtype, np.number)]
    return features_cube(features, names, property_values(frame, names) if names else None)


def property_values(frame: Any, names: Sequence[str]) -> Any:
    """The values (row x name) Copernicus's ``DriverVectorCube.from_geodataframe`` takes
    of the columns ``names`` of ``frame`` (openeo-python-driver 9e5b49b2 datacube.py
    L366-391: ``data[existing].values``, a column the frame lacks NaN): float64 when
    pandas finds a numeric type common to the columns, else objects as pandas holds them
    (a text stays a text and a boolean a boolean, where float64 would make them NaN and
    1.0)."""
    import pandas as pd

    table = pd.DataFrame(
        {name: frame[name] if name in frame.columns else np.nan for name in names},
        index=frame.index,
    )
    values = table.to_numpy()
    return values.astype(np.float64 if values.dtype.kind in "iuf" else object)


def features_cube(features: Features, names: Sequence[str], values: Any) -> Any:
    """The vector cube of ``features``: ``values`` (feature x name) along ``properties``,
    or, without names, one NaN per geometry flagged as geometries only."""
    import xarray as xr

    count = len(features.geometries)
    if names:
        values = np.asarray(values)
        kind = np.float64 if values.dtype.kind in "iuf" else object
        cube = xr.DataArray(
            values.astype(kind).reshape(count, len(names)),
            dims=("geometries", "properties"),
            coords={"geometries": np.arange(count), "properties": list(names)},
        )
    else:
        cube = xr.DataArray(
            np.full(count, np.nan), dims=("geometries",), coords={"geometries": np.arange(count)}
        )
    geometry = np.empty(count, dtype=object)
    geometry[:] = list(features.geometries)
    cube = cube.assign_coords(geometry=("geometries", geometry))
    cube.attrs = {"vector_crs": features.crs, "vector_properties": list(features.properties)}
    if not names:
        cube.attrs[GEOMETRIES_ONLY] = True
    return cube


def _geojson(data: Any, accepted: frozenset[str], process: str) -> Any:
    """``data`` as a plain dict, refused unless it is of one of the ``accepted`` types."""
    from hybrid.geometries import unwrapped

    data = unwrapped(data)
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in accepted:
        raise ProcessParameterInvalid(
            f"{process}: data must be GeoJSON of type {', '.join(sorted(accepted))}; "
            f"got {kind or type(data).__name__!r}"
        )
    return data


TO_VECTOR_CUBE_SPEC: dict[str, Any] = {
    "id": "to_vector_cube",
    "summary": "GeoJSON as a vector cube (deprecated)",
    "description": "Deprecated (use `load_geojson`): converts a GeoJSON Polygon, "
    "MultiPolygon, Feature or FeatureCollection to a vector cube whose values are its "
    "numerical properties.",
    "categories": ["vector"],
    "experimental": True,
    "deprecated": True,
    "parameters": [
        {"name": "data", "description": "GeoJSON object.",
         "schema": {"type": "object", "subtype": "geojson"}},
    ],
    "returns": {"description": "A vector cube.",
                "schema": {"type": "object", "subtype": "datacube",
                           "dimensions": [{"type": "geometry"}]}},
}  # fmt: skip
