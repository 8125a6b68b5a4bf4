"""GeoJSON results: a vector cube as Copernicus writes it.

Copernicus writes a vector cube to GeoJSON with GDAL (openeo-python-driver 9e5b49b2
``openeo_driver/datacube.py`` ``DriverVectorCube.write_assets`` L631-686:
``gdf.to_file(path, driver="GeoJSON")`` of ``_as_geopandas_df``), for a batch job and a
synchronous request alike (``VectorCubeResult``): one file ``vectorcube.geojson``, the
frame of :func:`hybrid.io.vector_frame.vector_frame` (the geometries with their
properties, the cube's values flattened into further properties, the labels of the
dimensions after ``geometries`` joined by ``~``: ``2023-06-10T00:00:00Z~band0``) in the
geometries' own CRS, which GDAL names in a ``crs`` member (load_geojson's cube is
longitude/latitude; load_url's and raster_to_vector's keep their CRS); NaN is null.
The legacy JSON of a cube with properties (``to_legacy_save_result`` -> ``to_geojson``,
L594-600) is the FeatureCollection in longitude/latitude of :func:`feature_collection`.

aggregate_spatial's results are not written so: Copernicus keeps them as an
``AggregatePolygonResult`` (openeo-geopyspark-driver ``geopysparkdatacube.py``
``zonal_statistics``), whose ``write_assets`` writes any format but netCDF, CSV and
Parquet as its JSON (openeo-python-driver 9e5b49b2 ``openeo_driver/save_result.py``
L340-364), and whose variant without ``t`` refuses all but JSON, CSV and Parquet
(L854-886). Here the same (``holds_aggregates=False``: the registry writes such a result
as JSON, :func:`hybrid.io.registry.write_result`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.io.format import Format
from hybrid.io.vector import flattened, number


def feature_collection(cube: Any) -> dict[str, Any]:
    """The legacy JSON FeatureCollection of a vector cube with properties, in
    longitude/latitude (Copernicus's ``to_geojson``)."""
    import shapely.geometry

    from hybrid.geometries import DEFAULT_CRS, vector_cube_features

    features = vector_cube_features(cube)
    geometries = features.to_crs(DEFAULT_CRS)
    columns, values = flattened(cube)
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
    """The registry's vector writer: ``vectorcube.geojson`` as GDAL writes the frame;
    read_vector's cube as Copernicus's ``JSONResult`` of ``DelayedVector.geojson``."""
    import io

    from hybrid.io.vector import FILE_GEOJSON, write_file
    from hybrid.io.vector_frame import STEM, vector_frame

    if cube.attrs.get(FILE_GEOJSON) is not None:  # read_vector's
        return _write_file_geojson(cube, out_dir)

    buffer = io.BytesIO()
    vector_frame(cube, options).to_file(buffer, driver="GeoJSON", layer=STEM)
    return write_file(out_dir, ".geojson", buffer.getvalue(), stem=STEM)


def _write_file_geojson(cube: Any, out_dir: Path) -> list[Path]:
    """``result.json`` of the file's GeoJSON as read_vector kept it (openeo-python-driver
    ``save_result.py`` L1009-1010, ``delayed_vector.py`` ``geojson`` L127-146)."""
    import json

    from hybrid.io.vector import FILE_GEOJSON, write_file

    return write_file(out_dir, ".json", json.dumps(cube.attrs[FILE_GEOJSON]), stem="result")


FORMAT = Format(
    name="GeoJSON",
    title="GeoJSON",
    suffixes=(".geojson",),
    media_type="application/geo+json",
    per_label=False,
    writers={"vector": write_vector},
    holds_aggregates=False,
)
