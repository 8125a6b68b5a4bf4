"""GeoJSON results: a vector cube as a FeatureCollection in longitude/latitude.

As Copernicus writes a vector cube (openeo-python-driver ``openeo_driver/datacube.py``
``DriverVectorCube.write_assets`` and ``to_geojson``; the format listed by
openeo-geopyspark-driver ``backend.py`` ``file_formats``: "GeoJSON is always in
EPSG:4326"): one file ``vectorcube.geojson``, one Feature per geometry (reprojected to
EPSG:4326) with its GeoJSON properties, and the cube's values flattened into further
properties, the labels of the dimensions after ``geometries`` joined by ``~``
(``2023-06-10T00:00:00Z~B04``; ``_as_geopandas_df``). A cube of load_geojson without
properties holds no values and adds none.

aggregate_spatial's results are not written so: Copernicus keeps them as an
``AggregatePolygonResult`` (openeo-geopyspark-driver ``geopysparkdatacube.py``
``zonal_statistics``), whose ``write_assets`` writes any format but netCDF, CSV and
Parquet as its JSON (openeo-python-driver 9e5b49b2 ``openeo_driver/save_result.py``
L340-364), and whose variant without ``t`` refuses all but JSON, CSV and Parquet
(L854-886). Here the same (``holds_aggregates=False``: the registry writes such a result
as JSON, :func:`hybrid.io.registry.write_result`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.atomic import atomic_path
from hybrid.io.format import Format
from hybrid.io.vector import flattened, number

FILE_NAME = "vectorcube.geojson"


def feature_collection(cube: Any, prefix: str | None = None) -> dict[str, Any]:
    """The FeatureCollection of a vector cube (see the module docstring), its value
    columns after ``prefix`` (save_result's ``flatten_prefix``)."""
    import shapely.geometry

    from hybrid.geometries import DEFAULT_CRS, vector_cube_features

    features = vector_cube_features(cube)
    geometries = features.to_crs(DEFAULT_CRS)
    columns, values = flattened(cube, prefix)
    out = []
    for index, geometry in enumerate(geometries):
        properties = dict(features.properties[index]) if index < len(features.properties) else {}
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
    """The registry's vector writer: ``vectorcube.geojson`` (load_geojson's cube)."""
    path = Path(out_dir) / FILE_NAME
    from hybrid.io.vector_frame import flatten_prefix

    text = json.dumps(feature_collection(cube, flatten_prefix(options)))
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
    holds_aggregates=False,
)
