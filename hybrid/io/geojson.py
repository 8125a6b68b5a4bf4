"""GeoJSON results: a vector cube as a FeatureCollection in longitude/latitude.

As Copernicus writes a vector cube (openeo-python-driver ``openeo_driver/datacube.py``
``DriverVectorCube.write_assets`` and ``to_geojson``; the format listed by
openeo-geopyspark-driver ``backend.py`` ``file_formats``: "GeoJSON is always in
EPSG:4326"): one file ``vectorcube.geojson``, one Feature per geometry (reprojected to
EPSG:4326) with its GeoJSON properties, and the cube's values flattened into further
properties, the labels of the dimensions after ``geometries`` joined by ``~``
(``2023-06-10T00:00:00Z~B04``; ``_as_geopandas_df``). A cube of load_geojson without
properties holds no values and adds none.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.atomic import atomic_path
from hybrid.io.format import Format

FILE_NAME = "vectorcube.geojson"
#: attrs flag of a vector cube that carries geometries only (load_geojson without properties)
GEOMETRIES_ONLY = "vector_cube_dummy"


def feature_collection(cube: Any) -> dict[str, Any]:
    """The FeatureCollection of a vector cube (see the module docstring)."""
    import shapely.geometry

    from hybrid.geometries import DEFAULT_CRS, vector_cube_features
    from hybrid.io.vector import date_text, number

    features = vector_cube_features(cube)
    geometries = features.to_crs(DEFAULT_CRS)
    cube = cube.transpose("geometries", ...)
    others = [str(d) for d in cube.dims if d != "geometries"]
    labels = [
        [date_text(v) if d == "t" else str(v) for v in cube[d].values]
        if d in cube.coords
        else [str(i) for i in range(cube.sizes[d])]
        for d in others
    ]
    columns = ["~".join(c) for c in itertools.product(*labels)] if others else ["_vc"]
    with_values = not cube.attrs.get(GEOMETRIES_ONLY)
    values = cube.values.reshape(cube.sizes["geometries"], -1)
    out = []
    for index, geometry in enumerate(geometries):
        properties = dict(features.properties[index]) if index < len(features.properties) else {}
        if with_values:
            properties.update({c: number(v) for c, v in zip(columns, values[index], strict=True)})
        out.append(
            {
                "type": "Feature",
                "id": str(index),
                "properties": properties,
                "geometry": shapely.geometry.mapping(geometry),
            }
        )
    return {"type": "FeatureCollection", "features": out}


def write_vector(
    cube: Any, out_dir: Path, *, attrs: Mapping[str, Any], options: Mapping[str, Any]
) -> list[Path]:
    """The registry's vector writer: ``vectorcube.geojson``."""
    path = Path(out_dir) / FILE_NAME
    text = json.dumps(feature_collection(cube))
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return [path]


FORMAT = Format(
    name="GeoJSON",
    title="GeoJSON",
    suffixes=(".geojson",),
    media_type="application/geo+json",
    per_label=False,
    writers={"vector": write_vector},
)
