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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: the base name of these files
STEM = "vectorcube"
#: a vector cube's attribute: the columns of the frame it was read as (load_url's file,
#: whose frame Copernicus keeps as it is: ``read_file`` puts the geometry last)
FRAME_COLUMNS = "vector_frame_columns"


def geometries_frame(cube: Any) -> Any:
    """Copernicus's frame of a vector cube's geometries (``DriverVectorCube._geometries``):
    ``geometry``, then each feature's properties in their order, as geopandas
    ``from_features`` builds it (a file's frame in its own order: :data:`FRAME_COLUMNS`),
    one row per feature (index = feature index), in the geometries' CRS. An
    aggregate_spatial result's Parquet joins it to its rows
    (:func:`hybrid.io.parquet.timeseries_parquet`)."""
    import geopandas as gpd

    from hybrid.geometries import vector_cube_features

    features = vector_cube_features(cube)
    rows = [
        {"geometry": geometry, **{k: v for k, v in properties.items() if k != "geometry"}}
        for geometry, properties in zip(features.geometries, features.properties, strict=True)
    ]
    if not rows:  # a cube without geometries (raster_to_vector of no data)
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=features.crs))
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=features.crs)
    order = [c for c in cube.attrs.get(FRAME_COLUMNS, ()) if c in frame.columns]
    if len(order) == len(frame.columns):
        frame = frame[order]
    return frame


def vector_frame(cube: Any, options: Mapping[str, Any]) -> Any:
    """The GeoDataFrame Copernicus writes of ``cube``, with save_result's ``options``
    (``flatten_prefix``: :func:`hybrid.io.vector.flattened`)."""
    from hybrid.io.vector import flattened

    frame = geometries_frame(cube)
    columns, values = flattened(cube, flatten_prefix(options))
    for index, column in enumerate(columns):
        frame[column] = values[:, index]
    return frame


def flatten_prefix(options: Mapping[str, Any]) -> str | None:
    """save_result's ``flatten_prefix`` option; a ProcessParameterInvalid unless text."""
    from hybrid.errors import ProcessParameterInvalid

    prefix = options.get("flatten_prefix")
    if prefix is not None and not isinstance(prefix, str):
        raise ProcessParameterInvalid(
            f"save_result: option flatten_prefix must be text, not {prefix!r}"
        )
    return prefix


def write_csv(cube: Any, out_dir: Path, options: Mapping[str, Any]) -> list[Path]:
    """``vectorcube.csv``."""
    from hybrid.io.vector import write_file

    return write_file(out_dir, ".csv", vector_frame(cube, options).to_csv(), stem=STEM)


def write_parquet(cube: Any, out_dir: Path, options: Mapping[str, Any]) -> list[Path]:
    """``vectorcube.parquet``."""
    from hybrid.io.vector import write_file

    buffer = io.BytesIO()
    vector_frame(cube, options).to_parquet(buffer)
    return write_file(out_dir, ".parquet", buffer.getvalue(), stem=STEM)
