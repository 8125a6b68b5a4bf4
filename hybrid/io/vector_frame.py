"""A vector cube that is not an aggregate_spatial result (load_geojson's, load_url's) as
Copernicus writes it to CSV and Parquet.

``DriverVectorCube.write_assets`` (openeo-python-driver 9e5b49b2 datacube.py L631-686)
writes ``vectorcube.csv`` (pandas ``to_csv``: the row index first, the geometry as WKT)
and ``vectorcube.parquet`` (GeoParquet) of ``_as_geopandas_df`` (L550-592): the frame of
the geometries (``geometry``, then each feature's properties, as geopandas
``from_features`` orders them) with the cube's values as further columns
(:func:`hybrid.io.vector.flattened`; a property of the same name takes its value), in the
geometries' own CRS. JSON is ``result.json`` (``to_legacy_save_result``, L694-725:
:func:`hybrid.io.json_text.timeseries_json`), GeoJSON ``vectorcube.geojson``
(:mod:`hybrid.io.geojson`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

#: the base name of these files
STEM = "vectorcube"


def vector_frame(cube: Any) -> Any:
    """The GeoDataFrame Copernicus writes of ``cube``."""
    import geopandas as gpd

    from hybrid.geometries import vector_cube_features
    from hybrid.io.vector import flattened

    features = vector_cube_features(cube)
    rows = [
        {"geometry": geometry, **dict(properties)}
        for geometry, properties in zip(features.geometries, features.properties, strict=True)
    ]
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=features.crs)
    columns, values = flattened(cube)
    for index, column in enumerate(columns):
        frame[column] = values[:, index]
    return frame


def write_csv(cube: Any, out_dir: Path) -> list[Path]:
    """``vectorcube.csv``."""
    from hybrid.io.vector import write_file

    return write_file(out_dir, ".csv", vector_frame(cube).to_csv(), stem=STEM)


def write_parquet(cube: Any, out_dir: Path) -> list[Path]:
    """``vectorcube.parquet``."""
    from hybrid.io.vector import write_file

    buffer = io.BytesIO()
    vector_frame(cube).to_parquet(buffer)
    return write_file(out_dir, ".parquet", buffer.getvalue(), stem=STEM)
